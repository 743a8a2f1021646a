// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The syscall layer: move_pages(2), pidfds, clocks, and the /proc files that tell huge folios
 * apart. Everything the engine asks the kernel goes through pagemig__sys() so that unit tests
 * can replay kernel behaviours that a one-node machine never shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kernel-page-flags.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT  (UINT64_C(1) << 63)

void pagemig__freep(void *p)
{
	free(*(void **)p);
}

void pagemig__closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static long real_move_pages(void *ctx, pid_t pid, unsigned long count, void **pages,
			    const int *nodes, int *status, int flags)
{
	long ret = syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);

	return ret < 0 ? -errno : ret;
}

static int real_pidfd_open(void *ctx, pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

static void real_pidfd_close(void *ctx, int pidfd)
{
	close(pidfd);
}

/* A pidfd polls readable once its process has exited, zombies included: a zombie still takes
 * signals, but move_pages(2) already refuses it (no mm) and its pid is about to be free. */
static int real_pidfd_alive(void *ctx, int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n > 0 ? -ESRCH : 0;
}

static int probe_open(struct pagemig_probe *probe)
{
	char path[64];

	if (probe->unavailable)
		return -EPERM;
	if (probe->pagemap_fd >= 0)
		return 0;
	if (probe->pid == 0)
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	else
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)probe->pid);
	probe->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	probe->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (probe->pagemap_fd < 0 || probe->kpageflags_fd < 0) {
		int err = -errno;

		pagemig__probe_close(probe);
		probe->unavailable = true;
		return err;
	}
	return 0;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * A pmd-aligned window is one huge folio when its pages have consecutive PFNs starting at a
 * compound head flagged THP or HUGE and every other page is a compound tail. PFNs read as zero
 * without CAP_SYS_ADMIN; then nothing can be told.
 *
 * Most windows a caller asks about hold base pages, so the head is read first (one pagemap and
 * one kpageflags entry): a head that is not a THP or hugetlb compound head settles the window
 * without reading its other 511 entries. Only a huge head makes the whole window worth reading,
 * because a head alone does not tell a pmd-sized folio from a smaller (mTHP) one.
 */
static int window_is_folio(struct pagemig_probe *probe, uintptr_t addr, size_t n)
{
	uint64_t buf[512], head, pfn0;
	int err;

	err = pread_full(probe->pagemap_fd, &head, 8, (off_t)(addr / pagemig__page_size() * 8));
	if (err)
		return err;
	if (!(head & PM_PRESENT))
		return 0;
	pfn0 = head & PM_PFN_MASK;
	if (pfn0 == 0) {
		/* no privilege to see PFNs: stop trying for this operation */
		probe->unavailable = true;
		return -EPERM;
	}
	err = pread_full(probe->kpageflags_fd, &head, 8, (off_t)(pfn0 * 8));
	if (err)
		return err;
	if (!(head & (UINT64_C(1) << KPF_COMPOUND_HEAD)) ||
	    !(head & ((UINT64_C(1) << KPF_THP) | (UINT64_C(1) << KPF_HUGE))))
		return 0;
	err = pread_full(probe->pagemap_fd, buf, n * 8, (off_t)(addr / pagemig__page_size() * 8));
	if (err)
		return err;
	for (size_t i = 1; i < n; i++)
		if (!(buf[i] & PM_PRESENT) || (buf[i] & PM_PFN_MASK) != pfn0 + i)
			return 0;
	err = pread_full(probe->kpageflags_fd, buf, n * 8, (off_t)(pfn0 * 8));
	if (err)
		return err;
	for (size_t i = 1; i < n; i++)
		if (!(buf[i] & (UINT64_C(1) << KPF_COMPOUND_TAIL)))
			return 0;
	return 1;
}

/*
 * The engine asks about the same window more than once (when building a chunk, and again when
 * settling the entries that rode along with a folio): the last answer is kept per window. The
 * cache lives in the probe, which belongs to one operation, and is dropped whenever a move call
 * may have changed what the window holds (pagemig__probe_forget()).
 */
