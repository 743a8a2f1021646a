/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sampler's internal modules, shared with its unit tests:
 *   decay     pure arithmetic of the snapshots (sampler_decay.c)
 *   topology  CPU -> node and memory block -> node from sysfs (sampler_topo.c)
 *   pmu       hardware memory-access event detection (sampler_pmu.c)
 *   softdirty re-arming write faults through /proc/PID/clear_refs (sampler_softdirty.c)
 * Functions that read files take the sysfs or proc root, so tests run them on fixtures.
 */
#ifndef PAGEMIG_DAEMON_SAMPLER_INTERNAL_H
#define PAGEMIG_DAEMON_SAMPLER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampler.h"

struct perf_event_attr;

/* ---- decay ------------------------------------------------------------------------------- */

/* One entry of an interval's aggregate: the samples of one (tgid, page, node, source). */
struct pagemig_access_sample {
	struct pagemig_access_key key;
	struct pagemig_access_val val;
};

/*
 * The interval's aggregate: access records added up per key, in a fixed-size table (open
 * addressing over an index twice the capacity). v[0..n) are the entries in arrival order.
 */
struct pagemig_access_table {
	struct pagemig_access_sample *v;
	size_t n;
	size_t cap;
	uint32_t *index; /* positions in v, UINT32_MAX when empty */
	size_t mask;
	/* Whether a fault that found no page (a first touch) counts as an access. Normally not:
	 * the kernel allocates the page there and then, by the memory policy, so the fault says
	 * where the page was placed, not that it is in use; counting it would hold a page on the
	 * node of its first touch, or pull a page placed by an explicit policy (mbind, a cpuset)
	 * to the allocating CPU. Accesses come from the faults soft-dirty re-arming causes.
	 * Without re-arming, first touches are all there is, and while kernel NUMA balancing
	 * runs, its hinting faults look the same (no present mapping) and are accesses: in both
	 * cases every fault counts (the sampler sets this at every drain). */
	bool allocs_count;
};

int pagemig_access_table_init(struct pagemig_access_table *t, size_t cap);
void pagemig_access_table_free(struct pagemig_access_table *t);
/* Add one record. false when its key is new and the table is full (the sample is lost). A
 * first-touch fault counts in events and allocs but not in weight, unless t->allocs_count. */
bool pagemig_access_table_add(struct pagemig_access_table *t,
			      const struct pagemig_access_record *r);
/* Empty the table (entries are sorted in place by the drain, so the index is rebuilt). */
void pagemig_access_table_reset(struct pagemig_access_table *t);
/* Bytes a table of cap entries allocates. */
size_t pagemig_access_table_footprint(size_t cap);

/* One reading of the on-CPU map (cumulative). */
struct pagemig_oncpu_sample {
	struct pagemig_oncpu_key key;
	struct pagemig_oncpu_val val;
};

/* 2^(-interval / half_life): the factor scores keep over interval. 1 for interval 0; 0 for a
 * half life of 0. */
double pagemig_decay_factor(uint64_t interval_ns, uint64_t half_life_ns);

/* Sort drained samples by (tgid, page, node, source). */
void pagemig_access_sort(struct pagemig_access_sample *v, size_t n);
void pagemig_oncpu_sort(struct pagemig_oncpu_sample *v, size_t n);

/* Outcome counts of one decay step. */
struct pagemig_decay_result {
	size_t n;	  /* entries written to out */
	size_t forgotten; /* entries that decayed below min_score */
	size_t dropped;	  /* entries above min_score dropped to stay within cap (lowest first) */
	size_t first_seen; /* entries sampled as an access for the first time (seen 0 -> 1) */
};

/*
 * Next page scores: every entry of prev decays by factor, fresh samples (sorted, duplicates
 * summed) add their weight; entries not sampled this interval that decayed below min_score are
 * forgotten (one sampled this interval stays; one with score 0, seen only by first touches,
 * stays as long as a score of 1 would have: factor^idle >= min_score), and if more than cap
 * remain, the lowest scores are dropped (ties: the later key goes). The entries of the tgids in
 * frozen (sorted, nfrozen of them; NULL for none) do not decay and do not age this step: their
 * process is deliberately not being sampled (pagemig_sampler_hold), so no sample means nothing.
 * out is sorted like prev and must have room for nprev + nfresh entries (only cap are kept),
 * scratch room for nprev + nfresh scores: the lowest score kept is selected there in linear
 * time and the others dropped in one pass that keeps key order. Sorting them all by score and
 * the kept ones back by key took 1.2 s under emulation in a drain that cut a 1 GiB process's
 * snapshot to 524 288 entries; on the host the two sorts of 800 000 entries take 160-250 ms,
 * the cut here ~30 ms. The unit tests keep the sorting cut as the reference.
 */
