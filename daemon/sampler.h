/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sampler: pagemigd's eBPF statistics, loaded into the running kernel and drained into
 * snapshots the policy engine reads.
 *
 * It loads what the kernel supports and says, per source, what it got (pagemig_sampler_sources):
 *
 *   fault      which node touches which page: exceptions:page_fault_user, node of the faulting CPU
 *   pmu        the same from hardware memory-access samples (PEBS, IBS), where there is a PMU
 *   softdirty  re-arming: clears the soft-dirty bits of the managed processes so that their next
 *              write to each page faults again (and is sampled) instead of only the first touch
 *   numa_hint  kernel NUMA balancing's hinting faults, seen through the fault source while
 *              balancing is on (observed only: the sampler never switches balancing on)
 *   oncpu      where processes run: on-CPU time per (process, node) from sched:sched_switch
 *   audit      migrate:* events: which steps each page moved by an audited mover passed, and
 *              pages moved by every mover, counted by reason
 *   audit_thp  thp:set/remove_migration_pmd, the audit for PMD-mapped huge pages
 *
 * Only managed processes (pagemig_sampler_manage) are sampled. Every interval the caller drains
 * the kernel's maps into a snapshot with exponentially decayed scores
 * (pagemig_sampler_drain). Memory is bounded by the configuration: pagemig_sampler_memory()
 * reports what is in use, pagemig_sampler_estimate() what a configuration will use.
 *
 * Conventions: functions return 0 (or a count) on success and a negative errno on failure. The
 * sampler never prints; it reports through the log callback of its configuration, and routes
 * libbpf's own messages there too. Not thread-safe: one thread drives one sampler.
 */
#ifndef PAGEMIG_DAEMON_SAMPLER_H
#define PAGEMIG_DAEMON_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampler_records.h" /* bpf/: records shared with the BPF programs */
#include "sampler_audit.h"

struct perf_event_attr;
struct pagemig_sampler;

enum pagemig_source {
	PAGEMIG_SOURCE_FAULT = 0,
	PAGEMIG_SOURCE_PMU,
	PAGEMIG_SOURCE_SOFTDIRTY,
	PAGEMIG_SOURCE_NUMA_HINT,
	PAGEMIG_SOURCE_ONCPU,
	PAGEMIG_SOURCE_AUDIT,
	PAGEMIG_SOURCE_AUDIT_THP,
	PAGEMIG_SOURCE__COUNT
};

#define PAGEMIG_SOURCE_BIT(s) (1u << (s))
#define PAGEMIG_SOURCES_ALL   ((1u << PAGEMIG_SOURCE__COUNT) - 1)

enum pagemig_source_state {
	PAGEMIG_SOURCE_OFF = 0, /* not asked for in the configuration */
	PAGEMIG_SOURCE_ACTIVE,	/* loaded and attached (or, for softdirty, working) */
	PAGEMIG_SOURCE_IDLE,	/* available, nothing to observe now (numa_hint: balancing off) */
	PAGEMIG_SOURCE_UNAVAILABLE, /* this kernel or machine does not have it */
	PAGEMIG_SOURCE_FAILED,	    /* should be there but loading or attaching failed */
};

struct pagemig_source_status {
	enum pagemig_source source;
	enum pagemig_source_state state;
	int err;	  /* -errno behind UNAVAILABLE or FAILED, 0 otherwise */
	char detail[160]; /* one line: what was loaded, or why not */
};

/* "fault", "pmu", ...; "?" when out of range. */
const char *pagemig_source_name(enum pagemig_source source);
/* "off", "active", "idle", "unavailable", "failed"; "?" when out of range. */
const char *pagemig_source_state_name(enum pagemig_source_state state);

/* Log sink: level is a syslog priority (LOG_ERR .. LOG_DEBUG), msg one line without newline. */
typedef void (*pagemig_sampler_log_fn)(int level, const char *msg, void *ctx);

#define PAGEMIG_SAMPLER_DEF_HALF_LIFE_MS 10000
#define PAGEMIG_SAMPLER_DEF_MIN_SCORE	 0.05
#define PAGEMIG_SAMPLER_DEF_PMU_PERIOD	 10007 /* prime: no lock-step with loops */
#define PAGEMIG_SAMPLER_DEF_AUDIT_PAGES	 65536

