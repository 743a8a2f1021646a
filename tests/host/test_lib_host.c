// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libpagemig against the running kernel (root, any number of nodes; moves go to the node the
 * memory is on, so a one-node machine runs every case).
 */
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"
#include "pagemig/pagemig.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static size_t ps;
static int home; /* the node our memory lands on */

static char *map_pages(size_t n, bool touch)
{
	char *p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if (touch)
		for (size_t i = 0; i < n; i++)
			p[i * ps] = (char)i;
	return p;
}

static void fill(void **pages, int *nodes, char *base, size_t n, int node)
{
	for (size_t i = 0; i < n; i++) {
		pages[i] = base + i * ps;
		if (nodes)
			nodes[i] = node;
	}
}

/* 6.12 and later: untouched anonymous memory has no page (-ENOENT); 4.3-6.11 walked it with
 * FOLL_DUMP and answered -EFAULT. */
static bool untouched_ok(int st)
{
	return st == -ENOENT || st == -EFAULT;
}

/* Whether pagemap shows frame numbers here and sysfs lists memory blocks per node. */
static bool frames_visible(void)
{
	uint64_t e = 0;
	volatile char c = 1;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	bool ok;

	(void)c;
	ok = fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)&c / ps * 8)) == 8 &&
	     (e & ((UINT64_C(1) << 55) - 1)) && access("/sys/devices/system/memory/block_size_bytes", R_OK) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_query(void)
{
	char *p = map_pages(4, false);
	volatile char sink;
	void *pages[4];
	int st[4];

	p[0] = 1;		/* touched */
	sink = p[2 * ps];	/* read only: the shared zero page */
	munmap(p + 3 * ps, ps); /* a hole */
	(void)sink;
	fill(pages, NULL, p, 4, 0);
	CHECK_EQ(pagemig_query(0, 4, pages, st), 0);
	CHECK_EQ(st[0], home);
	CHECK(untouched_ok(st[1]));
	CHECK_EQ(st[2], -EFAULT);
	CHECK_EQ(st[3], -EFAULT);
	munmap(p, 3 * ps);
}

static void test_move_same_node(void)
{
	enum { N = 256 };
	char *p = map_pages(N, true);
	void *pages[N];
	int nodes[N], st[N];
	struct pagemig_report rep;
	struct pagemig_page_detail det[N];
	struct pagemig_opts o = {.sz = sizeof(o), .details = det};
	char why[200];

	fill(pages, nodes, p, N, home);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, &o, &rep), 0);
	for (int i = 0; i < N; i++)
		CHECK_EQ(st[i], home);
	CHECK_EQ(rep.pages_on_target, N);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_MOVED], N);
	/* library defaults: a first call of 64 pages, then at most 4x as many per call (fewer if
	 * the first call looked slow against the budget: a busy machine) */
	CHECK(rep.calls >= 2 && rep.calls <= N / 64 * 2);
	CHECK_EQ(rep.entries_sent, N);
	/* the pages answered on target are checked once, at the end of the pass: from their frame
	 * numbers where those are visible (root) and the kernel lists its memory blocks, else with
	 * one query */
	if (frames_visible()) {
		CHECK_EQ(rep.frames_verified, N);
		CHECK_EQ(rep.query_calls, 0);
	} else {
		CHECK_EQ(rep.frames_verified, 0);
		CHECK_EQ(rep.query_calls, 1);
	}
	CHECK(pagemig_report_call_us(&rep, 0.5) > 0);
	pagemig_explain(why, sizeof(why), &det[0].first, det[0].retries, st[0], home);
	CHECK(strcmp(why, "moved") == 0);

	/* asking first tells pages that were there already apart */
	o.flags = PAGEMIG_PREQUERY;
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, &o, &rep), 0);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_ALREADY], N);
	CHECK_EQ(rep.pages_moved, 0);
	CHECK_EQ(rep.calls, 0);
	munmap(p, N * ps);
}

static void test_hole_and_untouched(void)
{
	enum { N = 8 };
	char *p = map_pages(N, true);
	void *pages[N];
	int nodes[N], st[N];
	struct pagemig_report rep;
	char *u = map_pages(2, false);

	munmap(p + 3 * ps, ps);
	fill(pages, nodes, p, N, home);
	pages[5] = u; /* never touched */
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, &rep), 2);
	CHECK_EQ(st[3], -EFAULT);
	CHECK(untouched_ok(st[5]));
	CHECK_EQ(st[0], home);
	CHECK_EQ(st[7], home);
	CHECK_EQ(rep.retries, 0); /* permanent: not retried */
	CHECK_EQ(rep.first_by_step[PAGEMIG_STEP_PRE], 2);
	munmap(p, N * ps);
	munmap(u, 2 * ps);
}

static void test_no_such_node(void)
{
	enum { N = 4 };
	char *p = map_pages(N, true);
	void *pages[N];
	int nodes[N], st[N];
	int bad = -1;
	struct pagemig_report rep;

	/* the first node id without memory */
	for (int n = 0; n <= 1023 && bad < 0; n++)
		if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)n))
			bad = n;
	fill(pages, nodes, p, N, home);
	nodes[2] = bad;
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, &rep), -ENODEV);
	CHECK_EQ(rep.call_error, -ENODEV);
	CHECK_EQ(st[2], -ECANCELED);
	nodes[2] = -3;
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, NULL), -ENODEV);
	munmap(p, N * ps);
}

