// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sampler on the running kernel, checked against ground truth:
 *
 *   sources      what loads here and why not (this development kernel: fault, oncpu, audit;
 *                no PMU, no soft-dirty), and the "no hardware PMU" message.
 *   fault_pages  a child touching exactly N fresh pages yields exactly N pages for its tgid in
 *                its buffer, one write fault each, all on node 0; nothing is recorded for the
 *                processes that are not managed (this one and another child faulting at the
 *                same time), and no sample is lost.
 *   pmu_sw       the perf_event program, fed by a software page-fault event with data
 *                addresses instead of a hardware PMU: the same N pages, source pmu.
 *   oncpu        on-CPU time of a busy child, summed over nodes, is within 5% of the CPU time
 *                getrusage reports for it.
 *   audit        a one-node machine migrates nothing for move_pages() to the node a page is
 *                already on (checked: no record, no migrate_pages() call); so the steps are
 *                checked on a migration that does happen here, compaction
 *                (/proc/sys/vm/compact_memory, run by this process, so this process is the
 *                mover): every page of ours that compaction moved (its frame changed in
 *                /proc/self/pagemap) shows step 4 then step 16 on exactly its new frame, on
 *                node 0, with reason compaction. The "syscall" reason and cross-node moves are
 *                checked in the lab (tests/lab/sampler).
 *
 * Root needed; exits 77 when BPF is not permitted. PAGEMIG_TEST_VERBOSE=1 shows the sampler's
 * log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <pagemig/pagemig.h>

#include "check.h"
#include "sampler.h"

#define PAGE	    4096ul
#define N_PAGES	    1000 /* touched by the managed child */
#define N_OTHER	    700	 /* touched by unmanaged processes meanwhile */
#define BUSY_NS	    600000000ull
#define ONCPU_TOL   0.05
#define AUDIT_PAGES 4096

static bool verbose;

static int table_notices; /* "samples dropped ... max_pages" said, counted by log_cb */

static void log_cb(int level, const char *msg, void *ctx)
{
	if (level == LOG_NOTICE && strstr(msg, "max_pages = 1024"))
		table_notices++;
	if (verbose || level <= LOG_WARNING)
		fprintf(stderr, "sampler: %s\n", msg);
}

static struct pagemig_sampler *new_sampler(unsigned int sources,
					   const struct perf_event_attr *pmu_attr)
{
	struct pagemig_sampler_config c = {
		.sz = sizeof(c),
		.sources = sources,
		.pmu_attr = pmu_attr,
		.ringbuf_bytes = 64u << 20, /* compaction moves thousands of pages at once */
		.log = log_cb,
	};
	struct pagemig_sampler *s = NULL;
	int err = pagemig_sampler_new(&c, &s);

	CHECK_EQ(err, 0);
	return s;
}

/* ---- child workloads --------------------------------------------------------------------- */

struct child {
	pid_t pid;
	int go;	  /* parent -> child: start, then exit */
	int done; /* child -> parent: a result word */
};

typedef uint64_t (*work_fn)(void);