/* Zero-fill, set sz = sizeof(struct pagemig_sampler_config), then what you need; 0 (or NULL)
 * means the default for every field. Fields may only be added at the end. */
struct pagemig_sampler_config {
	size_t sz;
	unsigned int sources;	    /* PAGEMIG_SOURCE_BIT()s wanted; 0 = all */
	unsigned int max_pages;	    /* (tgid, page, node, source) entries added up between two
				       drains; samples of further entries are dropped (counted,
				       and logged once); 0 = 524288 */
	unsigned int max_tgids;	    /* managed processes; 0 = 1024 */
	unsigned int max_oncpu;	    /* (tgid, node) on-CPU entries; 0 = max_tgids * nodes */
	unsigned int max_movers;    /* audited movers; 0 = 64 */
	unsigned int ringbuf_bytes; /* audit ring buffer, rounded up to a power of 2 of at least
				       a page; 0 = 1 MiB */
	unsigned int max_snapshot;  /* decayed page entries kept; the lowest scores are dropped
				       beyond it (counted); 0 = max_pages */
	unsigned int half_life_ms;  /* a score halves without new samples in this time;
				       0 = 10 s */
	double min_score;	    /* entries whose score decays below this are forgotten;
				       0 = 0.05 (a single sample is forgotten after ~4.3 half
				       lives) */
	unsigned int rearm_ms;	    /* soft-dirty re-arming at most this often; 0 = every drain */
	unsigned int pmu_period;    /* PMU sample period (events per sample); 0 = 10007 */
	const struct perf_event_attr *pmu_attr; /* PMU event to sample instead of the detected
						   one (also lets tests use a software event) */
	unsigned int audit_pages;		/* pages the audit remembers; 0 = 65536 */
	bool audit_all;		    /* audit every mover page by page, not only the movers added
				       with pagemig_sampler_audit_mover(); heavy */
	const char *sysfs_root;	    /* "/sys" unless tests point elsewhere */
	const char *proc_root;	    /* "/proc" likewise */
	pagemig_sampler_log_fn log; /* NULL: silent */
	void *log_ctx;
	unsigned int access_ring_bytes; /* access samples waiting to be consumed, 32 bytes each,
					   rounded up to a power of 2; user space is woken at
					   half full; 0 = 8 MiB */
	/* Asked when a settled process's re-arm is due while its period is still under a
	 * minute: false skips that re-arm (its period doubles all the same; counted in
	 * rearms_skipped). For the caller to say when re-arming cannot show it anything to do.
	 * Not asked for the re-arms of grown processes, early ones, the minute's, nor with
	 * rearm_ms 0. NULL: every due re-arm is done. */
	bool (*rearm_settled)(void *ctx, pid_t tgid);
	void *rearm_ctx;
	unsigned int settled_first_ms; /* a settled process's first period is at least this long
					  (see pagemig_sampler_settle); 0 = 8 s */
};

/* One entry of a snapshot: one page of one process, as accessed from one node. */
struct pagemig_page_score {
	uint64_t page; /* page-aligned virtual address in tgid */
	uint32_t tgid;
	uint16_t node;	/* accessing node (PAGEMIG_SAMPLER_NODE_UNKNOWN if unknown) */
	uint8_t source; /* enum pagemig_sample_source */
	uint8_t seen;	/* intervals with accesses (weight), up to 255: 1 is one burst of use */
	double score;	 /* decayed weight: sum over intervals of weight * factor^(age) */
	uint64_t weight; /* weight sampled in the last interval: accesses only. A first-touch
			    fault (the page allocated there and then) weighs 0 while soft-dirty
			    re-arming supplies accesses, unless kernel NUMA balancing runs (its
			    hinting faults look the same) */
	uint32_t events; /* samples in the last interval, first touches included */
	uint16_t idle;	 /* drains since the entry last had samples, up to UINT16_MAX */
	uint16_t first_access_age; /* drains since its first sampled access (seen became 1): 0
				      for the last interval, up to UINT16_MAX (also: never).
				      Counts while the process is held too: the pages a plan
				      made from drain S has not seen hot have an age < seq - S */
};