static int real_pmd_folio(void *ctx, struct pagemig_probe *probe, uintptr_t addr)
{
	size_t n = pagemig__pmd_size() / pagemig__page_size();
	int err;

	if (n > 512 || n < 2)
		return -EOPNOTSUPP;
	if (probe->cached && probe->cached_window == addr)
		return probe->cached_answer;
	err = probe_open(probe);
	if (err)
		return err;
	err = window_is_folio(probe, addr, n);
	if (err >= 0) {
		probe->cached = true;
		probe->cached_window = addr;
		probe->cached_answer = err;
	}
	return err;
}

/* Pagemap entries read at once when asking about frames. */
#define FRAME_READ_PAGES 4096

/* Node of one pagemap entry's frame, PAGEMIG_SENTINEL when it cannot be told, -EPERM when
 * frame numbers are hidden (they read as zero without CAP_SYS_ADMIN). */
static int entry_node(struct pagemig_probe *probe, uint64_t entry)
{
	uint64_t pfn = entry & PM_PFN_MASK;
	int node;

	if (!(entry & PM_PRESENT))
		return PAGEMIG_SENTINEL;
	if (!pfn)
		return -EPERM;
	node = pagemig__frame_ref_node(&probe->frames, pfn);
	return node < 0 ? PAGEMIG_SENTINEL : node;
}

/*
 * Consecutive pages are read from pagemap together: one read answers a run of up to
 * FRAME_READ_PAGES pages, which is what makes this cheaper than a move_pages(2) query for the
 * engine's large, address-ordered verifications (the engine decides when to use it).
 */
static int real_frame_nodes(void *ctx, struct pagemig_probe *probe, size_t count,
			    void *const *pages, int *nodes)
{
	size_t ps = pagemig__page_size();
	int err;

	if (probe->frames_unavailable)
		return -EOPNOTSUPP;
	err = probe_open(probe);
	if (!err && !probe->frames_buf) {
		probe->frames_buf = malloc(FRAME_READ_PAGES * sizeof(*probe->frames_buf));
		if (!probe->frames_buf)
			err = -ENOMEM;
	}
	if (!err && !probe->frames.map)
		err = pagemig__frame_map_get(&probe->frames.map, NULL);
	for (size_t i = 0; !err && i < count;) {
		uintptr_t a = (uintptr_t)pages[i] & ~(uintptr_t)(ps - 1);
		size_t run = 1;

		while (i + run < count && run < FRAME_READ_PAGES &&
		       ((uintptr_t)pages[i + run] & ~(uintptr_t)(ps - 1)) == a + run * ps)
			run++;
		err = pread_full(probe->pagemap_fd, probe->frames_buf, run * 8, (off_t)(a / ps * 8));
		for (size_t j = 0; !err && j < run; j++) {
			int node = entry_node(probe, probe->frames_buf[j]);

			if (node == -EPERM)
				err = node;
			else
				nodes[i + j] = node;
		}
		i += run;
	}
	if (err)
		probe->frames_unavailable = true;
	return err;
}

