// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Re-arming write faults with soft-dirty tracking.
 *
 * A page faults once, at first touch; after that the fault source sees nothing more of it.
 * Writing 4 to /proc/PID/clear_refs clears the soft-dirty bits of every page of PID and
 * write-protects them, so the next write to each page faults again and is sampled. Reads stay
 * invisible (use the PMU or NUMA hinting faults for them).
 *
 * Kernels built without CONFIG_MEM_SOFT_DIRTY accept the write and do nothing, so support is
 * probed by behaviour, not by the file's presence: /proc/PID/pagemap bit 55 must follow writes
 * and clears.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sampler_internal.h"

#define PM_SOFT_DIRTY (UINT64_C(1) << 55)

static int write_clear_refs(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int pagemig_softdirty_clear(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%d/clear_refs", proc_root ? proc_root : "/proc", pid);
	return write_clear_refs(path);
}

/* The child's side: only async-signal-safe calls (the parent may have threads). Returns a
 * positive errno for _exit(). */
static int probe_child(const char *clear_refs, const char *pagemap)
{
	volatile char *page;
	uint64_t entry;
	off_t off;
	int fd, err;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return errno;
	fd = open(pagemap, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	off = (off_t)((uintptr_t)page / 4096 * sizeof(entry));

	page[0] = 1;
	if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
		return EIO;
	if (!(entry & PM_SOFT_DIRTY))
		return EOPNOTSUPP; /* never set: no soft-dirty tracking */
	err = write_clear_refs(clear_refs);
	if (err)
		return -err;
	if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
		return EIO;
	if (entry & PM_SOFT_DIRTY)
		return ENOTRECOVERABLE; /* not cleared */
	page[0] = 2;
	if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
		return EIO;
	if (!(entry & PM_SOFT_DIRTY))
		return EPROTO; /* not set again by the write */
	return 0;
}

int pagemig_softdirty_probe(const char *proc_root, char *why, size_t len)
{
	char clear_refs[PATH_MAX], pagemap[PATH_MAX];
	int status, err;
	pid_t pid;

	if (!proc_root)
		proc_root = "/proc";
	snprintf(clear_refs, sizeof(clear_refs), "%s/self/clear_refs", proc_root);
	snprintf(pagemap, sizeof(pagemap), "%s/self/pagemap", proc_root);

	/* In a child, so that clearing its soft-dirty bits does not make the caller fault. */
	pid = fork();
	if (pid < 0) {
		err = -errno;
		snprintf(why, len, "cannot probe: fork: %s", strerror(-err));
		return err;
	}
	if (pid == 0)
		_exit(probe_child(clear_refs, pagemap));
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err = -errno;
			snprintf(why, len, "cannot probe: waitpid: %s", strerror(-err));
			return err;
		}
	}
	if (!WIFEXITED(status)) {
		snprintf(why, len, "cannot probe: the probe process died");
		return -ECHILD;
	}
	err = -WEXITSTATUS(status);
	switch (err) {
	case 0:
		snprintf(why, len, "clear_refs 4 re-arms write faults");
		break;
	case -EOPNOTSUPP:
		snprintf(why, len,
			 "not available: pagemap soft-dirty bit never set (kernel without "
			 "CONFIG_MEM_SOFT_DIRTY)");
		break;
	case -ENOTRECOVERABLE:
		snprintf(why, len, "not available: clear_refs 4 did not clear the soft-dirty bit");
		err = -EOPNOTSUPP;
		break;
	case -EPROTO:
		snprintf(why, len,
			 "not available: a write after clear_refs 4 did not set the "
			 "soft-dirty bit");
		err = -EOPNOTSUPP;
		break;
	default:
		snprintf(why, len, "cannot probe: %s", strerror(-err));
		break;
	}
	return err;
}
