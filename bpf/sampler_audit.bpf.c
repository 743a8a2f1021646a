// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * sampler_audit: what page migrations the kernel performed, and in which documented steps.
 *
 *   migrate:mm_migrate_pages_start  a migrate_pages() call begins (mode, reason)
 *   migrate:set_migration_pte       documented step 4: a mapping of the page now holds a
 *                                   migration entry (one event per mapping)
 *   migrate:remove_migration_pte    documented step 16: the mapping points at a real page
 *                                   again, the new one, or the old one after a rollback
 *   thp:set/remove_migration_pmd    the same for PMD-mapped transparent huge pages
 *   migrate:mm_migrate_pages        the call ended (pages succeeded and failed, reason)
 *
 * For the movers being audited (tgids in the movers map, normally the daemon itself, or every
 * mover with audit_all) each event goes to the ring buffer with the calling tid/tgid, and user
 * space rebuilds per page which steps it passed. For everyone, migrate_pages() calls and their
 * pages are counted by reason in a per-CPU array, so the daemon knows what other movers (NUMA
 * balancing, compaction, demotion, DAMON) are doing without a ring-buffer record per page.
 *
 * Steps (two per page moved) are staged per CPU and written PAGEMIG_AUDIT_BATCH to a record
 * (struct pagemig_mig_steps); START and END are written on their own, after whatever the CPU
 * has staged, and so is everything staged when another thread gets the CPU (sched_switch:
 * sampler_sched's program, or on_switch here when that one is not loaded). So the ring holds
 * every thread's events in the order they happened, as it did with one record per event, at a
 * fraction of the reservations. Nothing is left staged for long: a thread that moves pages
 * either ends its call (END) or leaves the CPU. The ring, the counters and the staging area
 * are shared with sampler_sched (sampler_audit_stage.bpf.h).
 *
 * All raw_tp: the arguments are scalars, so BPF_PROG_TEST_RUN can drive every program here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "sampler_records.h"
#include "sampler_audit_stage.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Send every mover's events to the ring buffer, not only the movers map's. Heavy: compaction
 * alone can produce thousands of records a second. */
const volatile bool audit_all = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_MOVERS);
	__type(key, __u32);
	__type(value, __u8);
} movers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PAGEMIG_MR__COUNT);
	__type(key, __u32);
	__type(value, struct pagemig_mig_counts);
} by_reason SEC(".maps");

/*
 * CO-RE flavours for what this build's vmlinux.h may lack. The kernel's names are matched without
 * the ___suffix; libbpf resolves each to the running kernel's value, or to "does not exist".
 */
enum migrate_reason___damon {
	MR_DAMON___damon = 9,
};
enum migrate_mode___nocopy {
	MIGRATE_SYNC_NO_COPY___nocopy = 3,
};
/* Newer kernels (6.12 and 6.18, not 6.1) have large_folio_split in mm_migrate_pages: in its
 * TP_PROTO and its raw struct alike, as one TRACE_EVENT defines both. */
struct trace_event_raw_mm_migrate_pages___split {
	unsigned long large_folio_split;
};

/*
 * Argument i of a raw_tp context, loaded at a constant offset. Where two branches read the same
 * argument from different slots, clang would otherwise merge the loads into one at a computed
 * offset, and the verifier refuses any access through a modified context pointer.
 */
#define CTX_ARG(ctx, i)                                                                    \
	({                                                                                 \
		__u64 __v;                                                                 \
		asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(__v) : "r"(ctx), "i"((i)*8)); \
		__v;                                                                       \
	})

#define REASON(kname, ours)                                                   \
	do {                                                                  \
		if (bpf_core_enum_value_exists(enum migrate_reason, kname) && \
		    r == bpf_core_enum_value(enum migrate_reason, kname))     \
			return ours;                                          \
	} while (0)

