/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpagemig: move pages between NUMA nodes with move_pages(2), attribute every per-page outcome
 * to the step of the kernel's documented page-migration procedure where the kernel backed out,
 * retry what is transient, and verify by asking the kernel where each page really is.
 *
 * Conventions: functions return 0 or a positive count on success and a negative errno on
 * failure; errno is left as the last syscall set it. The library never prints (except through
 * pagemig_report_print(), which writes where it is told) and never exits. All functions are
 * thread-safe as long as callers do not share report or status arrays between threads.
 */
#ifndef PAGEMIG_PAGEMIG_H
#define PAGEMIG_PAGEMIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PAGEMIG_VERSION_MAJOR 0
#define PAGEMIG_VERSION_MINOR 1
#define PAGEMIG_VERSION_PATCH 0

/* Library version as "MAJOR.MINOR.PATCH"; may differ from the header a program was built with. */
const char *pagemig_version(void);

/* --------------------------------------------------------------------------------------------
 * The documented steps
 *
 * Documentation/vm/page_migration (Linux 3.10 text with Hugh Dickins' v4.4 change that preps the
 * new page only after the last back-out check). Part A is how kernel code uses migrate_pages();
 * part B is how migrate_pages() works. The document numbers part B 1..16 then 19, 20; today's
 * page_migration.rst calls the last two 17 and 18.
 * ------------------------------------------------------------------------------------------ */

/* Every place a per-page outcome can be attributed to, in documented order. */
enum pagemig_step {
	PAGEMIG_STEP_NONE = 0,	    /* nothing backed out: the page is where it was asked to be */
	PAGEMIG_STEP_PRE,	    /* before A1: validating the call, looking the page up */
	PAGEMIG_STEP_A1_ISOLATE,    /* A1: take the page off the LRU */
	PAGEMIG_STEP_A2_ALLOC,	    /* A2: allocate the new page on the target node */
	PAGEMIG_STEP_A3_CALL,	    /* A3: call migrate_pages() */
	PAGEMIG_STEP_B1_LOCK_OLD,   /* B1: lock the old page */
	PAGEMIG_STEP_B2_WRITEBACK,  /* B2: ensure writeback is complete */
	PAGEMIG_STEP_B3_LOCK_NEW,   /* B3: lock the new (not uptodate) page */
	PAGEMIG_STEP_B4_UNMAP,	    /* B4: page table entries -> migration entries; mapcount != 0 */
	PAGEMIG_STEP_B5_TREE_LOCK,  /* B5: take the radix tree (i_pages) lock */
	PAGEMIG_STEP_B6_REFCOUNT,   /* B6: refcount check; back out if references remain */
	PAGEMIG_STEP_B7_TREE_CHECK, /* B7: radix tree check; back out if it changed */
	PAGEMIG_STEP_B8_PREP_NEW,   /* B8: prep the new page from the old one */
	PAGEMIG_STEP_B9_TREE_NEW,   /* B9: radix tree points to the new page */
	PAGEMIG_STEP_B10_REFS,	    /* B10: old page's tree reference dropped, new one taken */
	PAGEMIG_STEP_B11_TREE_UNLOCK, /* B11: radix tree lock dropped */
	PAGEMIG_STEP_B12_COPY,	      /* B12: contents copied */
	PAGEMIG_STEP_B13_FLAGS,	      /* B13: remaining flags copied */
	PAGEMIG_STEP_B14_CLEAR_OLD,   /* B14: old page's flags cleared */
	PAGEMIG_STEP_B15_WRITEBACK,   /* B15: queued writeback on the new page triggered */
	PAGEMIG_STEP_B16_REMAP,	      /* B16: migration entries -> real page table entries */
	PAGEMIG_STEP_B19_UNLOCK,      /* B19 (17 today): old and new page unlocked */
	PAGEMIG_STEP_B20_LRU,	      /* B20 (18 today): new page onto the LRU */
	/*
	 * Not documented steps, but places outcomes are attributed to:
	 * - B1-B7: Linux >= 4.17 reports a failure inside migrate_pages() only as a positive
	 *   return, without saying which of the back-out points B1..B7 it was.
	 * - VERIFY: after the kernel said the page moved, asking it where the page is disagreed
	 *   (a huge folio with mixed targets, or another mover acting in between).
	 */
	PAGEMIG_STEP_B1_B7,
	PAGEMIG_STEP_VERIFY,
	PAGEMIG_STEP__COUNT
};

