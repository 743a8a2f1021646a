// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sampler_access: which node accesses which page of the managed processes.
 *
 * Two sources produce the same record, (tgid, page, accessing node, weight, source), and write
 * it to one ring buffer that user space consumes and adds up per interval:
 *
 *   on_fault      raw_tp/page_fault_user (x86-64 exceptions:page_fault_user). Every user page
 *                 fault: first touches, write faults after soft-dirty clearing (the loader's
 *                 re-arming), and NUMA hinting faults while kernel NUMA balancing scans.
 *                 Weight 1; the record says whether the page was present (a protection
 *                 fault: the re-armed kind) or not (a first touch: an allocation, which user
 *                 space does not count as an access). Staged per CPU and written
 *                 PAGEMIG_ACCESS_BATCH at a time.
 *   on_sample     perf_event. Memory-access samples of a hardware PMU (PEBS load latency, IBS
 *                 op) opened by the loader with PERF_SAMPLE_ADDR. Weight = the sample period.
 *                 Written one at a time.
 *   flush_staged  not attached: user space runs it with BPF_PROG_TEST_RUN on each CPU that has
 *                 fault samples staged (BPF_F_TEST_RUN_ON_CPU) before it reads the ring.
 *
 * The accessing node is the node of the CPU the program runs on: the faulting CPU (the tracepoint
 * fires in the faulting task's context) or the sampled CPU (perf overflow handlers run there).
 *
 * A ring buffer rather than a hash map aggregating in the kernel: the fault path is what the
 * managed processes pay for, and a record costs it a fraction of a hash-map insert (see
 * bpf/sampler_records.h). Records are submitted without waking user space, which consumes them
 * at its own pace, until the ring holds more than wakeup_bytes.
 *
 * Staging: a ring-buffer record costs a reserve (a spinlock taken with interrupts off), a query
 * and a submit, which was most of what a managed fault paid over an empty program
 * (bench/sampler). on_fault therefore appends its sample to a per-CPU array and writes the array
 * to the ring once it holds PAGEMIG_ACCESS_BATCH samples: one ring operation per batch.
 * Samples staged below a full batch would wait indefinitely on a CPU that stops faulting, so the
 * drain runs flush_staged on each CPU that has some, first; nothing staged before a drain is
 * missing from it.
 *
 * The busy flag: with BPF_F_TEST_RUN_ON_CPU for another CPU the kernel runs flush_staged there in
 * an IPI (smp_call_function_single), which may land while on_fault is in the middle of staging
 * on that CPU: between writing r[n] and storing n + 1, or between writing a full batch to the
 * ring and resetting n. A flush at that moment would hand out a record not yet written, or the
 * same batch twice. on_fault sets busy before it touches the area and clears it after its last
 * store (compiler barriers keep the stores in that order; both run on the same CPU, so no
 * memory barrier is needed), and the flush leaves a busy area alone and says so (returns
 * PAGEMIG_ACCESS_FLUSH_BUSY, counted in flush_busy); user space tries once more, and what it
 * still cannot flush arrives with the next batch or drain, late but not lost. On x86 the
 * tracepoint fires before the fault handler enables interrupts, so today the IPI waits for
 * on_fault to return; the flag makes the protocol independent of that. on_sample does not
 * stage: it runs in NMI context, where it can interrupt on_fault mid-staging itself, and PMU
 * samples are already rate-limited by the sample period.
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

/* x86 page-fault error code: the page was present (X86_PF_PROT), the access was a write
 * (X86_PF_WRITE). */
#define PF_PROT	 0x1
#define PF_WRITE 0x2

/* Page-aligned addresses are what the records carry. */
#define PAGE_MASK (~((1ULL << PAGEMIG_SAMPLER_PAGE_SHIFT) - 1))

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_ACCESS_RING);
} samples SEC(".maps");