static pid_t spawn_exited(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void test_exited_pid(void)
{
	char *p = map_pages(1, true);
	void *pages[1] = {p};
	int nodes[1] = {home}, st[1];
	pid_t pid = spawn_exited();

	CHECK_EQ(pagemig_move(pid, 1, pages, nodes, st, NULL, NULL), -ESRCH);
	CHECK_EQ(st[0], -ECANCELED);
	CHECK_EQ(pagemig_move_range(pid, (uintptr_t)p, (uintptr_t)p + ps, home, NULL, NULL),
		 -ESRCH);
	munmap(p, ps);
}

static void test_large_batch(void)
{
	enum { N = 50000 };
	char *p = map_pages(N, true);
	void **pages = malloc(N * sizeof(*pages));
	int *nodes = malloc(N * sizeof(*nodes)), *st = malloc(N * sizeof(*st));
	struct pagemig_report rep;
	long bad = 0;

	fill(pages, nodes, p, N, home);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, &rep), 0);
	for (int i = 0; i < N; i++)
		bad += st[i] != home;
	CHECK_EQ(bad, 0);
	CHECK_EQ(rep.pages_on_target, N);
	CHECK(rep.calls >=
	      (N + PAGEMIG_DEFAULT_PAGES_PER_CALL - 1) / PAGEMIG_DEFAULT_PAGES_PER_CALL);
	CHECK(rep.max_call_ns > 0);
	free(pages);
	free(nodes);
	free(st);
	munmap(p, (size_t)N * ps);
}

/* A list moved from 4 threads (pagemig_opts.threads): every part makes its own calls, every
 * page's status and details are at its own index; a list too short to split still moves. */
static void test_threads_list(void)
{
	enum { N = 5000 };
	char *p = map_pages(N, true);
	void **pages = malloc(N * sizeof(*pages));
	int *nodes = malloc(N * sizeof(*nodes)), *st = malloc(N * sizeof(*st));
	struct pagemig_page_detail *det = calloc(N, sizeof(*det));
	/* no budget and 2048 entries a call: one thread would send 5000 pages in 3 calls, each of
	 * 4 parts (1250 +- 312 pages) goes in one */
	struct pagemig_opts o = {.sz = sizeof(o),
				 .threads = 4,
				 .details = det,
				 .pages_per_call = 2048,
				 .call_budget_us = UINT_MAX};
	size_t sizes[] = {N, 300};

	madvise(p, (size_t)N * ps, MADV_NOHUGEPAGE);
	fill(pages, nodes, p, N, home);
	for (size_t k = 0; k < 2; k++) {
		struct pagemig_report rep;
		long bad = 0;

		memset(det, 0, N * sizeof(*det));
		memset(st, 0x7f, N * sizeof(*st));
		pagemig_report_init(&rep);
		CHECK_EQ(pagemig_move(0, sizes[k], pages, nodes, st, &o, &rep), 0);
		for (size_t i = 0; i < sizes[k]; i++)
			bad += st[i] != home || !det[i].final.success;
		CHECK_EQ(bad, 0);
		CHECK_EQ(rep.pages, sizes[k]);
		CHECK_EQ(rep.pages_on_target, sizes[k]);
		/* 5000 pages: 4 parts of one call each; 300: one thread, one call */
		CHECK_EQ(rep.calls, sizes[k] == N ? 4 : 1);
		CHECK(rep.elapsed_ns > 0);
	}
	free(det);
	free(pages);
	free(nodes);
	free(st);
	munmap(p, (size_t)N * ps);
}

/* A child with a touched buffer that waits until its pipe closes. */
static pid_t spawn_holder(char *buf, size_t n, int *ret_fd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds))
		exit(1);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		for (size_t i = 0; i < n; i++)
			buf[i * ps] = (char)(i + 1); /* its own copies now */
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(fds[0]);
	*ret_fd = fds[1];
	usleep(100000); /* let it write its pages */
	return pid;
}

static void test_other_process(void)
{
	enum { N = 64 };
	char *p = map_pages(N, true);
	void *pages[N];
	int nodes[N], st[N], fd, pidfd;
	struct pagemig_report rep;
	struct pagemig_opts o = {.sz = sizeof(o), .flags = PAGEMIG_PIDFD};
	pid_t pid = spawn_holder(p, N, &fd);

	fill(pages, nodes, p, N, home);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(pid, N, pages, nodes, st, NULL, &rep), 0);
	CHECK_EQ(rep.pages_on_target, N);

	/* a pidfd that names the process is accepted, one that names another is refused */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	CHECK(pidfd >= 0);
	o.pidfd = pidfd;
	CHECK_EQ(pagemig_move(pid, N, pages, nodes, st, &o, NULL), 0);
	CHECK_EQ(pagemig_move(getppid(), N, pages, nodes, st, &o, NULL), -ESRCH);

	CHECK_EQ(pagemig_move_process(pid, home, NULL, NULL), 0);
	close(fd);
	waitpid(pid, NULL, 0);
	/* the process behind the pidfd is gone: refused even if its pid were reused */
	CHECK_EQ(pagemig_move(pid, N, pages, nodes, st, &o, NULL), -ESRCH);
	close(pidfd);
	munmap(p, N * ps);
}

