/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The migration audit's ring buffer, counters and per-CPU step staging, declared alike by
 * sampler_audit (which stages the steps) and sampler_sched (whose sched_switch program writes
 * what a thread staged when it leaves the CPU). The loader creates each map once and hands the
 * same fd to both objects (bpf_map__reuse_fd()), so one program on sched_switch serves both;
 * sampler_audit has a sched_switch program of its own for when sampler_sched is not loaded.
 */
#ifndef PAGEMIG_BPF_SAMPLER_AUDIT_STAGE_BPF_H
#define PAGEMIG_BPF_SAMPLER_AUDIT_STAGE_BPF_H

#include "sampler_records.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_RINGBUF);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pagemig_audit_stats);
} audit_stats SEC(".maps");

/* Steps staged on this CPU, all of one thread (struct pagemig_mig_steps). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pagemig_mig_steps);
} staged SEC(".maps");

static __always_inline struct pagemig_audit_stats *audit_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&audit_stats, &zero);
}

static __always_inline struct pagemig_mig_steps *audit_stage(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&staged, &zero);
}

/* Write the steps staged on this CPU to the ring and start over. */
static __always_inline void audit_flush(struct pagemig_mig_steps *sp)
{
	struct pagemig_audit_stats *st = audit_counters();
	__u32 n = sp->n;

	if (!n)
		return;
	if (n > PAGEMIG_AUDIT_BATCH) /* never: for the verifier, which checks the length */
		n = PAGEMIG_AUDIT_BATCH;
	sp->ts = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&events, sp,
			       offsetof(struct pagemig_mig_steps, s) +
				       n * sizeof(struct pagemig_mig_step),
			       0)) {
		if (st)
			st->dropped += n;
	} else if (st) {
		st->events += n;
	}
	sp->n = 0;
}

#endif /* PAGEMIG_BPF_SAMPLER_AUDIT_STAGE_BPF_H */