/* Where a process ran: on-CPU time on one node. */
struct pagemig_oncpu_score {
	uint32_t tgid;
	uint32_t node;
	double score;	   /* decayed on-CPU nanoseconds */
	double recent;	   /* on-CPU ns halved at every drain, whatever the half-life: the last
			      interval counts 1/2 of the sum, the one before 1/4, ... where the
			      process runs now, while score says where it ran lately */
	uint64_t ns;	   /* on-CPU ns in the last interval */
	uint64_t total_ns; /* since the process became managed */
};

/* What the caller gets from pagemig_sampler_drain(); valid until the next drain or free. */
struct pagemig_snapshot {
	uint64_t seq;	      /* drains so far, this one included */
	uint64_t time_ns;     /* CLOCK_MONOTONIC of the drain */
	uint64_t interval_ns; /* since the previous drain (since load for the first) */
	double factor;	      /* decay applied to the previous scores */
	size_t n_pages;
	const struct pagemig_page_score *pages; /* sorted by (tgid, page, node, source) */
	size_t n_oncpu;
	const struct pagemig_oncpu_score *oncpu;		       /* sorted by (tgid, node) */
	struct pagemig_mig_counts migrations[PAGEMIG_MR__COUNT];       /* in the interval */
	struct pagemig_mig_counts migrations_total[PAGEMIG_MR__COUNT]; /* since load */
	bool numa_balancing; /* kernel NUMA balancing was on at the drain */
	size_t n_first_seen; /* page entries sampled as an access for the first time in this
				interval (pagemig_page_score.seen became 1): pages newly found hot */
};

/* Cumulative counters since load, including every way of losing data. */
struct pagemig_sampler_stats {
	uint64_t samples[PAGEMIG_SAMPLE__COUNT]; /* samples read, by source */
	uint64_t records;	   /* samples read from the access ring (all sources) */
	uint64_t ring_dropped;	   /* samples lost: the access ring was full */
	uint64_t table_dropped;	   /* samples lost: max_pages entries already this interval */
	uint64_t unmanaged;	   /* samples of processes no longer managed, ignored */
	uint64_t wakeups;	   /* ring records that woke the consumer (ring past half full) */
	uint64_t no_node;	   /* samples from a CPU without a known node */
	uint64_t pmu_no_addr;	   /* PMU samples without a data address */
	uint64_t snapshot_dropped; /* page entries dropped at max_snapshot */
	uint64_t switches;	   /* context switches seen */
	uint64_t slices;	   /* on-CPU slices credited */
	uint64_t oncpu_failed;	   /* slices lost: on-CPU map full */
	uint64_t audit_events;	   /* audit events received (a step record counts its steps) */
	uint64_t audit_dropped;	   /* audit events lost: ring buffer full */
	uint64_t rearms;	   /* soft-dirty clears done (processes x rounds) */
	uint64_t rearm_failed;	   /* soft-dirty clears that failed (process gone, ...) */
	uint64_t rearms_early;	 /* of the clears tried, early ones (pagemig_sampler_rearm_early) */
	uint64_t rearms_grown;	 /* of the clears tried, early ones for a process that had just
				    grown by pages not armed (first touched since its last re-arm) */
	uint64_t rearms_first;	 /* of the clears tried, the first of a process (newly managed) */
	uint64_t rearms_skipped; /* due re-arms of settled processes skipped (rearm_settled) */
	uint64_t holds;		 /* times a process's re-arming was held (pagemig_sampler_hold) */
	uint64_t not_present[2]; /* fault samples of managed processes on a page not present
				    (first touches; hinting faults too under NUMA balancing):
				    [0] not weighed as accesses, [1] weighed (see
				    pagemig_page_score.weight) */
	uint64_t flush_busy;	   /* flushes of staged fault samples that found the CPU in the
				      middle of staging (retried once) */
	uint64_t flush_missed;	   /* CPUs whose staged fault samples could not be flushed at a
				      drain (still busy, offline): they come with a later one */
	/* where the latest drain spent its time (ns): reading the rings (access samples and
	 * audit records), merging the interval into the page scores, the rest (on-CPU, counts),
	 * re-arming */
	uint64_t drain_read_ns, drain_merge_ns, drain_other_ns, drain_rearm_ns;
};

