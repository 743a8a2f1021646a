// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host test of the BPF build pipeline: load the probe_smoke skeleton on the running kernel, attach
 * it, make move_pages(2) calls and check that exactly those calls were counted.
 *
 * Two instances are loaded: "self" watches only this process (target_tgid set before load), "all"
 * watches every process. A child makes calls too: "all" must count them, "self" must not. After
 * detaching, further calls must not be counted.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (BPF not permitted here: not privileged, no kernel BTF, no
 * tracefs, no syscall tracepoints, or a non-initial PID namespace). Set PAGEMIG_TEST_VERBOSE=1
 * to see libbpf's debug output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "probe_smoke.h"
#include "probe_smoke.skel.h"

#define EXIT_SKIP 77

#define N_SELF	   37 /* calls made by this process while attached */
#define N_CHILD	   11 /* calls made by the child while attached */
#define CHILD_NPG  2  /* pages per child call */
#define N_DETACHED 5  /* calls made after detaching */
#define N_BUF	   3  /* touched pages; call i names 1 + i % N_BUF of them */

/* /proc/<pid>/ns/pid inode of the initial PID namespace (PROC_PID_INIT_INO). */
#define INIT_PIDNS_INO 0xEFFFFFFCUL

#define SYS_ENTER_MOVE_PAGES "events/syscalls/sys_enter_move_pages"

static bool verbose;
static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