static int spawn(struct child *c, work_fn fn)
{
	int go[2], done[2];
	uint64_t result;
	char b;

	if (pipe2(go, O_CLOEXEC) || pipe2(done, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		close(go[1]);
		close(done[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		result = fn();
		if (write(done[1], &result, sizeof(result)) != sizeof(result))
			_exit(3);
		/* Wait to be told to exit, so the parent drains while we still exist. */
		if (read(go[0], &b, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	c->go = go[1];
	c->done = done[0];
	return 0;
}

static void child_go(struct child *c)
{
	CHECK_EQ(write(c->go, "g", 1), 1);
}

static uint64_t child_result(struct child *c)
{
	uint64_t r = 0;

	CHECK_EQ(read(c->done, &r, sizeof(r)), sizeof(r));
	return r;
}

/* Tell the child to exit and reap it; rusage of the child if ru. */
static void child_end(struct child *c, struct rusage *ru)
{
	int status = 0;

	child_go(c);
	close(c->go);
	close(c->done);
	CHECK_EQ(wait4(c->pid, &status, 0, ru), c->pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static char *fresh(size_t npages)
{
	char *p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		return NULL;
	/* One fault per base page: no transparent huge page may cover several. */
	madvise(p, npages * PAGE, MADV_NOHUGEPAGE);
	return p;
}

static void touch(char *p, size_t npages)
{
	for (size_t i = 0; i < npages; i++)
		((volatile char *)p)[i * PAGE] = 1;
}

/* In the child: map n fresh pages, touch each once; their address. */
static uint64_t touch_fresh(size_t n)
{
	char *p = fresh(n);

	if (!p)
		_exit(5);
	touch(p, n);
	return (uint64_t)(uintptr_t)p;
}

static uint64_t touch_n_pages(void)
{
	return touch_fresh(N_PAGES);
}

static uint64_t touch_other(void)
{
	touch_fresh(N_OTHER);
	return 0;
}

/* Three times more pages than the smallest page table holds. */
#define N_MANY 3072
static uint64_t touch_many_pages(void)
{
	return touch_fresh(N_MANY);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t busy(void)
{
	volatile uint64_t x = 0;

	while (cpu_ns() < BUSY_NS)
		for (int i = 0; i < 100000; i++)
			x += (uint64_t)i;
	return x;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_sources(void)
{
	struct pagemig_sampler *s = new_sampler(0, NULL);
	const struct pagemig_source_status *st;
	bool has_pmu = !access("/sys/bus/event_source/devices/cpu/events/mem-loads", F_OK) ||
		       !access("/sys/bus/event_source/devices/cpu_core/events/mem-loads", F_OK) ||
		       !access("/sys/bus/event_source/devices/ibs_op", F_OK);

	if (!s)
		return;
	st = pagemig_sampler_sources(s);
	for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++) {
		printf("  %-10s %-12s %s\n", pagemig_source_name(i),
		       pagemig_source_state_name(st[i].state), st[i].detail);
		CHECK_EQ(st[i].source, i);
		CHECK(st[i].state != PAGEMIG_SOURCE_OFF); /* all were asked for */
		CHECK(st[i].state != PAGEMIG_SOURCE_FAILED);
		CHECK(st[i].detail[0]);
	}
	CHECK_EQ(st[PAGEMIG_SOURCE_FAULT].state, PAGEMIG_SOURCE_ACTIVE);
	CHECK_EQ(st[PAGEMIG_SOURCE_ONCPU].state, PAGEMIG_SOURCE_ACTIVE);
	CHECK_EQ(st[PAGEMIG_SOURCE_AUDIT].state, PAGEMIG_SOURCE_ACTIVE);
	if (!has_pmu) {
		CHECK_EQ(st[PAGEMIG_SOURCE_PMU].state, PAGEMIG_SOURCE_UNAVAILABLE);
		CHECK(strstr(st[PAGEMIG_SOURCE_PMU].detail, "not available: no hardware PMU"));
	}
	CHECK(pagemig_sampler_any_active(s));
	CHECK(pagemig_sampler_fd(s) >= 0);
	CHECK_EQ(pagemig_sampler_manage(s, 0), -EINVAL);
	CHECK_EQ(pagemig_sampler_unmanage(s, getpid()), -ENOENT);
	pagemig_sampler_free(s);
}

/* Check a snapshot against "exactly N fresh pages of tgid in buf, nobody else". */
static void check_pages(const struct pagemig_snapshot *snap, pid_t tgid, uint64_t buf,
			uint8_t source, bool softdirty_active)
{
	size_t in_buf = 0, outside = 0, others = 0, bad = 0;
	uint64_t prev = 0;
	/* first touches: seen, but no access (weight 0) where soft-dirty re-arming supplies
	 * accesses, unless NUMA balancing runs */
	uint64_t want_weight =
		source == PAGEMIG_SAMPLE_FAULT && !snap->numa_balancing && softdirty_active ? 0 : 1;

	for (size_t i = 0; i < snap->n_pages; i++) {
		const struct pagemig_page_score *p = &snap->pages[i];

		if (p->tgid != (uint32_t)tgid) {
			others++;
			continue;
		}
		if (p->page < buf || p->page >= buf + N_PAGES * PAGE) {
			outside++;
			continue;
		}
		in_buf++;
		/* Sorted and distinct: (tgid, page, node, source) keys, one node, one source. */
		if (in_buf > 1 && p->page <= prev)
			bad++;
		prev = p->page;
		if (p->node != 0 || p->source != source || p->events != 1 ||
		    p->weight != want_weight || p->score != (double)want_weight)
			bad++;
	}
	printf("  tgid %d: %zu pages in its buffer (expected %d), %zu elsewhere (stack, libc "
	       "copy-on-write); %zu entries of other processes\n",
	       tgid, in_buf, N_PAGES, outside, others);
	CHECK_EQ(in_buf, N_PAGES);
	CHECK_EQ(bad, 0);
	CHECK_EQ(others, 0);
}

static void run_page_workload(struct pagemig_sampler *s, uint8_t source)
{
	struct pagemig_sampler_stats st;
	const struct pagemig_snapshot *snap = NULL;
	struct child w, u;
	char *mine;
	uint64_t buf;

	CHECK_EQ(spawn(&w, touch_n_pages), 0);
	CHECK_EQ(spawn(&u, touch_other), 0);
	CHECK_EQ(pagemig_sampler_manage(s, w.pid), 0);
	CHECK_EQ(pagemig_sampler_manage(s, w.pid), 0); /* idempotent */
	child_go(&w);
	child_go(&u);
	mine = fresh(N_OTHER); /* this process faults too, unmanaged */
	if (mine)
		touch(mine, N_OTHER);
	buf = child_result(&w);
	child_result(&u);

	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	check_pages(snap, w.pid, buf, source,
		    pagemig_sampler_sources(s)[PAGEMIG_SOURCE_SOFTDIRTY].state ==
			    PAGEMIG_SOURCE_ACTIVE);
	pagemig_sampler_stats(s, &st);
	CHECK_EQ(st.ring_dropped, 0);
	CHECK_EQ(st.table_dropped, 0);
	CHECK(st.samples[source] >= N_PAGES);
	CHECK_EQ(st.no_node, 0);

	/* Unmanaged: the next interval carries nothing new for it, its old entries decay. */
	CHECK_EQ(pagemig_sampler_unmanage(s, w.pid), 0);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	for (size_t i = 0; i < snap->n_pages; i++)
		CHECK(snap->pages[i].events == 0 && snap->pages[i].score < 1.0);
	child_end(&w, NULL);
	child_end(&u, NULL);
	if (mine)
		munmap(mine, N_OTHER * PAGE);
}

static void test_fault_pages(void)
{
	struct pagemig_sampler *s = new_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT), NULL);

	if (!s)
		return;
	CHECK_EQ(pagemig_sampler_sources(s)[PAGEMIG_SOURCE_FAULT].state, PAGEMIG_SOURCE_ACTIVE);
	run_page_workload(s, PAGEMIG_SAMPLE_FAULT);
	pagemig_sampler_free(s);
}

/*
 * A process that touches more pages than max_pages: the table keeps max_pages of them, the rest
 * are counted as dropped, and the operator is told once (not at every interval).
 */
static void test_table_full(void)
{
	struct pagemig_sampler_config c = {
		.sz = sizeof(c),
		.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT),
		.max_pages = 1024,
		.log = log_cb,
	};
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler_stats st;
	struct pagemig_sampler *s = NULL;
	struct child w;
	size_t mine = 0;

	CHECK_EQ(pagemig_sampler_new(&c, &s), 0);
	if (!s)
		return;
	table_notices = 0;
	for (int round = 0; round < 2; round++) {
		CHECK_EQ(spawn(&w, touch_many_pages), 0);
		CHECK_EQ(pagemig_sampler_manage(s, w.pid), 0);
		child_go(&w);
		child_result(&w);
		CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
		pagemig_sampler_stats(s, &st);
		mine = 0;
		for (size_t i = 0; i < snap->n_pages; i++)
			mine += snap->pages[i].tgid == (uint32_t)w.pid;
		printf("  round %d: %zu pages of the child in the snapshot, %llu samples dropped "
		       "so far, notices %d\n",
		       round, mine, (unsigned long long)st.table_dropped, table_notices);
		CHECK(mine > 0 && mine <= 1024);
		CHECK(st.table_dropped >= (uint64_t)(round + 1) * (N_MANY - 1024));
		CHECK_EQ(table_notices, 1);
		child_end(&w, NULL);
	}
	pagemig_sampler_free(s);
}

static void test_pmu_sw(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_PAGE_FAULTS,
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_ADDR,
		.exclude_kernel = 1,
	};
	struct pagemig_sampler *s = new_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_PMU), &attr);

	if (!s)
		return;
	printf("  pmu: %s\n", pagemig_sampler_sources(s)[PAGEMIG_SOURCE_PMU].detail);
	CHECK_EQ(pagemig_sampler_sources(s)[PAGEMIG_SOURCE_PMU].state, PAGEMIG_SOURCE_ACTIVE);
	CHECK_EQ(pagemig_sampler_sources(s)[PAGEMIG_SOURCE_FAULT].state, PAGEMIG_SOURCE_OFF);
	run_page_workload(s, PAGEMIG_SAMPLE_PMU);
	pagemig_sampler_free(s);
}

static void test_oncpu(void)
{
	struct pagemig_sampler *s = new_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU), NULL);
	const struct pagemig_snapshot *snap = NULL;
	uint64_t sampled = 0, rusage_ns;
	struct rusage ru;
	struct child c;
	double err;

	if (!s)
		return;
	CHECK_EQ(spawn(&c, busy), 0);
	CHECK_EQ(pagemig_sampler_manage(s, c.pid), 0);
	child_go(&c);
	child_result(&c);
	child_end(&c, &ru);
	/* The exiting child's last slice is credited when it leaves the CPU for good, just
	 * after it became reapable. */
	usleep(50000);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	for (size_t i = 0; i < snap->n_oncpu; i++) {
		if (snap->oncpu[i].tgid != (uint32_t)c.pid)
			continue;
		CHECK_EQ(snap->oncpu[i].node, 0);
		CHECK_EQ(snap->oncpu[i].ns, snap->oncpu[i].total_ns);
		sampled += snap->oncpu[i].ns;
	}
	rusage_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
	err = rusage_ns ? ((double)sampled - (double)rusage_ns) / (double)rusage_ns : 1.0;
	printf("  busy child %d: sampled on-CPU %.1f ms, getrusage %.1f ms, difference %+.2f%%\n",
	       c.pid, sampled / 1e6, rusage_ns / 1e6, err * 100);
	CHECK(rusage_ns >= BUSY_NS);
	CHECK(err <= ONCPU_TOL && err >= -ONCPU_TOL);
	pagemig_sampler_free(s);
}

/* ---- audit ------------------------------------------------------------------------------- */

static uint64_t pfn_of(int pagemap, const void *addr)
{
	uint64_t e = 0;

	if (pread(pagemap, &e, sizeof(e), (off_t)((uintptr_t)addr / PAGE * sizeof(e))) != sizeof(e))
		return 0;
	return (e >> 63) ? e & ((1ull << 55) - 1) : 0;
}

struct poller {
	struct pagemig_sampler *s;
	volatile bool stop;
};

/* Consumes the audit ring while the main thread is inside compaction (the sampler is only
 * touched here until the main thread joins). */
static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	while (!p->stop)
		pagemig_sampler_poll(p->s, 20);
	return NULL;
}