/* The kernel's migrate_reason value (numbering differs between kernels) -> ours. */
static __always_inline __u8 reason_of(__u64 r)
{
	REASON(MR_COMPACTION, PAGEMIG_MR_COMPACTION);
	REASON(MR_MEMORY_FAILURE, PAGEMIG_MR_MEMORY_FAILURE);
	REASON(MR_MEMORY_HOTPLUG, PAGEMIG_MR_MEMORY_HOTPLUG);
	REASON(MR_SYSCALL, PAGEMIG_MR_SYSCALL);
	REASON(MR_MEMPOLICY_MBIND, PAGEMIG_MR_MEMPOLICY_MBIND);
	REASON(MR_NUMA_MISPLACED, PAGEMIG_MR_NUMA_MISPLACED);
	REASON(MR_CONTIG_RANGE, PAGEMIG_MR_CONTIG_RANGE);
	REASON(MR_LONGTERM_PIN, PAGEMIG_MR_LONGTERM_PIN);
	REASON(MR_DEMOTION, PAGEMIG_MR_DEMOTION);
	if (bpf_core_enum_value_exists(enum migrate_reason___damon, MR_DAMON___damon) &&
	    r == bpf_core_enum_value(enum migrate_reason___damon, MR_DAMON___damon))
		return PAGEMIG_MR_DAMON;
	return PAGEMIG_MR_OTHER;
}

static __always_inline __u8 mode_of(__u64 m)
{
	if (bpf_core_enum_value_exists(enum migrate_mode, MIGRATE_ASYNC) &&
	    m == bpf_core_enum_value(enum migrate_mode, MIGRATE_ASYNC))
		return PAGEMIG_MM_ASYNC;
	if (bpf_core_enum_value_exists(enum migrate_mode, MIGRATE_SYNC_LIGHT) &&
	    m == bpf_core_enum_value(enum migrate_mode, MIGRATE_SYNC_LIGHT))
		return PAGEMIG_MM_SYNC_LIGHT;
	if (bpf_core_enum_value_exists(enum migrate_mode, MIGRATE_SYNC) &&
	    m == bpf_core_enum_value(enum migrate_mode, MIGRATE_SYNC))
		return PAGEMIG_MM_SYNC;
	if (bpf_core_enum_value_exists(enum migrate_mode___nocopy, MIGRATE_SYNC_NO_COPY___nocopy) &&
	    m == bpf_core_enum_value(enum migrate_mode___nocopy, MIGRATE_SYNC_NO_COPY___nocopy))
		return PAGEMIG_MM_SYNC_NO_COPY;
	return PAGEMIG_MM_OTHER;
}

static __always_inline bool audited(__u32 tgid)
{
	return audit_all || bpf_map_lookup_elem(&movers, &tgid);
}

/* A ring-buffer record for the current task if it is audited, or NULL; written after the steps
 * staged on this CPU. */
static __always_inline struct pagemig_mig_event *begin(__u8 type)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct pagemig_mig_steps *sp;
	struct pagemig_audit_stats *st;
	struct pagemig_mig_event *e;

	if (!audited(tgid))
		return NULL;
	sp = audit_stage();
	if (sp)
		audit_flush(sp);
	st = audit_counters();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		if (st)
			st->dropped++;
		return NULL;
	}
	if (st)
		st->events++;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts = bpf_ktime_get_ns();
	e->tid = (__u32)id;
	e->tgid = tgid;
	e->type = type;
	e->cpu = bpf_get_smp_processor_id();
	return e;
}

