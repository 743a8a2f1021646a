/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration audit: rebuilds, from the sampler_audit ring-buffer records, which documented
 * migration steps each page passed, and checks them against libpagemig's step model.
 *
 * The kernel marks two of the documented steps per mapping of a page:
 *   B4  (set_migration_pte)     the page-table entry becomes a migration entry;
 *   B16 (remove_migration_pte)  a real entry is restored: pointing at the new frame after a
 *                               successful copy, or at the old frame after a rollback.
 * So a page that moved shows B4 then B16, on a frame of the target node; a page whose migration
 * backed out after B4 shows B4 then B16 on its old frame; a page that backed out before B4 (or
 * was never sent, or was already on its target) shows nothing.
 *
 * Pages are remembered per (mover tgid, address), the latest migrate_pages() call that touched
 * them; a call for the same page starts its record afresh. Pure bookkeeping: no system calls, so
 * unit tests feed synthetic records. Not thread-safe.
 */
#ifndef PAGEMIG_DAEMON_SAMPLER_AUDIT_H
#define PAGEMIG_DAEMON_SAMPLER_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pagemig/pagemig.h>

#include "sampler_records.h"

#define PAGEMIG_AUDIT_MAX_STEPS 8  /* steps kept per page (one per mapping and step) */
#define PAGEMIG_AUDIT_BATCH_LOG 64 /* recent migrate_pages() calls kept */

/* What the audit saw of one page in the latest migrate_pages() call that touched it. */
struct pagemig_audit_page {
	uint64_t addr; /* page-aligned address in the page owner's address space */
	uint32_t tgid; /* the mover (the task that called migrate_pages()) */
	uint32_t tid;
	uint64_t batch; /* the audit's number of that call; 0 outside any (e.g. a THP split,
			   which also uses migration entries) */
	uint8_t reason; /* enum pagemig_mig_reason of that call (PAGEMIG_MR_OTHER outside) */
	uint8_t nsteps; /* entries in steps[] */
	uint8_t steps[PAGEMIG_AUDIT_MAX_STEPS]; /* enum pagemig_step values, in the order seen */
	uint16_t n_set;				/* step 4 events (one per mapping) */
	uint16_t n_remove;			/* step 16 events */
	uint16_t attempts; /* calls that touched the page since the audit first saw it */
	bool out_of_order; /* a step came after a later documented step of the same call */
	bool pmd;	   /* a PMD-mapped huge page (thp:*_migration_pmd) */
	int8_t order;	   /* folio order the kernel reported (-1 for PMD events) */
	uint64_t pfn;	   /* frame the last step 16 installed (0: no step 16 yet) */
	int node;	   /* node of that frame; -1 unknown */
	uint64_t t_first;  /* ktime of the first and last event of the call */
	uint64_t t_last;
};

/* One migrate_pages() call of an audited mover. */
struct pagemig_audit_batch {
	uint64_t seq; /* the audit's number, from 1 */
	uint32_t tid;
	uint32_t tgid;
	uint8_t reason;	  /* enum pagemig_mig_reason */
	uint8_t mode;	  /* enum pagemig_mig_mode */
	bool ended;	  /* its mm_migrate_pages event was seen */
	bool interleaved; /* some page's step 4 came after another page's step 16: the documented
			     per-page order; false (all steps 4 first) is the batched order of
			     kernels since ~6.3 */
	uint32_t n_set;
	uint32_t n_remove;
	uint64_t succeeded; /* as the kernel reported at the end */
	uint64_t failed;
	uint64_t t_start;
	uint64_t t_end;
};

struct pagemig_audit_totals {
	uint64_t records;	      /* fed */
	uint64_t batches;	      /* calls started */
	uint64_t batches_ended;	      /* calls ended */
	uint64_t batches_batched;     /* ended calls with every step 4 before the first step 16 */
	uint64_t batches_interleaved; /* ended calls in the documented per-page order */
	uint64_t set;		      /* step 4 records */
	uint64_t remove;	      /* step 16 records */
	uint64_t outside_batch;	      /* step records of a task with no call open */
	uint64_t pages_evicted;	      /* page records forgotten to stay within max_pages */
	uint64_t pfn_unknown_node;    /* step 16 frames whose node could not be told */
	uint64_t pages_by_reason[PAGEMIG_MR__COUNT]; /* step 16 records by the call's reason */
};