static void test_audit(void)
{
	struct pagemig_sampler *s =
		new_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT_THP),
			    NULL);
	const struct pagemig_snapshot *snap = NULL;
	const struct pagemig_audit_totals *t;
	struct pagemig_sampler_stats st;
	size_t moved = 0, verified = 0, unseen = 0, seen_still = 0, bad = 0;
	uint64_t *old = calloc(AUDIT_PAGES, sizeof(*old));
	void **pages = calloc(AUDIT_PAGES, sizeof(*pages));
	int *nodes = calloc(AUDIT_PAGES, sizeof(*nodes));
	int *status = calloc(AUDIT_PAGES, sizeof(*status));
	struct poller poller = {0};
	struct pagemig_audit *a;
	uint64_t syscall_calls;
	pthread_t thr;
	char *buf = fresh(AUDIT_PAGES);
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int fd;

	if (!s || !buf || !old || !pages || !nodes || !status || pagemap < 0) {
		CHECK(!"setup");
		goto out;
	}
	a = pagemig_sampler_audit(s);
	CHECK(a);
	CHECK_EQ(pagemig_sampler_audit_mover(s, getpid(), true), 0);
	touch(buf, AUDIT_PAGES);
	for (size_t i = 0; i < AUDIT_PAGES; i++) {
		pages[i] = buf + i * PAGE;
		old[i] = pfn_of(pagemap, pages[i]);
	}
	if (!old[0]) {
		printf("  no frame numbers in /proc/self/pagemap (needs CAP_SYS_ADMIN): skipped\n");
		goto out;
	}

	/* 1. Same node: the kernel does not migrate a page already on its target. */
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	syscall_calls = snap->migrations_total[PAGEMIG_MR_SYSCALL].calls;
	CHECK_EQ(pagemig_move(0, AUDIT_PAGES, pages, nodes, status, NULL, NULL), 0);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	for (size_t i = 0; i < AUDIT_PAGES; i++)
		if (pagemig_audit_find(a, (uint32_t)getpid(), (uintptr_t)pages[i]))
			bad++;
	printf("  move_pages() to node 0 of %d pages on node 0: %llu migrate_pages() calls, %zu "
	       "page records (the kernel skips pages already on the node)\n",
	       AUDIT_PAGES,
	       (unsigned long long)(snap->migrations_total[PAGEMIG_MR_SYSCALL].calls -
				    syscall_calls),
	       bad);
	CHECK_EQ(snap->migrations_total[PAGEMIG_MR_SYSCALL].calls, syscall_calls);
	CHECK_EQ(bad, 0);

	/* 2. Compaction, run by this process: a migration a one-node machine does perform. */
	fd = open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("  /proc/sys/vm/compact_memory: %s: compaction part skipped\n",
		       strerror(errno));
		goto out;
	}
	poller.s = s;
	CHECK_EQ(pthread_create(&thr, NULL, poll_thread, &poller), 0);
	CHECK_EQ(write(fd, "1", 1), 1);
	poller.stop = true;
	pthread_join(thr, NULL);
	close(fd);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);

	for (size_t i = 0; i < AUDIT_PAGES; i++) {
		const struct pagemig_audit_page *p =
			pagemig_audit_find(a, (uint32_t)getpid(), (uintptr_t)pages[i]);
		uint64_t now = pfn_of(pagemap, pages[i]);

		if (now == old[i]) {
			/* Not moved: no record, or a rollback onto the same frame. */
			if (p &&
			    pagemig_audit_verdict(p, 0, old[i], 0) != PAGEMIG_AUDIT_ROLLED_BACK)
				bad++;
			seen_still += p != NULL;
			continue;
		}
		moved++;
		if (!p) {
			unseen++;
			continue;
		}
		if (pagemig_audit_verdict(p, 0, old[i], 0) == PAGEMIG_AUDIT_MOVED &&
		    p->pfn == now && p->node == 0 && p->reason == PAGEMIG_MR_COMPACTION &&
		    p->steps[0] == PAGEMIG_STEP_B4_UNMAP &&
		    p->steps[p->nsteps - 1] == PAGEMIG_STEP_B16_REMAP)
			verified++;
		else if (bad++ < 5) {
			char line[200];

			pagemig_audit_describe(line, sizeof(line), p);
			printf("  page %zu: old pfn %#" PRIx64 " now %#" PRIx64 ": %s (%s)\n", i,
			       old[i], now, line,
			       pagemig_audit_verdict_name(pagemig_audit_verdict(p, 0, old[i], 0)));
		}
	}
	t = pagemig_audit_totals(a);
	pagemig_sampler_stats(s, &st);
	printf("  compaction: %llu migrate_pages() calls, %llu pages migrated system-wide; audit: "
	       "%" PRIu64 " records, %" PRIu64 " calls with every step 4 before the first step 16 "
	       "(batched), %" PRIu64 " interleaved, %" PRIu64 " dropped\n",
	       (unsigned long long)snap->migrations_total[PAGEMIG_MR_COMPACTION].calls,
	       (unsigned long long)snap->migrations_total[PAGEMIG_MR_COMPACTION].succeeded,
	       t->records, t->batches_batched, t->batches_interleaved, st.audit_dropped);
	printf("  our %d pages: %zu moved by compaction, %zu verified B4 -> B16 on the new frame "
	       "(node 0), %zu moved without a record of ours (kcompactd), %zu rolled back\n",
	       AUDIT_PAGES, moved, verified, unseen, seen_still);
	CHECK_EQ(st.audit_dropped, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(t->pfn_unknown_node, 0);
	/* kcompactd may move a page of ours in the same moment; it is not the audited mover. */
	CHECK(unseen <= 2 + moved / 20);
	CHECK(snap->migrations_total[PAGEMIG_MR_COMPACTION].calls > 0);
	if (!moved)
		printf("  compaction moved none of this test's pages this time: only the event "
		       "plumbing was checked\n");
out:
	if (pagemap >= 0)
		close(pagemap);
	if (buf)
		munmap(buf, AUDIT_PAGES * PAGE);
	free(old);
	free(pages);
	free(nodes);
	free(status);
	pagemig_sampler_free(s);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_sources), CHECK_TEST(test_fault_pages), CHECK_TEST(test_table_full),
		CHECK_TEST(test_pmu_sw),  CHECK_TEST(test_oncpu),	CHECK_TEST(test_audit),
	};
	struct pagemig_sampler_config c = {.sz = sizeof(c),
					   .sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU)};
	struct pagemig_sampler *s = NULL;
	const struct pagemig_source_status *st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = getenv("PAGEMIG_TEST_VERBOSE") && *getenv("PAGEMIG_TEST_VERBOSE");
	if (pagemig_sampler_new(&c, &s))
		SKIP_ALL("cannot create a sampler");
	st = &pagemig_sampler_sources(s)[PAGEMIG_SOURCE_ONCPU];
	if (st->state != PAGEMIG_SOURCE_ACTIVE) {
		printf("SKIP: BPF unusable here: %s\n", st->detail);
		pagemig_sampler_free(s);
		return EXIT_SKIP;
	}
	pagemig_sampler_free(s);
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
