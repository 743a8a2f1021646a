// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd under churn (root; skipped otherwise): short-lived processes that a policy manages,
 * started at a steady rate for a while, with the daemon's resident memory and descriptors
 * watched and every process accounted for.
 *
 *   test_load_host PAGEMIGD PAGEMIGCTL [SECONDS [PROCESSES_PER_MINUTE]]
 *
 * Each process names itself loadproc, touches 2-6 MiB and lives 0.3-3 s, giving back and
 * touching again a MiB every 100 ms (page faults, which the fault source samples). The daemon
 * runs with a 500 ms interval and a 2 s half-life.
 * Checked:
 *   - resident memory flat: after the warm-up (a fifth of the run, at least 10 s) it grows by
 *     less than 4 MiB and less than 10 %;
 *   - descriptors flat: counted by kind in one pass over /proc/PID/fd, those other than pidfds
 *     (one per managed process) and /proc files being read stay constant; pidfds never exceed
 *     the processes alive (plus those that ended within the last intervals); at the end there
 *     are none and the others are as at the start;
 *   - every process accounted for: each one the daemon managed is released exactly once (log
 *     lines "managing process N" and "process N exited" or "... no longer matches its
 *     policy"), none managed twice at once; of those that lived five intervals or more at
 *     least 98 % were managed; nothing is managed once they are gone;
 *   - the sampler's losses are counted (pagemig_sampler_dropped_total, also for samples of
 *     processes that had exited when they were read) and the counters never go backwards.
 * The figures are printed for tests/host/load/README.md.
 */
#include <math.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "check.h"
#include "harness.h"

#define MAX_PROCS 40000

static const char *pagemigd, *pagemigctl;

struct proc {
	pid_t pid;
	double start, end;
	int managed, exited; /* log lines */
};

static struct proc procs[MAX_PROCS];
static size_t n_procs;