/* Memory by part, in bytes. kernel_*: per map, what the kernel charges (fdinfo memlock, exact
 * since 6.4) or, where that is less, what the map's layout needs (older kernels charge too
 * little, nothing at all for ring buffers); user_*: what the sampler allocated. */
struct pagemig_sampler_memory {
	uint64_t kernel_access; /* the access ring buffer and the per-CPU fault staging areas */
	uint64_t kernel_oncpu;	/* on-CPU map and per-CPU slots */
	uint64_t kernel_audit;	/* ring buffer, movers, per-reason counts, counters, step staging */
	uint64_t kernel_other;	/* managed-tgid filter, cpu->node, per-CPU counters */
	uint64_t user_drain;	/* the per-interval aggregation table */
	uint64_t user_snapshot; /* two snapshot buffers (current and previous) */
	uint64_t user_audit;	/* audit page table and batch log */
	uint64_t total;
};

/*
 * Load the sampler: create the shared maps, open, configure, load and attach each source the
 * configuration asks for and the kernel supports. A source that cannot be loaded is reported in
 * pagemig_sampler_sources() and does not stop the others; even with BPF not permitted at all
 * (every BPF source then says so, err -EPERM) the sampler is returned, so the caller can tell
 * the user. Returns 0 and *ret, or -EINVAL (bad configuration), -ENOMEM, or -errno when the
 * topology cannot be read.
 */
int pagemig_sampler_new(const struct pagemig_sampler_config *config, struct pagemig_sampler **ret);

/* Detach and unload everything; NULL is fine. */
void pagemig_sampler_free(struct pagemig_sampler *s);

/* Status of every source, indexed by enum pagemig_source (PAGEMIG_SOURCE__COUNT entries). */
const struct pagemig_source_status *pagemig_sampler_sources(const struct pagemig_sampler *s);

/* True when at least one of the BPF sources is active. */
bool pagemig_sampler_any_active(const struct pagemig_sampler *s);

/* Start sampling process tgid (idempotent). -ENOSPC when max_tgids are managed, -ERANGE for a
 * tgid above PID_MAX_LIMIT. */
int pagemig_sampler_manage(struct pagemig_sampler *s, pid_t tgid);

/* Stop sampling tgid and forget what the kernel holds for it (its on-CPU entries; its page
 * entries leave the snapshot as they decay). -ENOENT when it was not managed. */
int pagemig_sampler_unmanage(struct pagemig_sampler *s, pid_t tgid);

/* Audit (or stop auditing) the migrations made by process tgid page by page. */
int pagemig_sampler_audit_mover(struct pagemig_sampler *s, pid_t tgid, bool on);

/* Clear the soft-dirty bits of every managed process now (writing 4 to /proc/PID/clear_refs).
 * Returns the number of processes cleared, -EOPNOTSUPP without soft-dirty. */
int pagemig_sampler_rearm(struct pagemig_sampler *s);

/*
 * Re-arm tgid now, unless it was re-armed at the last drain or since: the policy waits for a
 * second sample of some of its pages (pagemig_plan_proc.unconfirmed), which would otherwise
 * come only after its next period. Returns 1 when re-armed, 0 when it already was, -ENOENT
 * when tgid is not managed, -EOPNOTSUPP without soft-dirty, or clear_refs's error.
 */
int pagemig_sampler_rearm_early(struct pagemig_sampler *s, pid_t tgid);

/* Re-arm tgid now, even when it was re-armed at the last drain: it has just moved to another
 * node, and what it wrote since that re-arm was sampled where it ran before. Not while held.
 * Returns 1 when re-armed, 0 when held, the errors of pagemig_sampler_rearm_early otherwise. */
int pagemig_sampler_rearm_now(struct pagemig_sampler *s, pid_t tgid);