enum pagemig_audit_verdict {
	PAGEMIG_AUDIT_MOVED = 0,    /* B4 then B16, on a new frame on the target node */
	PAGEMIG_AUDIT_ROLLED_BACK,  /* B4 then B16 on the old frame: backed out after B4 */
	PAGEMIG_AUDIT_NOT_SEEN,	    /* no record: backed out before B4, not sent, or already
				       on the target node */
	PAGEMIG_AUDIT_INCOMPLETE,   /* B4 without (as many) B16: lost records or still running */
	PAGEMIG_AUDIT_OUT_OF_ORDER, /* B16 before B4 */
	PAGEMIG_AUDIT_WRONG_NODE,   /* B16 on a new frame of another node */
	PAGEMIG_AUDIT_NODE_UNKNOWN, /* B16 on a new frame whose node is unknown */
	PAGEMIG_AUDIT__COUNT
};

/* Node of a page frame number, or -1 (the sampler passes its memory-block table). */
typedef int (*pagemig_pfn_node_fn)(uint64_t pfn, void *ctx);

struct pagemig_audit;

/* A new audit remembering up to max_pages pages (the oldest are forgotten beyond that).
 * pfn_node may be NULL (every node then unknown). Returns 0 or -ENOMEM/-EINVAL. */
int pagemig_audit_new(size_t max_pages, pagemig_pfn_node_fn pfn_node, void *ctx,
		      struct pagemig_audit **ret);
void pagemig_audit_free(struct pagemig_audit *a);

/* Bytes allocated by an audit of max_pages pages. */
size_t pagemig_audit_footprint(size_t max_pages);

/* Take one ring-buffer record. */
void pagemig_audit_feed(struct pagemig_audit *a, const struct pagemig_mig_event *e);

/* The record of page addr (any address within it) moved by mover_tgid, or NULL. */
const struct pagemig_audit_page *pagemig_audit_find(const struct pagemig_audit *a,
						    uint32_t mover_tgid, uint64_t addr);

/*
 * Check one page against the step model. target_node: where it was asked to go. old_pfn: its
 * frame before the move, 0 if unknown (then a B16 on a frame of old_node counts as a rollback;
 * old_node -1 if unknown too). p may be NULL (NOT_SEEN).
 */
enum pagemig_audit_verdict pagemig_audit_verdict(const struct pagemig_audit_page *p,
						 int target_node, uint64_t old_pfn, int old_node);

/* "moved", "rolled_back", ...; "?" when out of range. */
const char *pagemig_audit_verdict_name(enum pagemig_audit_verdict v);

/* One line: "B4 B16 (syscall, call 3) -> pfn 0x1f3a2 on node 1". Returns what snprintf does. */
int pagemig_audit_describe(char *buf, size_t len, const struct pagemig_audit_page *p);

const struct pagemig_audit_totals *pagemig_audit_totals(const struct pagemig_audit *a);

/* Copy the most recent calls (at most cap, at most PAGEMIG_AUDIT_BATCH_LOG) into out, oldest
 * first; returns how many. */
size_t pagemig_audit_batches(const struct pagemig_audit *a, struct pagemig_audit_batch *out,
			     size_t cap);

/* "compaction", "syscall", "numa_misplaced", ...; "?" when out of range. */
const char *pagemig_mig_reason_name(enum pagemig_mig_reason reason);

/* Forget every page and call record (totals stay). */
void pagemig_audit_reset(struct pagemig_audit *a);

/* x86-64 frame number in a present pte / pmd value (the architecture's layout; 0 elsewhere). */
uint64_t pagemig_pte_pfn(uint64_t pte);
uint64_t pagemig_pmd_pfn(uint64_t pmd);

#endif /* PAGEMIG_DAEMON_SAMPLER_AUDIT_H */
