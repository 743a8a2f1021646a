// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sampler_sched: where the managed processes run, as CPU time per (tgid, node).
 *
 * raw_tp/sched_switch sees every context switch on the CPU it runs on. When a thread of a managed
 * process leaves a CPU, the CPU time of the slice it just ran is credited to (its tgid, node of
 * this CPU). Times are cumulative; user space takes differences.
 *
 * CPU time is the scheduler's own account, task->se.sum_exec_runtime (what getrusage and
 * /proc/PID/schedstat report), not wall time between switches: it leaves out time stolen by a
 * hypervisor and interrupt time, like the process's own CPU-time clocks. A per-CPU slot keeps
 * the counter at switch-in; a slice whose switch-in was not seen (the process was on the CPU
 * when it became managed, or when the program was attached) is measured from
 * se.prev_sum_exec_runtime, the scheduler's mark at the start of the slice.
 *
 * A slice is credited when it ends: a lone CPU-bound task that is never switched out shows up
 * when it next sleeps or is preempted (kernel threads preempt everything now and then).
 *
 * The same program writes the migration steps the leaving thread staged on this CPU to the
 * audit's ring (sampler_audit_stage.bpf.h): one program on the scheduler's hot path, not two.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "sampler_common.bpf.h"
#include "sampler_audit_stage.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_ONCPU);
	__type(key, struct pagemig_oncpu_key);
	__type(value, struct pagemig_oncpu_val);
} oncpu SEC(".maps");

/* The managed thread switched in on this CPU (tid 0: none), and its CPU time then. */
struct slice {
	__u64 sum_at_start;
	__u32 tid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slice);
} current_slice SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pagemig_sched_stats);
} sched_stats SEC(".maps");

static __always_inline void credit(struct pagemig_sched_stats *st, __u32 tgid, __u64 ns)
{
	struct pagemig_oncpu_key key = {.tgid = tgid};
	struct pagemig_oncpu_val *val, init = {.ns = ns, .slices = 1};
	bool unknown;

	key.node = sampler_cpu_node(&unknown);
	if (unknown)
		st->no_node++;
	st->slices++;
	val = bpf_map_lookup_elem(&oncpu, &key);
	if (val) {
		/* Only this CPU updates this slice, but other CPUs credit the same key. */
		__sync_fetch_and_add(&val->ns, ns);
		__sync_fetch_and_add(&val->slices, 1);
		return;
	}
	if (!bpf_map_update_elem(&oncpu, &key, &init, BPF_NOEXIST))
		return;
	val = bpf_map_lookup_elem(&oncpu, &key);
	if (!val) {
		st->update_failed++;
		return;
	}
	__sync_fetch_and_add(&val->ns, ns);
	__sync_fetch_and_add(&val->slices, 1);
}

/* TP_PROTO(bool preempt, struct task_struct *prev, struct task_struct *next, ...) on 6.1 to 6.18;
 * a fourth argument (prev_state) is not read. */
SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct pagemig_mig_steps *sp = audit_stage();
	struct pagemig_sched_stats *st;
	__u32 zero = 0, tgid, tid;
	struct slice *cur;
	__u64 sum, start;

	if (sp && sp->n)
		audit_flush(sp);
	st = bpf_map_lookup_elem(&sched_stats, &zero);
	cur = bpf_map_lookup_elem(&current_slice, &zero);
	if (!st || !cur)
		return 0;
	st->switches++;

	/* raw_tp arguments are plain numbers to the verifier: read through CO-RE. The scheduler
	 * has brought prev's runtime up to date before this tracepoint. */
	tgid = BPF_CORE_READ(prev, tgid);
	tid = BPF_CORE_READ(prev, pid);
	if (tgid && sampler_managed(tgid)) {
		sum = BPF_CORE_READ(prev, se.sum_exec_runtime);
		if (cur->tid == tid)
			start = cur->sum_at_start;
		else
			start = BPF_CORE_READ(prev, se.prev_sum_exec_runtime);
		if (sum > start)
			credit(st, tgid, sum - start);
	}

	tgid = BPF_CORE_READ(next, tgid);
	if (tgid && sampler_managed(tgid)) {
		cur->tid = BPF_CORE_READ(next, pid);
		cur->sum_at_start = BPF_CORE_READ(next, se.sum_exec_runtime);
	} else {
		cur->tid = 0;
	}
	return 0;
}