/*
 * Hold (or release) tgid's re-arming: while held it is not re-armed, neither when due nor
 * early. For a process with more planned moves pending than a few intervals will do: the plan
 * knows those pages already, and re-arming would make it fault once more on every page it
 * writes, for samples that change nothing, while the daemon spends its time reading them.
 * Its page scores do not decay while held: unsampled is not unused, and decayed pages would
 * drop out of its next plan (the moves pending with them). -ENOENT when tgid is not managed.
 */
int pagemig_sampler_hold(struct pagemig_sampler *s, pid_t tgid, bool hold);

/*
 * Say whether tgid's placement has settled (the last plan had nothing for it and it runs where
 * it ran). A settled process is re-armed less and less often: first after settled_first_ms (8 s)
 * or one rearm period, whichever is longer, then at doubling periods up to every 8th rearm
 * period or about once a minute, whichever is rarer. Below the minute each of those re-arms
 * can be skipped (rearm_settled). Once it is not settled any more it is re-armed at the next
 * drain and then every period again. -ENOENT when tgid is not managed.
 */
int pagemig_sampler_settle(struct pagemig_sampler *s, pid_t tgid, bool settled);

/*
 * Drain into a new snapshot: the page samples of the interval (the fault samples each CPU has
 * staged are flushed into the access ring first, then the ring is consumed) are added to the
 * previous scores decayed by 2^(-interval / half_life); on-CPU time and migrations by reason
 * likewise; the audit ring buffer is consumed. Re-arms soft-dirty when due. *ret (may be NULL)
 * points into the sampler and stays valid until the next drain.
 */
int pagemig_sampler_drain(struct pagemig_sampler *s, const struct pagemig_snapshot **ret);

/*
 * On-CPU nanoseconds of managed process tgid on each node since it became managed, read from
 * the kernel now rather than at the last drain: ns[node] for node < nnodes (0 where it never
 * ran). A thread is credited when it leaves a CPU, so time of a slice still running is not in
 * yet. Returns 0, -ENODEV without the on-CPU source, or -errno.
 */
int pagemig_sampler_oncpu_now(const struct pagemig_sampler *s, pid_t tgid, uint64_t *ns,
			      unsigned int nnodes);

/* The latest snapshot (empty before the first drain). */
const struct pagemig_snapshot *pagemig_sampler_snapshot(const struct pagemig_sampler *s);

/* File descriptor that becomes readable when the access ring is half full or audit records wait
 * (for the caller's poll loop), or -ENODEV without either source. */
int pagemig_sampler_fd(const struct pagemig_sampler *s);

/* Consume waiting access samples (into the current interval) and audit records (into the
 * audit); waits up to timeout_ms (0: do not wait). Fault samples reach the ring in batches of
 * PAGEMIG_ACCESS_BATCH per CPU; the rest of a batch waits for the drain's flush. Returns the
 * ring records consumed (an access record holds up to a batch of samples) or -errno. */
int pagemig_sampler_poll(struct pagemig_sampler *s, int timeout_ms);

/* Older names of the two above. */
int pagemig_sampler_audit_fd(const struct pagemig_sampler *s);
int pagemig_sampler_audit_poll(struct pagemig_sampler *s, int timeout_ms);

/* The audit's rebuilt per-page step sequences (see sampler_audit.h), or NULL without it. */
struct pagemig_audit *pagemig_sampler_audit(struct pagemig_sampler *s);

void pagemig_sampler_stats(struct pagemig_sampler *s, struct pagemig_sampler_stats *ret);

/* Memory in use now. */
int pagemig_sampler_memory(const struct pagemig_sampler *s, struct pagemig_sampler_memory *ret);

/* The memory a configuration uses with nodes nodes and ncpus CPUs, computed from the kernel's
 * map layouts (within 1% of what pagemig_sampler_memory() measured on 6.18). */
void pagemig_sampler_estimate(const struct pagemig_sampler_config *config, unsigned int nodes,
			      unsigned int ncpus, struct pagemig_sampler_memory *ret);

#endif /* PAGEMIG_DAEMON_SAMPLER_H */