__attribute__((format(printf, 1, 2))) static int skip(const char *fmt, ...)
{
	va_list ap;

	fputs("SKIP: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return EXIT_SKIP;
}

/* libbpf log bridge: warnings and info always, debug only when asked for. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool not_permitted(int err)
{
	return err == -EPERM || err == -EACCES;
}

static const char *privilege_hint(void)
{
	return geteuid() ? " (not root: needs CAP_BPF and CAP_PERFMON)" : " (kernel or LSM policy)";
}

/* The tracefs directory libbpf 1.1 uses for tracepoint ids: debugfs's if present. */
static const char *tracefs_dir(void)
{
	if (access("/sys/kernel/debug/tracing", F_OK) == 0)
		return "/sys/kernel/debug/tracing";
	return "/sys/kernel/tracing";
}

/*
 * Classic tracepoints are found through tracefs. systemd mounts it at boot; minimal systems
 * (containers, initramfs guests) may not, so mount it where the kernel expects it.
 */
static int ensure_tracefs(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events", tracefs_dir());
	if (access(path, F_OK) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	printf("note: mounted tracefs on /sys/kernel/tracing (it was not mounted)\n");
	return access(path, F_OK) ? -errno : 0;
}

static long sys_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes,
			   int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

/* Query (nodes == NULL) where npg of pages are; -1 if the call fails. */
static long query(void **pages, unsigned long npg)
{
	int status[N_BUF];

	return sys_move_pages(0, npg, pages, NULL, status, 0);
}

static struct probe_smoke_bpf *open_load(__u32 target_tgid, int *err)
{
	struct probe_smoke_bpf *skel;

	skel = probe_smoke_bpf__open();
	if (!skel) {
		*err = -errno;
		fprintf(stderr, "FAIL: probe_smoke_bpf__open: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->target_tgid = target_tgid;
	skel->rodata->move_pages_nr = SYS_move_pages;
	*err = probe_smoke_bpf__load(skel);
	if (*err) {
		probe_smoke_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int lookup(struct probe_smoke_bpf *skel, __u32 tgid, struct probe_smoke_count *cnt)
{
	memset(cnt, 0, sizeof(*cnt));
	return bpf_map__lookup_elem(skel->maps.calls, &tgid, sizeof(tgid), cnt, sizeof(*cnt), 0);
}

static unsigned int count_keys(struct probe_smoke_bpf *skel)
{
	__u32 key, next;
	unsigned int n = 0;
	const void *prev = NULL;

	while (!bpf_map__get_next_key(skel->maps.calls, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void check_count(struct probe_smoke_bpf *skel, const char *inst, pid_t tgid,
			unsigned long long calls, unsigned long long pages)
{
	struct probe_smoke_count cnt;
	int err = lookup(skel, tgid, &cnt);

	CHECK(!err, "%s: no entry for tgid %d: %s", inst, tgid, strerror(-err));
	CHECK(cnt.calls == calls && cnt.pages == pages,
	      "%s: tgid %d: calls %llu pages %llu, expected calls %llu pages %llu", inst, tgid,
	      (unsigned long long)cnt.calls, (unsigned long long)cnt.pages, calls, pages);
}

static pid_t run_child(void **pages)
{
	pid_t pid = fork();

	if (pid == 0) {
		int ok = 1;

		for (int i = 0; i < N_CHILD; i++)
			ok &= query(pages, CHILD_NPG) == 0;
		_exit(ok ? 0 : 1);
	}
	return pid;
}

/* Skip checks, then open -> configure rodata -> load -> attach both instances. */
static int setup(struct probe_smoke_bpf **self, struct probe_smoke_bpf **all)
{
	char path[256];
	struct stat st;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return skip("kernel has no BTF (/sys/kernel/btf/vmlinux: %s); CO-RE needs it",
			    strerror(errno));
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != INIT_PIDNS_INO)
		return skip("running in a non-initial PID namespace: BPF sees other process ids");

	*self = open_load(getpid(), &err);
	if (!*self) {
		if (not_permitted(err))
			return skip("loading BPF is not permitted here: %s%s", strerror(-err),
				    privilege_hint());
		fprintf(stderr, "FAIL: load: %s\n", strerror(-err));
		return 1;
	}
	*all = open_load(0, &err);
	if (!*all) {
		fprintf(stderr, "FAIL: load of the second instance: %s\n", strerror(-err));
		return 1;
	}

	err = ensure_tracefs();
	if (err)
		return skip("tracefs is not available and cannot be mounted: %s", strerror(-err));
	snprintf(path, sizeof(path), "%s/" SYS_ENTER_MOVE_PAGES, tracefs_dir());
	if (access(path, F_OK))
		return skip("no syscall tracepoints in this kernel (%s: %s)", path,
			    strerror(errno));

	err = probe_smoke_bpf__attach(*self);
	if (!err)
		err = probe_smoke_bpf__attach(*all);
	if (not_permitted(err))
		return skip("attaching BPF is not permitted here: %s%s", strerror(-err),
			    privilege_hint());
	if (err) {
		fprintf(stderr, "FAIL: attach: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

static void run_checks(struct probe_smoke_bpf *self, struct probe_smoke_bpf *all, void **pages)
{
	unsigned long long self_pages = 0;
	struct probe_smoke_count cnt;
	pid_t me = getpid(), child;
	int wstatus;

	/* Another process: counted by "all" only. */
	child = run_child(pages);
	CHECK(child > 0, "fork: %s", strerror(errno));
	if (child > 0) {
		CHECK(waitpid(child, &wstatus, 0) == child, "waitpid: %s", strerror(errno));
		CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
		      "child's move_pages(2) calls failed");
	}

	/* This process, with varying page counts so that the nr_pages argument is checked. */
	for (int i = 0; i < N_SELF; i++) {
		unsigned long npg = 1 + i % N_BUF;
		long ret = query(pages, npg);

		CHECK(ret == 0, "move_pages(0, %lu, ...) = %ld (%s)", npg, ret, strerror(errno));
		self_pages += npg;
	}

	check_count(self, "self", me, N_SELF, self_pages);
	CHECK(count_keys(self) == 1, "self: %u tgids counted, expected 1", count_keys(self));
	CHECK(self->bss->missed == 0 && self->bss->bad_ctx == 0, "self: missed %llu bad_ctx %llu",
	      (unsigned long long)self->bss->missed, (unsigned long long)self->bss->bad_ctx);
	check_count(all, "all", me, N_SELF, self_pages);
	CHECK(all->bss->bad_ctx == 0, "all: bad_ctx %llu (tracepoint context layout is wrong)",
	      (unsigned long long)all->bss->bad_ctx);
	if (child > 0) {
		CHECK(lookup(self, child, &cnt) == -ENOENT,
		      "self: counted the calls of child %d (%llu)", child,
		      (unsigned long long)cnt.calls);
		check_count(all, "all", child, N_CHILD, N_CHILD * CHILD_NPG);
	}

	/* Detached: no more counting. */
	probe_smoke_bpf__detach(self);
	probe_smoke_bpf__detach(all);
	for (int i = 0; i < N_DETACHED; i++)
		query(pages, 1);
	check_count(self, "self after detach", me, N_SELF, self_pages);
	check_count(all, "all after detach", me, N_SELF, self_pages);

	if (!failures)
		printf("PASS: %d move_pages(2) calls (%llu pages) of tgid %d counted; "
		       "%d calls of child %d counted only by the unfiltered instance\n",
		       N_SELF, self_pages, me, N_CHILD, child);
}

int main(void)
{
	struct probe_smoke_bpf *self = NULL, *all = NULL;
	long page_size = sysconf(_SC_PAGESIZE);
	void *pages[N_BUF];
	char *buf;
	int ret;

	verbose = getenv("PAGEMIG_TEST_VERBOSE") && *getenv("PAGEMIG_TEST_VERBOSE");
	libbpf_set_print(libbpf_log);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = setup(&self, &all);
	if (ret)
		goto out;

	buf = mmap(NULL, N_BUF * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (buf == MAP_FAILED) {
		perror("FAIL: mmap");
		ret = 1;
		goto out;
	}
	memset(buf, 0x5a,
	       N_BUF * page_size); /* touch: move_pages reports untouched pages -ENOENT */
	for (int i = 0; i < N_BUF; i++)
		pages[i] = buf + i * page_size;

	run_checks(self, all, pages);
	munmap(buf, N_BUF * page_size);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	ret = failures ? 1 : 0;
out:
	probe_smoke_bpf__destroy(all);
	probe_smoke_bpf__destroy(self);
	return ret;
}