SEC("raw_tp/mm_migrate_pages_start")
int BPF_PROG(on_migrate_start, __u64 mode, __u64 reason)
{
	struct pagemig_mig_event *e = begin(PAGEMIG_MIG_START);

	if (!e)
		return 0;
	e->reason = reason_of(reason);
	e->mode = mode_of(mode);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/mm_migrate_pages")
int on_migrate_end(__u64 *ctx)
{
	/*
	 * TP_PROTO(succeeded, failed, thp_succeeded, thp_failed, thp_split, [large_folio_split,]
	 * mode, reason): 7 arguments on 6.1, 8 since large_folio_split came. The raw_tp attach
	 * refuses a program that reads past the last argument, so only the branch for the running
	 * kernel may read: the field check is a constant after relocation and the verifier never
	 * visits the other branch.
	 */
	__u64 mode, reason, thp_split;
	struct pagemig_mig_counts *c;
	struct pagemig_mig_event *e;
	__u32 idx;

	if (bpf_core_field_exists(struct trace_event_raw_mm_migrate_pages___split,
				  large_folio_split)) {
		mode = CTX_ARG(ctx, 6);
		reason = CTX_ARG(ctx, 7);
	} else {
		mode = CTX_ARG(ctx, 5);
		reason = CTX_ARG(ctx, 6);
	}
	thp_split = ctx[4];

	idx = reason_of(reason);
	c = bpf_map_lookup_elem(&by_reason, &idx);
	if (c) {
		c->calls++;
		c->succeeded += ctx[0];
		c->failed += ctx[1];
		c->thp_succeeded += ctx[2];
		c->thp_failed += ctx[3];
		c->thp_split += thp_split;
	}

	e = begin(PAGEMIG_MIG_END);
	if (!e)
		return 0;
	e->reason = idx;
	e->mode = mode_of(mode);
	e->end.succeeded = ctx[0];
	e->end.failed = ctx[1];
	e->end.thp_succeeded = ctx[2];
	e->end.thp_failed = ctx[3];
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Stage a step of the current task if it is audited. Steps already staged are this thread's
 * (it was found audited when they began); no lookup in movers for them. */
static __always_inline void pte_event(__u8 type, __u64 addr, __u64 entry, __s8 order)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pagemig_mig_steps *sp = audit_stage();
	struct pagemig_mig_step *step;
	__u32 n;

	if (!sp)
		return;
	if (!sp->n || sp->tid != (__u32)id) {
		if (!audited(id >> 32))
			return;
		audit_flush(sp); /* another thread's: not expected, sched_switch wrote them */
		sp->tid = (__u32)id;
		sp->tgid = id >> 32;
		sp->type = PAGEMIG_MIG_STEPS;
		sp->cpu = bpf_get_smp_processor_id();
	}
	n = sp->n & (PAGEMIG_AUDIT_BATCH - 1); /* < PAGEMIG_AUDIT_BATCH: a full batch is written */
	step = &sp->s[n];
	step->addr = addr;
	step->entry = entry;
	step->type = type;
	step->order = order;
	sp->n = n + 1;
	if (n + 1 == PAGEMIG_AUDIT_BATCH)
		audit_flush(sp);
}

SEC("raw_tp/set_migration_pte")
int BPF_PROG(on_set_pte, unsigned long addr, unsigned long pte, int order)
{
	pte_event(PAGEMIG_MIG_SET_PTE, addr, pte, order);
	return 0;
}

SEC("raw_tp/remove_migration_pte")
int BPF_PROG(on_remove_pte, unsigned long addr, unsigned long pte, int order)
{
	pte_event(PAGEMIG_MIG_REMOVE_PTE, addr, pte, order);
	return 0;
}

/* Only in kernels with THP migration (CONFIG_ARCH_ENABLE_THP_MIGRATION); optional. */
SEC("raw_tp/set_migration_pmd")
int BPF_PROG(on_set_pmd, unsigned long addr, unsigned long pmd)
{
	pte_event(PAGEMIG_MIG_SET_PMD, addr, pmd, -1);
	return 0;
}

SEC("raw_tp/remove_migration_pmd")
int BPF_PROG(on_remove_pmd, unsigned long addr, unsigned long pmd)
{
	pte_event(PAGEMIG_MIG_REMOVE_PMD, addr, pmd, -1);
	return 0;
}

/* Another thread gets this CPU: what the last one staged goes to the ring before it can run
 * (and write anything) elsewhere. Attached only when sampler_sched, whose sched_switch program
 * does the same, is not loaded. */
SEC("raw_tp/sched_switch")
int on_switch(void *ctx)
{
	struct pagemig_mig_steps *sp = audit_stage();

	if (sp && sp->n)
		audit_flush(sp);
	return 0;
}