/* One row of the documented step table. */
struct pagemig_step_info {
	enum pagemig_step step;
	const char *label; /* "A1", "B6", "B19", "pre", "B1-B7", "verify" */
	int number;	   /* number in the document (B19 -> 19), 0 for pseudo steps */
	int number_today;  /* number in today's page_migration.rst (B19 -> 17), 0 if none */
	const char *name;  /* short name: "refcount check" */
	const char *text;  /* what happens at this step, one sentence */
	bool may_back_out; /* the document (or today's code) may back out here */
	bool documented;   /* a step of the document, not a pseudo step */
};

/* The step table, in documented order; *count receives the number of rows (PAGEMIG_STEP__COUNT).
 * Row i describes step i. */
const struct pagemig_step_info *pagemig_steps(size_t *count);

/* The row for one step, or NULL when step is out of range. */
const struct pagemig_step_info *pagemig_step_info(enum pagemig_step step);

/* --------------------------------------------------------------------------------------------
 * Outcomes
 * ------------------------------------------------------------------------------------------ */

/* What finally happened to one page (or one move_pages() answer before retries). */
enum pagemig_outcome {
	PAGEMIG_OUT_MOVED = 0,	    /* on the target node after a migration */
	PAGEMIG_OUT_ALREADY,	    /* was on the target node already */
	PAGEMIG_OUT_MOVED_FOLIO,    /* refused (-EBUSY; -EACCES for hugetlb tails up to ~6.6),
				       but moved with its huge folio */
	PAGEMIG_OUT_NOT_MAPPED,	    /* -EFAULT: no mapping, zero page, or not migratable */
	PAGEMIG_OUT_NOT_PRESENT,    /* -ENOENT: never touched, or swapped out */
	PAGEMIG_OUT_SHARED,	    /* -EACCES: mapped by several processes, no MOVE_ALL */
	PAGEMIG_OUT_BUSY,	    /* -EBUSY: could not be isolated from the LRU */
	PAGEMIG_OUT_NO_MEMORY,	    /* -ENOMEM: no free page on the target node */
	PAGEMIG_OUT_MIGRATE_FAILED, /* migrate_pages() backed out (locks, mapcount, refs) */
	PAGEMIG_OUT_IO,		    /* -EIO/-EINVAL (< 4.17): dirty page could not be written */
	PAGEMIG_OUT_WRONG_NODE,	    /* said moved, but the kernel now places it elsewhere */
	PAGEMIG_OUT_FOLIO_MIXED,    /* part of a huge folio whose pages had different targets */
	PAGEMIG_OUT_NOT_ATTEMPTED,  /* the call failed as a whole before reaching this page */
	PAGEMIG_OUT__COUNT
};

/* Why and where: the classification of one kernel answer for one page. */
struct pagemig_class {
	enum pagemig_outcome outcome;
	enum pagemig_step step; /* where the kernel backed out; PAGEMIG_STEP_NONE on success */
	bool transient;		/* worth retrying */
	bool success;		/* the page is on its target */
};

/* Stable identifier of an outcome ("moved", "busy", ...), or "?" when out of range. */
const char *pagemig_outcome_name(enum pagemig_outcome outcome);

/*
 * Classify one per-page answer of move_pages(2).
 *   status: what the kernel wrote into status[i] (a node id or a negative errno);
 *   target: the node that was requested for this page.
 * A node id equal to target is success; another node id is PAGEMIG_OUT_WRONG_NODE. Errnos map to
 * the step of the document where the kernel backs out, for old (< 4.17) and new kernels.
 * Unknown negative values classify as PAGEMIG_OUT_MIGRATE_FAILED, non-transient.
 */
struct pagemig_class pagemig_classify_status(int status, int target);

/* The answer for a page whose status[] entry the kernel left unwritten after a positive return
 * (Linux >= 4.17): migrate_pages() backed out somewhere in B1..B7; transient. */
struct pagemig_class pagemig_classify_unwritten(void);

/* The answer for a page not reached because the whole call failed with -err (err > 0). */
struct pagemig_class pagemig_classify_call_error(int err);

/*
 * One sentence for a page's final result, written into buf (always NUL-terminated):
 *   "backed out at step B6, refcount check: page still referenced; retried 2x; moved"
 * final_status is the value pagemig_move() left in status[i]; retries how often that page was
 * retried; first the classification of the first answer the kernel gave for the page.
 * Returns the length it wanted to write, like snprintf.
 */