static void real_sleep_us(void *ctx, unsigned int us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t real_now_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const struct pagemig_sys pagemig__real_sys = {
	.move_pages = real_move_pages,
	.pidfd_open = real_pidfd_open,
	.pidfd_close = real_pidfd_close,
	.pidfd_alive = real_pidfd_alive,
	.pmd_folio = real_pmd_folio,
	.frame_nodes = real_frame_nodes,
	.sleep_us = real_sleep_us,
	.now_ns = real_now_ns,
};

static const struct pagemig_sys *current_sys = &pagemig__real_sys;

const struct pagemig_sys *pagemig__sys(void)
{
	return current_sys;
}

void pagemig__set_sys(const struct pagemig_sys *sys)
{
	current_sys = sys ? sys : &pagemig__real_sys;
}

void pagemig__probe_init(struct pagemig_probe *probe, pid_t pid)
{
	*probe = (struct pagemig_probe){.pid = pid, .pagemap_fd = -1, .kpageflags_fd = -1};
}

void pagemig__probe_forget(struct pagemig_probe *probe)
{
	probe->cached = false;
}

void pagemig__probe_close(struct pagemig_probe *probe)
{
	pagemig__closep(&probe->pagemap_fd);
	pagemig__closep(&probe->kpageflags_fd);
	probe->pagemap_fd = probe->kpageflags_fd = -1;
	pagemig__frame_map_put(probe->frames.map);
	probe->frames = (struct pagemig_frame_ref){0};
	free(probe->frames_buf);
	probe->frames_buf = NULL;
}

size_t pagemig__page_size(void)
{
	static size_t size;

	if (!__atomic_load_n(&size, __ATOMIC_RELAXED))
		__atomic_store_n(&size, (size_t)sysconf(_SC_PAGESIZE), __ATOMIC_RELAXED);
	return size;
}

size_t pagemig__pmd_size(void)
{
	static size_t size;
	unsigned long long v = 0;
	FILE *f;

	if (__atomic_load_n(&size, __ATOMIC_RELAXED))
		return size;
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (v < 2 * pagemig__page_size() || (v & (v - 1)))
		v = 512 * pagemig__page_size();
	__atomic_store_n(&size, (size_t)v, __ATOMIC_RELAXED);
	return size;
}

/* The pid a pidfd names, from /proc/self/fdinfo ("Pid:" is -1 once the process exited). */
static int pidfd_pid(int pidfd, pid_t *ret_pid)
{
	char path[64], line[128];
	int pid = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1) {
			found = true;
			break;
		}
	fclose(f);
	if (!found)
		return -EBADF; /* not a pidfd */
	*ret_pid = pid;
	return 0;
}

int pagemig__guard_open(struct pagemig_pid_guard *guard, pid_t pid, const struct pagemig_opts *opts)
{
	const struct pagemig_sys *sys = pagemig__sys();
	int fd;

	*guard = (struct pagemig_pid_guard){.pid = pid, .pidfd = -1};
	if (pid == 0 || pid == getpid())
		return 0;
	if (opts && (opts->flags & PAGEMIG_PIDFD)) {
		pid_t named = 0;
		int err = pidfd_pid(opts->pidfd, &named);

		if (err == -EBADF || err == -ENOENT)
			return -EBADF;
		guard->pidfd = opts->pidfd;
		/* a pidfd we cannot inspect is trusted; one that names another pid is refused */
		if ((err == 0 && named != pid) || sys->pidfd_alive(sys->ctx, guard->pidfd) < 0) {
			pagemig__guard_check(guard, &guard->reused);
			guard->pidfd = -1;
			return -ESRCH;
		}
		return 0;
	}
	fd = sys->pidfd_open(sys->ctx, pid);
	if (fd == -ENOSYS)
		return 0; /* kernel < 5.3: no guard possible */
	if (fd < 0)
		return fd == -ESRCH ? -ESRCH : (fd == -EINVAL ? -ESRCH : fd);
	guard->pidfd = fd;
	guard->owned = true;
	/* a zombie has no memory left to move */
	if (sys->pidfd_alive(sys->ctx, fd) < 0) {
		pagemig__guard_close(guard);
		return -ESRCH;
	}
	return 0;
}

int pagemig__guard_check(const struct pagemig_pid_guard *guard, bool *reused)
{
	const struct pagemig_sys *sys = pagemig__sys();
	int err;

	if (guard->pidfd < 0)
		return 0;
	err = sys->pidfd_alive(sys->ctx, guard->pidfd);
	if (err == 0)
		return 0;
	if (reused) {
		int fd = sys->pidfd_open(sys->ctx, guard->pid);

		*reused = fd >= 0;
		if (fd >= 0)
			sys->pidfd_close(sys->ctx, fd);
	}
	return -ESRCH;
}

void pagemig__guard_close(struct pagemig_pid_guard *guard)
{
	const struct pagemig_sys *sys = pagemig__sys();

	if (guard->owned && guard->pidfd >= 0)
		sys->pidfd_close(sys->ctx, guard->pidfd);
	guard->pidfd = -1;
	guard->owned = false;
}
