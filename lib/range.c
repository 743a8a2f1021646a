// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whole-range and whole-process moves. Resident pages are found through /proc/PID/pagemap; where
 * its PFNs are visible (CAP_SYS_ADMIN) the node of each page follows from the memory block it
 * lies in, otherwise the kernel is asked with a nodes=NULL query. Pages already on the target are
 * not sent. The rest goes through the engine in large batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT  (UINT64_C(1) << 63)
#define SCAN_PAGES  4096  /* pagemap entries read at once */
#define BATCH_PAGES 65536 /* pages handed to the engine at once */

struct range_ctx {
	struct pagemig_pid_guard guard;
	const struct pagemig_opts *opts;
	struct pagemig_report rep;
	struct pagemig_chunker ck; /* call cost estimate, carried from batch to batch */
	int node;
	int pagemap_fd;
	int pfn_visible; /* -1 unknown, 0 no, 1 yes */
	struct pagemig_frame_ref frames; /* map NULL when sysfs lists no memory blocks */
	void **batch;
	int *bnodes;
	int *bstatus;
	size_t nbatch;
	uint64_t *pm; /* SCAN_PAGES pagemap entries */
	void **cand;  /* SCAN_PAGES candidates to ask about */
	int *q;
	long off;
	unsigned long already;
};

/* Node of a frame from the shared frame map (frames.c), -1 when it cannot be told. */
static int pfn_node(struct range_ctx *c, uint64_t pfn)
{
	int node = pagemig__frame_ref_node(&c->frames, pfn);

	return node < 0 ? -1 : node;
}

/* Hand the collected pages to the engine. */
static int flush(struct range_ctx *c)
{
	unsigned int nthreads = pagemig__threads_of(c->opts);
	struct pagemig_report rep;
	long ret;

	if (!c->nbatch)
		return 0;
	if (nthreads > 1 && c->nbatch >= nthreads * PAGEMIG_THREAD_MIN_PAGES) {
		/* batch indexes mean nothing to the caller: no details */
		ret = pagemig__move_split(&c->guard, c->nbatch, c->batch, c->bnodes, c->bstatus,
					  c->opts, nthreads, false, &c->rep, &c->ck);
	} else {
		pagemig_report_init(&rep);
		ret = pagemig__move_guarded(&c->guard, c->nbatch, c->batch, c->bnodes, c->bstatus,
					    c->opts, &rep, &c->ck);
		pagemig__report_add(&c->rep, &rep);
	}
	if (ret < 0)
		return (int)ret;
	/* pages that turned out not to be movable (zero page, special mappings) or to have gone
	 * are not resident movable pages: they are reported, not counted as off target */
	for (size_t i = 0; i < c->nbatch; i++)
		if (c->bstatus[i] != c->node && c->bstatus[i] != -EFAULT &&
		    c->bstatus[i] != -ENOENT)
			c->off++;
	c->nbatch = 0;
	return 0;
}

static int push(struct range_ctx *c, uintptr_t addr)
{
	if (c->nbatch == BATCH_PAGES) {
		int err = flush(c);

		if (err)
			return err;
	}
	c->batch[c->nbatch] = (void *)addr;
	c->bnodes[c->nbatch] = c->node;
	c->nbatch++;
	return 0;
}

/* Without visible PFNs: ask the kernel where the candidate pages are, keep the movable ones. */
static int push_queried(struct range_ctx *c, void **cand, int *q, size_t n)
{
	const struct pagemig_sys *sys = pagemig__sys();
	long ret = sys->move_pages(sys->ctx, c->guard.pid, n, cand, NULL, q, 0);

	c->rep.query_calls++;
	if (ret < 0)
		return (int)ret;
	for (size_t i = 0; i < n; i++) {
		int err;

		if (q[i] == c->node) {
			c->already++;
			continue;
		}
		if (q[i] < 0)
			continue;
		err = push(c, (uintptr_t)cand[i]);
		if (err)
			return err;
	}
	return 0;
}

static int scan_range(struct range_ctx *c, uintptr_t start, uintptr_t end)
{
	size_t ps = pagemig__page_size();
	uint64_t *pm = c->pm;
	void **cand = c->cand;

	for (uintptr_t a = start; a < end; a += SCAN_PAGES * ps) {
		size_t n = (end - a) / ps < SCAN_PAGES ? (end - a) / ps : SCAN_PAGES, nc = 0;
		ssize_t got = -1;
		int err;

		err = pagemig__guard_check(&c->guard, &c->rep.pid_reused);
		if (err)
			return err;
		if (c->pagemap_fd >= 0)
			got = pread(c->pagemap_fd, pm, n * 8, (off_t)(a / ps * 8));
		if (got < 0) {
			/* no pagemap: every page is a candidate */
			for (size_t i = 0; i < n; i++)
				pm[i] = PM_PRESENT;
		} else {
			n = (size_t)got / 8;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t pfn = pm[i] & PM_PFN_MASK;
			int node;

			if (!(pm[i] & PM_PRESENT))
				continue;
			if (c->pfn_visible < 0 && got >= 0)
				c->pfn_visible = pfn != 0 && c->frames.map;
			node = c->pfn_visible == 1 ? pfn_node(c, pfn) : -1;
			if (node == c->node) {
				c->already++;
			} else if (node >= 0) {
				err = push(c, a + i * ps);
				if (err)
					return err;
			} else {
				cand[nc++] = (void *)(a + i * ps);
			}
		}
		if (nc) {
			err = push_queried(c, cand, c->q, nc);
			if (err)
				return err;
		}
		if (got == 0)
			break;
	}
	return 0;
}

