// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sampler_access: which node accesses which page of the managed processes.
 *
 * Two sources produce the same record, (tgid, page, accessing node, weight, source), and write
 * it to one ring buffer that user space consumes and adds up per interval:
 *
 *   on_fault   raw_tp/page_fault_user (x86-64 exceptions:page_fault_user). Every user page
 *              fault: first touches, write faults after soft-dirty clearing (the loader's
 *              re-arming), and NUMA hinting faults while kernel NUMA balancing scans. Weight 1.
 *   on_sample  perf_event. Memory-access samples of a hardware PMU (PEBS load latency, IBS op)
 *              opened by the loader with PERF_SAMPLE_ADDR. Weight = the sample period.
 *
 * The accessing node is the node of the CPU the program runs on: the faulting CPU (the tracepoint
 * fires in the faulting task's context) or the sampled CPU (perf overflow handlers run there).
 *
 * A ring buffer rather than a hash map aggregating in the kernel: the fault path is what the
 * managed processes pay for, and a record costs it a fraction of a hash-map insert (see
 * bpf/sampler_records.h). Records are submitted without waking user space, which consumes them
 * at its own pace, until the ring holds more than wakeup_bytes.
 *
 * raw_tp rather than a classic tracepoint: no tracefs needed, the arguments are the tracepoint's
 * TP_PROTO (identical on 6.1, 6.12 and 6.18, while the raw struct behind the classic context is
 * named trace_event_raw_x86_exceptions on 6.1 and trace_event_raw_exceptions on 6.18), and
 * BPF_PROG_TEST_RUN can drive raw_tp programs with synthetic arguments.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sampler_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Wake the consumer once the ring holds more than this (user space sets half the ring). */
const volatile __u64 wakeup_bytes = PAGEMIG_SAMPLER_DEF_ACCESS_RING / 2;

/* x86 page-fault error code: the access was a write (X86_PF_WRITE). */
#define PF_WRITE 0x2

/* Page-aligned addresses are what the records carry. */
#define PAGE_MASK (~((1ULL << PAGEMIG_SAMPLER_PAGE_SHIFT) - 1))

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_ACCESS_RING);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pagemig_access_stats);
} access_stats SEC(".maps");

static __always_inline struct pagemig_access_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&access_stats, &zero);
}

/* Count something unusual (the common path touches no counter). */
#define COUNT(field)                                                     \
	do {                                                             \
		struct pagemig_access_stats *st__ = stats();             \
                                                                         \
		if (st__) /* a one-entry array: only for the verifier */ \
			st__->field++;                                   \
	} while (0)

static __always_inline void record(__u32 tgid, __u64 addr, __u32 weight, __u8 source, bool write)
{
	struct pagemig_access_record *r;
	bool unknown;
	__u64 flags;

	r = bpf_ringbuf_reserve(&samples, sizeof(*r), 0);
	if (!r) {
		COUNT(ring_full);
		return;
	}
	r->page = addr & PAGE_MASK;
	r->tgid = tgid;
	r->weight = weight;
	r->node = sampler_cpu_node(&unknown);
	r->source = source;
	r->write = write;
	r->pad = 0;
	if (unknown)
		COUNT(no_node);

	/* Past the threshold, wake the consumer (a no-op while a wakeup is pending). */
	flags = BPF_RB_NO_WAKEUP;
	if (wakeup_bytes && bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) > wakeup_bytes) {
		flags = BPF_RB_FORCE_WAKEUP;
		COUNT(wakeups);
	}
	bpf_ringbuf_submit(r, flags);
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(on_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* Unmanaged processes cost a bit test and nothing else. */
	if (!sampler_managed(tgid))
		return 0;
	record(tgid, address, 1, PAGEMIG_SAMPLE_FAULT, error_code & PF_WRITE);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 addr, period;

	if (!sampler_managed(tgid))
		return 0;
	/* The data address of the sampled access (PERF_SAMPLE_ADDR); 0 when the PMU could not
	 * attribute one, e.g. an IBS op that was not a load or store. */
	addr = ctx->addr;
	if (!addr) {
		COUNT(no_addr);
		return 0;
	}
	period = ctx->sample_period;
	record(tgid, addr, period > 0xffffffff ? 0xffffffff : period ?: 1, PAGEMIG_SAMPLE_PMU,
	       false);
	return 0;
}