/* Fault samples staged on this CPU (see "Staging" above). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pagemig_access_stage);
} staging SEC(".maps");

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
#define COUNT_N(field, n)                                                \
	do {                                                             \
		struct pagemig_access_stats *st__ = stats();             \
                                                                         \
		if (st__) /* a one-entry array: only for the verifier */ \
			st__->field += (n);                              \
	} while (0)
#define COUNT(field) COUNT_N(field, 1)

/* Ring-buffer flags for a record: past the threshold, wake the consumer (a no-op while a wakeup
 * is pending); otherwise let it read at its own pace. */
static __always_inline __u64 wakeup_flags(void)
{
	if (wakeup_bytes && bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) > wakeup_bytes) {
		COUNT(wakeups);
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill(struct pagemig_access_record *r, __u32 tgid, __u64 addr,
				 __u32 weight, __u8 source, bool write, bool present)
{
	bool unknown;

	r->page = addr & PAGE_MASK;
	r->tgid = tgid;
	r->weight = weight;
	r->node = sampler_cpu_node(&unknown);
	r->source = source;
	r->write = write;
	r->present = present;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
	if (unknown)
		COUNT(no_node);
}

/* One sample, written to the ring on its own (PMU samples). */
static __always_inline void record(__u32 tgid, __u64 addr, __u32 weight, __u8 source, bool write)
{
	struct pagemig_access_record *r;
	__u64 flags;

	r = bpf_ringbuf_reserve(&samples, sizeof(*r), 0);
	if (!r) {
		COUNT(ring_full);
		return;
	}
	fill(r, tgid, addr, weight, source, write, false);
	flags = wakeup_flags();
	bpf_ringbuf_submit(r, flags);
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(on_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, n;
	struct pagemig_access_stage *st;

	/* Unmanaged processes cost a bit test and nothing else. */
	if (!sampler_managed(tgid))
		return 0;
	st = bpf_map_lookup_elem(&staging, &zero);
	if (!st) /* a one-entry array: only for the verifier */
		return 0;
	/* Nothing below this line may move above it, nor any store below past the clear. */
	*(volatile __u32 *)&st->busy = 1;
	barrier();
	n = st->n & (PAGEMIG_ACCESS_BATCH - 1); /* < PAGEMIG_ACCESS_BATCH by construction */
	fill(&st->r[n], tgid, address, 1, PAGEMIG_SAMPLE_FAULT, error_code & PF_WRITE,
	     error_code & PF_PROT);
	if (++n == PAGEMIG_ACCESS_BATCH) {
		if (bpf_ringbuf_output(&samples, st->r, sizeof(st->r), wakeup_flags()))
			COUNT_N(ring_full, PAGEMIG_ACCESS_BATCH);
		n = 0;
	}
	st->n = n;
	barrier();
	*(volatile __u32 *)&st->busy = 0;
	return 0;
}

/*
 * Move the samples staged on this CPU to the ring, in the order they were taken. Returns how
 * many, or PAGEMIG_ACCESS_FLUSH_BUSY when on_fault was staging on this CPU (see "The busy flag"
 * above). Run by user space with BPF_PROG_TEST_RUN on the CPU to flush; never attached.
 */
SEC("raw_tp")
int flush_staged(void *ctx)
{
	struct pagemig_access_stage *st;
	__u32 zero = 0, n;

	st = bpf_map_lookup_elem(&staging, &zero);
	if (!st)
		return 0;
	if (*(volatile __u32 *)&st->busy) {
		COUNT(flush_busy);
		return (int)PAGEMIG_ACCESS_FLUSH_BUSY;
	}
	n = st->n;
	if (!n)
		return 0;
	if (n > PAGEMIG_ACCESS_BATCH) /* cannot happen; bounds the size for the verifier */
		n = PAGEMIG_ACCESS_BATCH;
	/* No wakeup: the caller reads the ring right after the flush. */
	if (bpf_ringbuf_output(&samples, st->r, n * sizeof(st->r[0]), BPF_RB_NO_WAKEUP))
		COUNT_N(ring_full, n);
	st->n = 0;
	return (int)n;
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
