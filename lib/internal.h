/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpagemig internals shared between the library's modules and its unit tests. Nothing here is
 * exported from libpagemig.so (see libpagemig.map); unit tests link libpagemig.a.
 */
#ifndef PAGEMIG_INTERNAL_H
#define PAGEMIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagemig/pagemig.h"

/* Pre-filled into status[] before a move call: neither a node id nor an errno. */
#define PAGEMIG_SENTINEL INT32_MIN

/* Largest node id move_pages(2) accepts (MAX_NUMNODES on distribution kernels). */
#define PAGEMIG_MAX_NODE 1023

/* Cleanup helpers in the style of systemd's _cleanup_. */
#define _cleanup_(f) __attribute__((cleanup(f)))
void pagemig__freep(void *p);
void pagemig__closep(int *fd);
#define _cleanup_free_	_cleanup_(pagemig__freep)
#define _cleanup_close_ _cleanup_(pagemig__closep)

struct pagemig_frame_map;

/* One operation's hold on the frame map: a reference, the span of its last lookup, and whether
 * it has rebuilt the map already (once per operation at most). Zero-initialise. */
struct pagemig_frame_ref {
	struct pagemig_frame_map *map;
	size_t hint;
	bool refreshed;
};

/* Where one pagemig operation asks about huge folios (lazily opened /proc files). */
struct pagemig_probe {
	pid_t pid;
	int pagemap_fd;	   /* /proc/PID/pagemap, -1 until opened */
	int kpageflags_fd; /* /proc/kpageflags, -1 until opened */
	bool unavailable;  /* opening failed once: do not try again */
	/* the last window asked about and its answer (real_pmd_folio's cache) */
	bool cached;
	uintptr_t cached_window;
	int cached_answer;
	/* frame numbers to nodes (real_frame_nodes) */
	struct pagemig_frame_ref frames;
	bool frames_unavailable; /* no map, or no privilege to see frames: do not try again */
	uint64_t *frames_buf;	 /* pagemap entries, FRAME_READ_PAGES of them */
};

/*
 * Frame numbers to nodes, from the memory blocks the kernel lists under each node (frames.c).
 * One map is shared by all operations of the process; holders take a reference.
 */
/* A reference to the current map, built on first use. With stale (a map the caller holds that
 * lacked a frame) the map is rebuilt first if it is still the current one. Returns 0 or -errno
 * (-ENOENT: the kernel lists no memory blocks, e.g. built without memory hotplug). */
int pagemig__frame_map_get(struct pagemig_frame_map **out, const struct pagemig_frame_map *stale);
/* Drop a reference (NULL is fine). */
void pagemig__frame_map_put(struct pagemig_frame_map *map);
/* Node of frame pfn; -ENOENT outside every known block, -1 in a block of two nodes. hint
 * remembers the span of the last hit (start with 0). */
int pagemig__frame_node(const struct pagemig_frame_map *map, uint64_t pfn, size_t *hint);
/* Node of frame pfn through ref (which must hold a map): when the frame lies in no known block,
 * the map is rebuilt once per operation (memory was added) and asked again. Returns the node,
 * -ENOENT or -1 as pagemig__frame_node(). */
int pagemig__frame_ref_node(struct pagemig_frame_ref *ref, uint64_t pfn);
/* Unit tests: a map from {first block, number of blocks, node} rows (one block on two rows
 * with two nodes is ambiguous), block_pages pages per block. NULL when out of memory. */
struct pagemig_frame_map *pagemig__frame_map_from(const uint64_t (*rows)[3], size_t n,
						   uint64_t block_pages);

/*
 * The system calls and clocks the engine uses, replaceable by unit tests to replay kernel
 * behaviours (positive returns with unwritten tails, -EBUSY for pages that moved, processes that
 * exit part-way, ...). Every function returns -errno on failure.
 */