static int ctx_open(struct range_ctx *c, pid_t pid, int node, const struct pagemig_opts *opts)
{
	char path[64];
	int err;

	memset(c, 0, sizeof(*c));
	c->pagemap_fd = -1;
	c->pfn_visible = -1;
	c->node = node;
	c->opts = opts;
	pagemig_report_init(&c->rep);
	if (node < 0)
		return -ENODEV;
	err = pagemig__guard_open(&c->guard, pid, opts);
	if (err)
		return err;
	c->batch = malloc(BATCH_PAGES * sizeof(*c->batch));
	c->bnodes = malloc(BATCH_PAGES * sizeof(*c->bnodes));
	c->bstatus = malloc(BATCH_PAGES * sizeof(*c->bstatus));
	c->pm = malloc(SCAN_PAGES * sizeof(*c->pm));
	c->cand = malloc(SCAN_PAGES * sizeof(*c->cand));
	c->q = malloc(SCAN_PAGES * sizeof(*c->q));
	if (!c->batch || !c->bnodes || !c->bstatus || !c->pm || !c->cand || !c->q)
		return -ENOMEM;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	else
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	c->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->pagemap_fd < 0 && errno == ENOENT)
		return -ESRCH;
	if (pagemig__frame_map_get(&c->frames.map, NULL))
		c->frames.map = NULL; /* every page is asked about */
	return 0;
}

/* Finish the operation: flush, fold in the pages found on target, release everything but the
 * report. Returns the operation's result. */
static long ctx_close(struct range_ctx *c, int err)
{
	if (!err)
		err = flush(c);
	c->rep.pages += c->already;
	c->rep.pages_on_target += c->already;
	c->rep.by_outcome[PAGEMIG_OUT_ALREADY] += c->already;
	if (err)
		c->rep.call_error = err;
	c->rep.pid_reused |= c->guard.reused;
	pagemig__guard_close(&c->guard);
	pagemig__closep(&c->pagemap_fd);
	pagemig__frame_map_put(c->frames.map);
	free(c->batch);
	free(c->bnodes);
	free(c->bstatus);
	free(c->pm);
	free(c->cand);
	free(c->q);
	return err ? err : c->off;
}

long pagemig_move_range(pid_t pid, uintptr_t start, uintptr_t end, int node,
			const struct pagemig_opts *opts, struct pagemig_report *report)
{
	const struct pagemig_sys *sys = pagemig__sys();
	struct range_ctx c;
	uint64_t t0 = sys->now_ns(sys->ctx);
	size_t ps = pagemig__page_size();
	long ret;
	int err;

	err = ctx_open(&c, pid, node, opts);
	if (!err && end < start)
		err = -EINVAL;
	if (!err)
		err = scan_range(&c, start & ~(uintptr_t)(ps - 1),
				 (end + ps - 1) & ~(uintptr_t)(ps - 1));
	ret = ctx_close(&c, err);
	c.rep.elapsed_ns = sys->now_ns(sys->ctx) - t0;
	if (report)
		pagemig__report_add(report, &c.rep);
	return ret;
}

/* Mappings whose pages cannot migrate: the kernel's own special mappings. */
static bool special_mapping(const char *name)
{
	return !strcmp(name, "[vvar]") || !strcmp(name, "[vvar_vclock]") ||
	       !strcmp(name, "[vdso]") || !strcmp(name, "[vsyscall]");
}

long pagemig_move_process(pid_t pid, int node, const struct pagemig_opts *opts,
			  struct pagemig_report *report)
{
	const struct pagemig_sys *sys = pagemig__sys();
	uint64_t t0 = sys->now_ns(sys->ctx);
	struct range_ctx c;
	char path[64], line[512];
	FILE *maps = NULL;
	long ret;
	int err;

	err = ctx_open(&c, pid, node, opts);
	if (!err) {
		if (pid == 0)
			snprintf(path, sizeof(path), "/proc/self/maps");
		else
			snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
		maps = fopen(path, "re");
		if (!maps)
			err = errno == ENOENT ? -ESRCH : -errno;
	}
	while (!err && fgets(line, sizeof(line), maps)) {
		unsigned long long lo, hi;
		char perms[8], name[256] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %255s", &lo, &hi, perms, name) < 3)
			continue;
		if (special_mapping(name))
			continue;
		err = scan_range(&c, (uintptr_t)lo, (uintptr_t)hi);
	}
	if (maps)
		fclose(maps);
	ret = ctx_close(&c, err);
	c.rep.elapsed_ns = sys->now_ns(sys->ctx) - t0;
	if (report)
		pagemig__report_add(report, &c.rep);
	return ret;
}