struct pagemig_decay_result pagemig_decay_pages(const struct pagemig_page_score *prev, size_t nprev,
						const struct pagemig_access_sample *fresh,
						size_t nfresh, double factor, const uint32_t *frozen,
						size_t nfrozen, double min_score, size_t cap,
						struct pagemig_page_score *out, double *scratch);

/*
 * Next on-CPU scores from cumulative readings (sorted): ns = reading - previous total (the
 * reading alone when it went backwards: the process was managed anew), score = prev * factor +
 * ns, recent = prev / 2 + ns. Entries missing from cur are gone (their process is no longer managed). out has room for
 * ncur entries; returns how many were written.
 */
size_t pagemig_decay_oncpu(const struct pagemig_oncpu_score *prev, size_t nprev,
			   const struct pagemig_oncpu_sample *cur, size_t ncur, double factor,
			   struct pagemig_oncpu_score *out);

/* ---- topology ---------------------------------------------------------------------------- */

struct pagemig_topo {
	unsigned int ncpus;  /* possible CPUs: cpu_node has this many entries */
	int *cpu_node;	     /* node of each CPU, -1 if none */
	unsigned int nnodes; /* highest node id + 1 */
	unsigned int nodes_with_cpus;
	uint64_t block_size; /* memory block bytes (memory/block_size_bytes) */
	size_t nblocks;	     /* entries of block_node */
	int *block_node;     /* node of each memory block, -1 if none */
};

/* Read <sysfs_root>/devices/system/{cpu,node,memory}. Memory blocks are optional (-1 nodes). */
int pagemig_topo_load(const char *sysfs_root, struct pagemig_topo *t);
void pagemig_topo_free(struct pagemig_topo *t);
/* Node of a 4 KiB frame, -1 when unknown. */
int pagemig_topo_pfn_node(const struct pagemig_topo *t, uint64_t pfn);

/* Parse a kernel cpulist/nodelist ("0-3,8,10-11"), calling fn for each number. Returns 0 or
 * -EINVAL (then fn may have been called for a prefix). */
int pagemig_parse_list(const char *s, int (*fn)(unsigned int n, void *ctx), void *ctx);

/* ---- pmu --------------------------------------------------------------------------------- */

/*
 * Parse a PMU event description ("event=0xcd,umask=0x1,ldlat=3") against the PMU's format
 * files in fmt_dir ("config:0-7", "config1:0-15") into attr->config/config1/config2.
 */
int pagemig_pmu_parse_event(const char *fmt_dir, const char *desc, struct perf_event_attr *attr);

/*
 * Find a precise memory-access event with data addresses: Intel "mem-loads" (PEBS load latency)
 * on the cpu / cpu_core PMU, or AMD's ibs_op. Fills attr (sampling period, PERF_SAMPLE_ADDR,
 * user-only) and a description. -ENODEV and a reason when the machine has none.
 */
int pagemig_pmu_detect(const char *sysfs_root, unsigned int period, struct perf_event_attr *attr,
		       char *what, size_t len);

/* ---- soft-dirty -------------------------------------------------------------------------- */

/*
 * Does writing 4 to clear_refs re-arm write faults here? Checked in a child process on a page
 * of its own: pagemap bit 55 must be set after a write, clear after clear_refs, and set again
 * after the next write. 0 when it works, -EOPNOTSUPP (kernel without CONFIG_MEM_SOFT_DIRTY) or
 * another -errno, with a reason in why.
 */
int pagemig_softdirty_probe(const char *proc_root, char *why, size_t len);

/* Clear the soft-dirty bits of process pid. */
int pagemig_softdirty_clear(const char *proc_root, pid_t pid);

/* ---- logging ----------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) void
pagemig_sampler_logf(const struct pagemig_sampler_config *c, int level, const char *fmt, ...);

#endif /* PAGEMIG_DAEMON_SAMPLER_INTERNAL_H */