int pagemig_explain(char *buf, size_t len, const struct pagemig_class *first, unsigned int retries,
		    int final_status, int target);

/* --------------------------------------------------------------------------------------------
 * Moving pages
 * ------------------------------------------------------------------------------------------ */

/* Move pages that are shared with other processes too (MPOL_MF_MOVE_ALL; needs CAP_SYS_NICE). */
#define PAGEMIG_MOVE_ALL (1u << 0)
/*
 * Verification. By default the kernel is asked (a nodes=NULL move_pages(2) query) where every
 * page is whose move answer was not its target node (an errno, an entry left unwritten, a huge
 * folio's tail answering -EBUSY) right after the call, and where every page is whose answer was
 * its target node at the end of each pass over the pages, in few large queries; a page found
 * elsewhere then counts as PAGEMIG_OUT_WRONG_NODE and is retried. Where frame numbers are
 * visible (CAP_SYS_ADMIN) and sysfs lists each node's memory blocks, the end-of-pass check reads
 * /proc/PID/pagemap first for long runs of pages: a page whose frame lies on its target node is
 * confirmed without the query (report frames_verified); the query still decides every other
 * page. Huge-folio entries that were
 * not sent (their folio's first page was) are checked by looking at the folio (needs
 * CAP_SYS_ADMIN to see PFNs; otherwise every page is sent).
 */
/* Trust the kernel's target-node answers: ask only about pages whose answer was not their
 * target. Faster; another mover acting right after the call goes unnoticed. */
#define PAGEMIG_NO_VERIFY (1u << 1)
/* Send every page to the kernel even when several lie in one huge folio. */
#define PAGEMIG_NO_FOLIO_DEDUP (1u << 2)
/* opts->pidfd holds a pidfd for pid: refuse (-ESRCH) if it no longer names pid's process. */
#define PAGEMIG_PIDFD (1u << 3)
/* Ask where the pages are before moving: pages already on target are not sent and count as
 * PAGEMIG_OUT_ALREADY. Without it the kernel is not asked first, and a page that was on its
 * target already counts as PAGEMIG_OUT_MOVED. Costs one query per page. */
#define PAGEMIG_PREQUERY (1u << 4)
/* Ask about every page right after each move call (one query per call) instead of once per
 * pass for the pages the kernel answered with their target. The behaviour of version 0.1.0. */
#define PAGEMIG_VERIFY_ALL (1u << 5)

#define PAGEMIG_DEFAULT_MAX_RETRIES    3
#define PAGEMIG_DEFAULT_PAGES_PER_CALL 1024
#define PAGEMIG_DEFAULT_CALL_BUDGET_US 10000
#define PAGEMIG_DEFAULT_BATCH_PAGES    1024
#define PAGEMIG_DEFAULT_BACKOFF_US     200

/* What happened to one page, when the caller asks for it (opts->details). */
struct pagemig_page_detail {
	struct pagemig_class first; /* the kernel's first answer for the page */
	struct pagemig_class final; /* how it ended */
	unsigned int retries;	    /* how often it was sent again */
};

/* Options; zero-fill, set sz = sizeof(struct pagemig_opts), then what you need. Zero means the
 * default for every field. Fields may only be added at the end. */