static uint64_t rnd(void)
{
	static uint64_t x = 0x12345678;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static void child(double life, size_t mib)
{
	size_t len = mib << 20;
	char *m;
	double t0 = hd_now();

	prctl(PR_SET_NAME, "loadproc");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(1);
	for (int round = 0; hd_now() - t0 < life; round++) {
		/* a MiB given back and touched again: page faults all along (the fault source
		 * samples only those of managed processes, which this is after a cycle or two) */
		madvise(m + ((size_t)round % mib << 20), 1 << 20, MADV_DONTNEED);
		for (size_t i = 0; i < len; i += 4096)
			m[i] = (char)round;
		usleep(100000);
	}
	_exit(0);
}

/* Processes started and not reaped yet. */
static size_t live_count(void)
{
	size_t n = 0;

	for (size_t i = n_procs; i-- > 0 && (n_procs - i) < 2000;)
		n += !procs[i].end;
	return n;
}

/* Reap the processes that ended (all of them when block; not the daemon, also a child). */
static void reap(bool block)
{
	static size_t first_live;

	for (size_t i = first_live; i < n_procs; i++) {
		struct proc *p = &procs[i];

		if (!p->end && waitpid(p->pid, NULL, block ? 0 : WNOHANG) == p->pid)
			p->end = hd_now();
	}
	while (first_live < n_procs && procs[first_live].end)
		first_live++;
}

/* "pagemig_sampler_dropped_total{source=\"access\",reason=\"unmanaged\"} 12" -> 12 */
static long long metric(const char *text, const char *series)
{
	const char *p = text ? strstr(text, series) : NULL;

	return p ? strtoll(p + strlen(series), NULL, 10) : -1;
}

struct sample {
	double t;
	long rss_kib;
	int fds, managed;
	int pidfds, transient, others; /* fds by kind (hd_fd_kinds), counted in one pass */
	long long events, dropped_unmanaged, dropped_table, dropped_ring;
};

/* The daemon's fds that hd_fd_kinds() counts as "others", with what they point to. */
static void print_other_fds(pid_t pid)
{
	int pidfds, transient, others;

	hd_fd_kinds(pid, &pidfds, &transient, &others, stdout);
}

static bool take_sample(struct hd *h, double t0, struct sample *s)
{
	struct json_object *st = NULL, *m = NULL;
	const char *text;

	s->t = hd_now() - t0;
	/* first: the connections of the previous sample are closed on the daemon's side by now */
	hd_fd_kinds(h->pid, &s->pidfds, &s->transient, &s->others, NULL);
	s->fds = s->pidfds + s->transient + s->others;
	s->rss_kib = hd_rss_kib(h->pid);
	if (hd_request(h->sock, "{\"version\":1,\"command\":\"status\"}", &st) ||
	    hd_request(h->sock, "{\"version\":1,\"command\":\"metrics\"}", &m)) {
		json_object_put(st);
		json_object_put(m);
		return false;
	}
	s->managed = json_object_get_int(hd_result(st, "managed_processes"));
	text = json_object_get_string(hd_result(m, "text"));
	s->events = metric(text, "pagemig_sampler_events_total{source=\"fault\"} ");
	s->dropped_unmanaged = metric(
		text, "pagemig_sampler_dropped_total{source=\"access\",reason=\"unmanaged\"} ");
	s->dropped_table = metric(
		text, "pagemig_sampler_dropped_total{source=\"access\",reason=\"table_full\"} ");
	s->dropped_ring = metric(
		text, "pagemig_sampler_dropped_total{source=\"access\",reason=\"ring_full\"} ");
	json_object_put(st);
	json_object_put(m);
	return true;
}

static void print_lines(const struct hd *h, const char *needle)
{
	char line[2048];
	FILE *f = fopen(h->log, "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			printf("    | %s", line);
	if (f)
		fclose(f);
}

/* Read the daemon's log: per pid, "managing process N (" and "process N (...) exited". */
static void account(const struct hd *h, int *unknown)
{
	char line[2048];
	FILE *f = fopen(h->log, "r");

	*unknown = 0;
	while (f && fgets(line, sizeof(line), f)) {
		const char *p;
		int pid;
		bool managing;

		if ((p = strstr(line, "managing process ")) && sscanf(p + 17, "%d", &pid) == 1)
			managing = true;
		else if ((p = strstr(line, ": process ")) &&
			 (strstr(p, ") exited") || strstr(p, ") no longer matches")) &&
			 sscanf(p + 10, "%d", &pid) == 1)
			managing = false;
		else
			continue;
		if (!strstr(line, "loadproc"))
			continue;
		size_t i = n_procs;

		while (i-- > 0 && procs[i].pid != pid)
			;
		if (i == (size_t)-1) {
			++*unknown;
			continue;
		}
		if (managing)
			procs[i].managed++;
		else
			procs[i].exited++;
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	double secs = argc > 3 ? atof(argv[3]) : 75, per_min = argc > 4 ? atof(argv[4]) : 1000;
	double warm, t0, next, gap = 60.0 / per_min, interval = 0.5;
	struct sample *smp = calloc(100000, sizeof(*smp)), base = {0}, fin = {0};
	size_t n_smp = 0, w = 0, long_lived = 0, long_managed = 0, managed = 0;
	size_t twice = 0, unreleased = 0, released_twice = 0;
	long rss_warm, rss_max = 0;
	size_t max_live = 0;
	int unknown;
	bool asan;
	bool monotonic = true;
	struct hd h;

	if (argc < 3)
		SKIP_ALL("usage: test_load_host PAGEMIGD PAGEMIGCTL [SECONDS [PER_MINUTE]]");
	if (geteuid() != 0)
		SKIP_ALL("needs root (BPF)");
	pagemigd = argv[1];
	pagemigctl = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	warm = secs / 5 > 10 ? secs / 5 : 10;

	hd_init(&h, pagemigd, "load");
	hd_write_conf(&h, "interval = 500ms\nlog_level = info\n",
		      /* pages of ended processes leave the snapshot within ~9 s (min_score
			 0.05 at 2 s half-life): the steady state comes before the warm-up ends */
		      "[sampler]\nsources = fault,oncpu\nhalf_life = 2s\n[migrate]\nmin_rss = 1MiB\n"
		      "[policy load]\ncomm = loadproc\ntype = locality\n[policy rest]\n"
		      "type = ignore\n",
		      0644);
	if (hd_start(&h)) {
		hd_print_log(&h);
		SKIP_ALL("pagemigd did not start");
	}
	usleep(300000); /* hd_start's connection closed */
	asan = hd_is_asan(h.pid);
	CHECK(take_sample(&h, hd_now(), &base));
	printf("load: %.0f s at %.0f processes a minute; daemon pid %d: RSS %ld KiB, %d fds\n",
	       secs, per_min, (int)h.pid, base.rss_kib, base.fds);
	printf("  other fds at start:\n");
	print_other_fds(h.pid);

	t0 = next = hd_now();
	for (double last_sample = -10; hd_now() - t0 < secs;) {
		double now = hd_now();

		if (now >= next && n_procs < MAX_PROCS) {
			double life = 0.3 + (double)(rnd() % 2700) / 1000;
			size_t mib = 2 + rnd() % 5;
			pid_t pid = fork();

			if (pid == 0)
				child(life, mib);
			if (pid > 0)
				procs[n_procs++] = (struct proc){.pid = pid, .start = now};
			next += gap;
		}
		reap(false);
		if (now >= next - gap / 2 && live_count() > max_live)
			max_live = live_count(); /* about once per process started */
		if (now - t0 - last_sample >= 5) {
			last_sample = now - t0;
			if (take_sample(&h, t0, &smp[n_smp])) {
				struct sample *s = &smp[n_smp];

				printf("  t=%5.1fs procs=%5zu managed=%3d RSS=%6ld KiB fds=%3d "
				       "(pidfds %d, others %d) fault events=%lld dropped: "
				       "unmanaged=%lld table=%lld ring=%lld\n",
				       s->t, n_procs, s->managed, s->rss_kib, s->fds, s->pidfds,
				       s->others, s->events, s->dropped_unmanaged,
				       s->dropped_table, s->dropped_ring);
				if (n_smp && (s->events < smp[n_smp - 1].events ||
					      s->dropped_unmanaged < smp[n_smp - 1].dropped_unmanaged))
					monotonic = false;
				n_smp++;
			}
		}
		usleep(2000);
	}
	/* the last ones end; the daemon notices within two intervals */
	reap(true);
	usleep((useconds_t)(4 * interval * 1e6));
	CHECK(take_sample(&h, t0, &fin));
	/*
	 * An fd the daemon holds only for a moment (a control connection it has not seen close yet
	 * on a loaded machine) is not a leak: look again a few times before calling it one.
	 */
	for (int again = 0; again < 10 && fin.others != base.others; again++) {
		printf("  end: %d other fds, %d at start; looking again:\n", fin.others, base.others);
		print_other_fds(h.pid);
		usleep(500000);
		CHECK(take_sample(&h, t0, &fin));
	}
	printf("  end: managed=%d RSS=%ld KiB fds=%d, pidfds %d, others %d (at start %d, %d, %d)\n",
	       fin.managed, fin.rss_kib, fin.fds, fin.pidfds, fin.others, base.fds, base.pidfds,
	       base.others);
	CHECK(waitpid(h.pid, NULL, WNOHANG) == 0);
	CHECK_EQ(fin.managed, 0);
	CHECK_EQ(fin.pidfds, 0);
	CHECK_EQ(fin.others, base.others);
	CHECK(monotonic);
	CHECK(fin.dropped_unmanaged >= 0 && fin.dropped_table >= 0 && fin.dropped_ring >= 0);

	/* flat after the warm-up */
	while (w < n_smp && smp[w].t < warm)
		w++;
	CHECK(w < n_smp);
	if (w < n_smp) {
		int others_min = smp[w].others, others_max = smp[w].others, pidfds_max = 0;

		rss_warm = smp[w].rss_kib;
		for (size_t i = w; i < n_smp; i++) {
			if (smp[i].rss_kib > rss_max)
				rss_max = smp[i].rss_kib;
			if (smp[i].others < others_min)
				others_min = smp[i].others;
			if (smp[i].others > others_max)
				others_max = smp[i].others;
			if (smp[i].pidfds > pidfds_max)
				pidfds_max = smp[i].pidfds;
		}
		printf("  after the warm-up (%.0f s): RSS %ld -> max %ld -> end %ld KiB (%+.1f%%); "
		       "descriptors other than pidfds %d..%d (at the start %d); pidfds at most %d "
		       "(processes alive at once: at most %zu)\n",
		       warm, rss_warm, rss_max, smp[n_smp - 1].rss_kib,
		       100.0 * (double)(rss_max - rss_warm) / (double)rss_warm, others_min,
		       others_max, base.others, pidfds_max, max_live);
		/* (with AddressSanitizer its quarantine holds freed memory: not checked) */
		CHECK(rss_max - rss_warm < 4096 || asan);
		CHECK((double)(rss_max - rss_warm) < 0.10 * (double)rss_warm || asan);
		/* everything but the pidfds is constant (counted in one pass, without the /proc
		 * files the daemon is reading at that moment) */
		CHECK(others_max - others_min <= 1);
		CHECK(others_max <= base.others + 1);
		/* one pidfd per managed process: never more than there are processes, plus those
		 * that ended within the last interval or two and are not noticed yet */
		CHECK((size_t)pidfds_max <= max_live + 20);
	}

	/* every process accounted for */
	CHECK_EQ(hd_stop(&h), 0);
	account(&h, &unknown);
	for (size_t i = 0; i < n_procs; i++) {
		const struct proc *p = &procs[i];

		managed += p->managed > 0;
		twice += p->managed > 1;
		if (p->managed != 1 && p->managed != 0) {
			char needle[32];

			snprintf(needle, sizeof(needle), " %d ", (int)p->pid);
			printf("  process %d (lived %.2f s) managed %d times, released %d times:\n",
			       (int)p->pid, p->end - p->start, p->managed, p->exited);
			print_lines(&h, needle);
		}
		unreleased += p->managed > p->exited;
		released_twice += p->exited > p->managed;
		if (p->end - p->start >= 5 * interval) {
			long_lived++;
			long_managed += p->managed > 0;
		}
	}
	printf("  processes: %zu started, %zu managed (%zu lived %.1f s or more: %zu of them "
	       "managed, %.2f%%), managed twice %zu, not released %zu, released twice %zu, "
	       "unknown pids %d\n",
	       n_procs, managed, long_lived, 5 * interval, long_managed,
	       long_lived ? 100.0 * (double)long_managed / (double)long_lived : 0.0, twice,
	       unreleased, released_twice, unknown);
	printf("  sampler: %lld fault events; dropped: %lld unmanaged (process gone), %lld table "
	       "full, %lld ring full\n",
	       fin.events, fin.dropped_unmanaged, fin.dropped_table, fin.dropped_ring);
	CHECK_EQ(twice, 0);
	CHECK_EQ(unreleased, 0);
	CHECK_EQ(released_twice, 0);
	CHECK_EQ(unknown, 0);
	/* five intervals: even a loaded machine runs a scan in that time */
	CHECK(long_lived > 0 && (double)long_managed >= 0.98 * (double)long_lived);
	if (check_failures)
		hd_print_log(&h);
	hd_cleanup(&h);
	free(smp);
	printf("%s\n", check_failures ? "FAIL" : "ok");
	return check_failures ? 1 : 0;
}