static void test_whole_range(void)
{
	enum { N = 512 };
	char *p = map_pages(N, false);
	struct pagemig_report rep;

	for (int i = 0; i < N; i += 2)
		p[(size_t)i * ps] = 1; /* every other page resident */
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move_range(0, (uintptr_t)p, (uintptr_t)(p + N * ps), home, NULL, &rep), 0);
	CHECK_EQ(rep.pages, N / 2);
	CHECK_EQ(rep.pages_on_target, N / 2);
	CHECK_EQ(rep.call_error, 0);
	CHECK_EQ(pagemig_move_range(0, 10, 5, home, NULL, NULL), -EINVAL);

	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move_process(0, home, NULL, &rep), 0);
	CHECK(rep.pages_on_target >= N / 2);
	munmap(p, N * ps);
}

static bool thp_enabled(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, "[never]") == NULL && buf[0];
}

/* AnonHugePages of the mapping holding addr, in kB, from /proc/self/smaps. */
static long anon_huge_kb(const void *addr)
{
	char line[256];
	unsigned long lo, hi;
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

static void test_huge_folio_dedup(void)
{
	enum { N = 1024 };
	size_t len = N * ps, huge = 512 * ps;
	char *raw, *p;
	void *pages[N];
	int nodes[N], st[N];
	struct pagemig_report rep;

	if (!thp_enabled()) {
		printf("  (transparent huge pages are off: nothing to check)\n");
		return;
	}
	raw = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(raw != MAP_FAILED);
	p = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise(p, len, MADV_HUGEPAGE);
	memset(p, 7, len);
	fill(pages, nodes, p, N, home);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, &rep), 0);
	CHECK_EQ(rep.pages_on_target, N);
	/* a window the kernel backs with a huge folio is sent as one entry */
	long kb = anon_huge_kb(p);

	printf("  AnonHugePages %ld kB; %lu entries sent for %d pages (%lu skipped)\n", kb,
	       rep.entries_sent, N, rep.folios_deduped);
	CHECK_EQ(rep.entries_sent + rep.folios_deduped, N);
	CHECK_EQ(rep.folios_deduped, (unsigned long)(kb * 1024 / (long)huge) * 511);
	munmap(raw, len + huge);
}

/* Small requests through a batch: coalesced into few calls, every page accounted for. */
static void test_batch(void)
{
	enum { N = 2000 };
	char *p = map_pages(N, true);
	void *pages[N];
	int nodes[N];
	struct pagemig_opts o = {.sz = sizeof(o), .batch_pages = 256};
	struct pagemig_report rep;
	struct pagemig_batch *b = pagemig_batch_new(0, &o);
	size_t requests = 0;

	CHECK(b != NULL);
	fill(pages, nodes, p, N, home);
	for (size_t off = 0; off < N; requests++) {
		size_t k = 1 + requests % 16;

		if (k > N - off)
			k = N - off;
		CHECK_EQ(pagemig_batch_add(b, pages + off, k, home), 0);
		off += k;
	}
	CHECK(pagemig_batch_pending(b) < 256 + 16);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_batch_flush(b, &rep), 0);
	CHECK_EQ(rep.pages, N);
	CHECK_EQ(rep.pages_on_target, N);
	CHECK(rep.calls < requests / 4);
	CHECK(pagemig_report_call_us(&rep, 0.99) > 0);
	/* a pid that does not exist: no batch */
	errno = 0;
	CHECK(pagemig_batch_new(INT32_MAX - 1, NULL) == NULL);
	CHECK_EQ(errno, ESRCH);
	pagemig_batch_free(b);
	munmap(p, N * ps);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_query),
		CHECK_TEST(test_move_same_node),
		CHECK_TEST(test_hole_and_untouched),
		CHECK_TEST(test_no_such_node),
		CHECK_TEST(test_exited_pid),
		CHECK_TEST(test_large_batch),
		CHECK_TEST(test_threads_list),
		CHECK_TEST(test_other_process),
		CHECK_TEST(test_whole_range),
		CHECK_TEST(test_huge_folio_dedup),
		CHECK_TEST(test_batch),
	};
	char *probe;

	if (geteuid() != 0)
		SKIP_ALL("needs root (move_pages on other processes, /proc/kpageflags)");
	if (numa_available() < 0)
		SKIP_ALL("the kernel has no NUMA support");
	ps = (size_t)sysconf(_SC_PAGESIZE);
	probe = map_pages(1, true);
	if (get_mempolicy(&home, NULL, 0, probe, MPOL_F_NODE | MPOL_F_ADDR) < 0)
		SKIP_ALL("get_mempolicy: %s", strerror(errno));
	munmap(probe, ps);
	printf("memory lands on node %d; %d memory node(s)\n", home, numa_num_configured_nodes());
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