struct pagemig_opts {
	size_t sz;		     /* sizeof(struct pagemig_opts) */
	unsigned int flags;	     /* PAGEMIG_* bits */
	unsigned int max_retries;    /* per page, transient outcomes only; 0 = default (3) */
	unsigned int pages_per_call; /* upper bound of entries per move_pages(2): 4 KiB pages,
					or whole huge folios sent as one entry each (the first
					call of an operation carries at most this many pages,
					or one folio); 0 = 1024 */
	unsigned int call_budget_us; /* target wall time per call: calls are sized (in pages;
					a huge folio's entry counts all its pages) from a fit of
					fixed + per-page cost, growing at most 4x a call; with
					pages_per_call left 0 the first call sends 64 pages,
					otherwise pages_per_call; 0 = 10000 us, UINT_MAX = no
					budget (pages_per_call entries every call) */
	unsigned int backoff_us;     /* first retry delay, doubling per round; 0 = 200 us */
	int pidfd;		     /* with PAGEMIG_PIDFD: a pidfd of pid, held by the caller */
	uint64_t rate_bytes_per_s;   /* pace the calls to at most this many bytes/s; 0 = none */
	struct pagemig_page_detail *details; /* optional, count entries, filled by pagemig_move() */
	/* added with symbol version PAGEMIG_0.2 */
	unsigned int batch_pages; /* pagemig_batch_add() sends the queue once it holds this many
				     pages; 0 = 1024 */
	/* added in libpagemig 0.3 */
	unsigned int threads; /* split each batch of resident pages (pagemig_move_range(),
				 pagemig_move_process()) or the list (pagemig_move())
				 into this many parts and move them from as many threads at once,
				 each with its own calls, budget and retries; a rate is shared
				 out among them. A part has at least 256 pages (fewer threads
				 for shorter lists) and ends at a huge-page window's edge where
				 one lies near. 0 or 1 = in the calling thread;
				 at most 64. Uses that many CPUs; the report's kernel_ns then adds
				 up the threads' time in calls. */
};

/* pagemig_opts.threads: the fewest pages a thread is given (a shorter list uses fewer threads). */
#define PAGEMIG_THREAD_MIN_PAGES 256

/* Buckets of pagemig_report.call_hist: 2^(96/4) us = 16.8 s and longer land in the last. */
#define PAGEMIG_CALL_HIST_BUCKETS 96

/* Counts of one pagemig_move()/pagemig_move_range()/pagemig_move_process() operation. */
struct pagemig_report {
	size_t sz;		       /* set by the caller: sizeof(struct pagemig_report) */
	unsigned long pages;	       /* pages asked for */
	unsigned long pages_on_target; /* pages on their target at the end */
	unsigned long pages_moved;     /* of those, moved by this operation */
	unsigned long bytes_moved;     /* bytes in pages_moved */
	unsigned long by_outcome[PAGEMIG_OUT__COUNT];	  /* final outcome of every page */
	unsigned long by_step[PAGEMIG_STEP__COUNT];	  /* back-out step of every answer that
							     was not success, retries included */
	unsigned long first_by_step[PAGEMIG_STEP__COUNT]; /* same, first answers only */
	unsigned long retries;		 /* page retries (a page retried 2x counts 2) */
	unsigned long retry_rounds;	 /* rounds of retrying */
	unsigned long calls;		 /* move_pages(2) calls that moved */
	unsigned long query_calls;	 /* move_pages(2) calls that only asked */
	unsigned long entries_sent;	 /* entries handed to the kernel in move calls */
	unsigned long folios_deduped;	 /* entries not sent: their huge folio was */
	unsigned long positive_returns;	 /* calls that returned > 0 */
	unsigned long unwritten;	 /* status entries left unwritten by the kernel */
	unsigned long verify_mismatches; /* status said one thing, the query another */
	uint64_t elapsed_ns;		 /* wall time of the operation */
	uint64_t kernel_ns;		 /* wall time inside move calls */
	uint64_t max_call_ns;		 /* longest single move call */
	int call_error;			 /* -errno if the operation failed as a whole */
	bool pid_reused;		 /* the pid stopped naming the original process */
	/* added with PAGEMIG_0.2: per-call latency of the move calls, a histogram with four buckets per
	 * doubling: bucket b counts calls that took [2^(b/4), 2^((b+1)/4)) microseconds (bucket 0
	 * also the faster ones, the last one also the slower ones). See
	 * pagemig_report_call_us(). */
	unsigned long call_hist[PAGEMIG_CALL_HIST_BUCKETS];
	/* added in libpagemig 0.3: pages whose move answer was confirmed from their frame numbers
	 * (/proc/PID/pagemap, needs CAP_SYS_ADMIN, and the memory blocks each node lists in sysfs)
	 * instead of a move_pages(2) query; the others were queried. */
	unsigned long frames_verified;
};

/* Zero a report and set its sz. */
void pagemig_report_init(struct pagemig_report *report);

/*
 * Move count pages of process pid (0 = self) to nodes[i].
 * status[i] ends as nodes[i] when the page is there, otherwise a negative errno giving the final
 * reason (-ENOENT not present, -EFAULT not mapped, -EACCES shared, -EBUSY busy, -ENOMEM no memory
 * on the target, -EAGAIN migrate_pages() backed out, -EXDEV on another node than the kernel said,
 * -ENOTRECOVERABLE part of a huge folio with mixed targets, -ECANCELED not attempted).
 * Returns the number of pages not on their requested node after retries and verification
 * (0 = all there), or -errno when the call as a whole failed (-ESRCH, -EPERM, -ENODEV, -EACCES,
 * -EINVAL, -ENOMEM, ...); then status[] holds what was processed before the failure and
 * -ECANCELED for the rest. opts and report may be NULL.
 */