struct pagemig_sys {
	/* move_pages(2); nodes == NULL queries. Returns >= 0 or -errno. */
	long (*move_pages)(void *ctx, pid_t pid, unsigned long count, void **pages,
			   const int *nodes, int *status, int flags);
	/* pidfd_open(2): a new fd, or -errno. */
	int (*pidfd_open)(void *ctx, pid_t pid);
	/* Close an fd pidfd_open returned. */
	void (*pidfd_close)(void *ctx, int pidfd);
	/* 0 when the process behind pidfd is alive, -ESRCH when it has exited. */
	int (*pidfd_alive)(void *ctx, int pidfd);
	/* 1 when the pmd-aligned window at addr is one huge folio (THP or hugetlb) of pmd size,
	 * 0 when it is not, -errno when that cannot be told (no privilege, no /proc). */
	int (*pmd_folio)(void *ctx, struct pagemig_probe *probe, uintptr_t addr);
	/* Where pages are by their frames: nodes[i] = the node of the frame mapped at pages[i]
	 * (from /proc/PID/pagemap and the frame map), or PAGEMIG_SENTINEL when that cannot be
	 * told for that page (not present, frame in no known block or in a block of two nodes).
	 * Returns 0, or -errno when nothing can be told (no privilege to see frames, no memory
	 * blocks listed); then it is not tried again in this operation. May be NULL. */
	int (*frame_nodes)(void *ctx, struct pagemig_probe *probe, size_t count,
			   void *const *pages, int *nodes);
	void (*sleep_us)(void *ctx, unsigned int us);
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

/* The syscall layer in use (the real one unless a test replaced it). */
const struct pagemig_sys *pagemig__sys(void);
/* Replace the syscall layer; NULL restores the real one. Not thread-safe: tests only. */
void pagemig__set_sys(const struct pagemig_sys *sys);
/* The real implementations, for test doubles that want to fall through. */
extern const struct pagemig_sys pagemig__real_sys;

/* Size of a PMD-mapped huge page (2 MiB on x86-64), read once from sysfs. */
size_t pagemig__pmd_size(void);
/* Base page size. */
size_t pagemig__page_size(void);

void pagemig__probe_init(struct pagemig_probe *probe, pid_t pid);
void pagemig__probe_close(struct pagemig_probe *probe);
/* Forget cached answers about windows: a move call may have split or moved their folios. */
void pagemig__probe_forget(struct pagemig_probe *probe);

/* Guards an operation on another process against pid reuse. */
struct pagemig_pid_guard {
	pid_t pid;
	int pidfd; /* -1 when not guarding (self, or pidfds unsupported) */
	bool owned;
	bool reused; /* guard_open found the caller's process gone and its pid taken */
};

/* Take a pidfd for pid (or adopt opts' pidfd when PAGEMIG_PIDFD is set and it names pid).
 * Returns 0, -ESRCH when the process does not exist or the pidfd names another one. */
int pagemig__guard_open(struct pagemig_pid_guard *guard, pid_t pid,
			const struct pagemig_opts *opts);
/* 0 while the guarded process lives; -ESRCH once it exited (sets *reused when the pid already
 * names another process). */
int pagemig__guard_check(const struct pagemig_pid_guard *guard, bool *reused);
void pagemig__guard_close(struct pagemig_pid_guard *guard);

/* Options with defaults filled in and sizes reconciled. Returns 0 or -EINVAL. */
int pagemig__opts_resolve(const struct pagemig_opts *in, struct pagemig_opts *out);

/*
 * What the engine has learnt about the cost of a move call, kept across the batches of one
 * range, process or coalesced (pagemig_batch) operation so that a later batch does not start
 * from nothing: a decaying least-squares fit of call time = fixed + pages * each, and the chunk
 * size (in pages) it asks for next. Zero-initialise.
 */
struct pagemig_chunker {
	double w, n, t, nn, nt;
	size_t next;	 /* pages for the next call; 0 = no estimate yet */
	size_t last;	 /* pages of the latest call */
};

/* The engine behind pagemig_move(), also used by range and process moves: guard already open.
 * chunker may be NULL (the operation keeps its own). */
long pagemig__move_guarded(const struct pagemig_pid_guard *guard, size_t count, void *const pages[],
			   const int nodes[], int status[], const struct pagemig_opts *opts,
			   struct pagemig_report *report, struct pagemig_chunker *chunker);

/* pagemig_opts.threads, bounded (1 when the caller's struct predates the field). */
unsigned int pagemig__threads_of(const struct pagemig_opts *opts);


/*
 * The engine from up to nthreads threads at once (parts.c): pages[] is cut into parts of about
 * equal size, at a huge-page window's edge where one lies near, each moved by
 * pagemig__move_guarded() in its own thread. Every part's status[] is filled; details, when
 * index_details, are the caller's (a part's start at its first entry), otherwise not kept.
 * Adds every part's counts to report (elapsed_ns excepted: the caller measures the wall time).
 * Returns the pages left off target, or the first part's -errno.
 */
long pagemig__move_split(const struct pagemig_pid_guard *guard, size_t count, void *const pages[],
			 const int nodes[], int status[], const struct pagemig_opts *opts,
			 unsigned int nthreads, bool index_details, struct pagemig_report *report,
			 struct pagemig_chunker *chunker);

/* Count one move call of ns nanoseconds into the report's latency histogram. */
void pagemig__report_call(struct pagemig_report *report, uint64_t ns);

/* Final status[] value for a page that ended with this outcome. */
int pagemig__outcome_errno(enum pagemig_outcome outcome);

/* Add b's counts into a (elapsed times add up; call_error and pid_reused carry over). */
void pagemig__report_add(struct pagemig_report *a, const struct pagemig_report *b);

#endif /* PAGEMIG_INTERNAL_H */