long pagemig_move(pid_t pid, size_t count, void *const pages[], const int nodes[], int status[],
		  const struct pagemig_opts *opts, struct pagemig_report *report);

/* Where are these pages now: status[i] = node or negative errno (like move_pages with
 * nodes=NULL). Returns 0 or -errno. */
int pagemig_query(pid_t pid, size_t count, void *const pages[], int status[]);

/*
 * Move every resident page of [start, end) of process pid (0 = self) to node. Pages that are
 * not present are left out; pages of the range that are already there count as on target.
 * Returns the number of resident pages not on node afterwards, or -errno (as pagemig_move).
 * report (may be NULL) covers the resident pages.
 */
long pagemig_move_range(pid_t pid, uintptr_t start, uintptr_t end, int node,
			const struct pagemig_opts *opts, struct pagemig_report *report);

/*
 * Move every resident page of every migratable mapping of process pid to node (like numactl's
 * migratepages, but page-exact, verified and reported). Returns as pagemig_move_range().
 */
long pagemig_move_process(pid_t pid, int node, const struct pagemig_opts *opts,
			  struct pagemig_report *report);

/*
 * Per-call latency from report->call_hist: the time (microseconds) that the given fraction of
 * the move calls took at most, e.g. 0.5 for the median, 0.99 for p99. The answer is the upper
 * edge of a histogram bucket, so at most 19 % above the true value. 0 when there were no
 * calls or the report is older than the histogram (report->sz too small).
 */
double pagemig_report_call_us(const struct pagemig_report *report, double fraction);

/* Print a report for humans, several lines, to out. title may be NULL. */
void pagemig_report_print(FILE *out, const struct pagemig_report *report, const char *title);

/* --------------------------------------------------------------------------------------------
 * Coalescing small requests
 *
 * A move_pages(2) call has a fixed cost (looking up the process, draining the per-CPU LRU
 * lists of every CPU) that dwarfs moving one page. A caller that decides about a few pages at a
 * time queues them in a batch; the batch sends them together, in calls sized like any other
 * operation's, once enough pages are queued or when flushed. A batch is not thread-safe: one
 * thread at a time.
 * ------------------------------------------------------------------------------------------ */

struct pagemig_batch;

/*
 * A batch for process pid (0 = self) with options opts (copied; may be NULL; opts->details is
 * ignored, per-page outcomes are not kept). The pid is guarded by a pidfd held until
 * pagemig_batch_free(), so a batch never moves pages of a process that took over the pid.
 * Returns NULL with errno set (EINVAL bad options, ESRCH no such process, ENOMEM).
 */
struct pagemig_batch *pagemig_batch_new(pid_t pid, const struct pagemig_opts *opts);

/*
 * Queue n pages (any addresses inside them) for node. Once at least opts->batch_pages pages
 * are queued they are sent (like pagemig_batch_flush(), with the outcome kept for the next
 * flush's report and return value). Returns 0, or -errno: -EINVAL (bad arguments), -ENODEV
 * (node out of range), -ENOMEM, or the error that made a send fail as a whole (-ESRCH: the
 * process is gone; the batch then refuses everything with that error).
 */
int pagemig_batch_add(struct pagemig_batch *batch, void *const pages[], size_t n, int node);

/* Pages queued and not sent yet. */
size_t pagemig_batch_pending(const struct pagemig_batch *batch);

/*
 * Send what is queued and settle the batch's account: report (may be NULL) receives the counts
 * of every page sent since the previous pagemig_batch_flush(), automatic sends included.
 * Returns how many of those pages are not on their node (as pagemig_move(); a page queued twice
 * counts twice), or -errno when a send failed as a whole (as pagemig_batch_add()).
 */
long pagemig_batch_flush(struct pagemig_batch *batch, struct pagemig_report *report);

/* Release the batch without sending what is still queued. NULL is accepted. */
void pagemig_batch_free(struct pagemig_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* PAGEMIG_PAGEMIG_H */
