// SPDX-License-Identifier: LGPL-2.1-or-later
/* /proc/PID/numa_maps parsing and its join with maps, on fixtures (what `pagemigctl proc` shows).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "numa_maps.h"

static void test_parse(void **state)
{
	struct numa_map_entry e;

	assert_int_equal(numa_maps_parse_line("7f0d3c000000 default anon=512 dirty=512 N0=500 "
					      "N1=12 kernelpagesize_kB=4\n",
					      &e),
			 0);
	assert_int_equal(e.start, 0x7f0d3c000000ull);
	assert_string_equal(e.policy, "default");
	assert_string_equal(e.path, "");
	assert_int_equal(e.anon, 512);
	assert_int_equal(e.dirty, 512);
	assert_int_equal(e.node_pages[0], 500);
	assert_int_equal(e.node_pages[1], 12);
	assert_int_equal(e.pages, 512);
	assert_int_equal(e.page_size, 4096);
	assert_false(e.heap || e.stack || e.huge);

	assert_int_equal(numa_maps_parse_line("55d4c5a6b000 bind:1 file=/usr/bin/cat mapped=2 "
					      "mapmax=3 N1=2 kernelpagesize_kB=4",
					      &e),
			 0);
	assert_string_equal(e.policy, "bind:1");
	assert_string_equal(e.path, "/usr/bin/cat");
	assert_int_equal(e.mapped, 2);
	assert_int_equal(e.mapmax, 3);
	assert_int_equal(e.node_pages[1], 2);

	assert_int_equal(numa_maps_parse_line("55d4c5a8a000 default heap anon=1 dirty=1 active=0 "
					      "N0=1 kernelpagesize_kB=4",
					      &e),
			 0);
	assert_true(e.heap);
	assert_int_equal(e.active, 0);
	assert_int_equal(numa_maps_parse_line("7ffd1c3e3000 default stack anon=3 dirty=3 N0=3 "
					      "kernelpagesize_kB=4",
					      &e),
			 0);
	assert_true(e.stack);

	/* hugetlb: counts are huge pages */
	assert_int_equal(numa_maps_parse_line("7f0000000000 default file=/dev/hugepages/x huge "
					      "dirty=2 N2=2 kernelpagesize_kB=2048",
					      &e),
			 0);
	assert_true(e.huge);
	assert_string_equal(e.path, "/dev/hugepages/x");
	assert_int_equal(e.page_size, 2u << 20);
	assert_int_equal(e.node_pages[2], 2);

	/* a file name with blanks (older kernels do not escape them) */
	assert_int_equal(numa_maps_parse_line("7f0000000000 interleave:0-1 file=/tmp/my file "
					      "(deleted) mapped=4 N0=2 N1=2 kernelpagesize_kB=4",
					      &e),
			 0);
	assert_string_equal(e.policy, "interleave:0-1");
	assert_string_equal(e.path, "/tmp/my file (deleted)");
	assert_int_equal(e.pages, 4);
	/* and escaped ones as newer kernels print them */
	assert_int_equal(numa_maps_parse_line("7f0000000000 default file=/tmp/a\\040b N0=1 "
					      "kernelpagesize_kB=4",
					      &e),
			 0);
	assert_string_equal(e.path, "/tmp/a\\040b");

	/* no resident pages: the line ends after the policy or the file */
	assert_int_equal(numa_maps_parse_line("7f0000001000 default", &e), 0);
	assert_int_equal(e.pages, 0);
	assert_int_equal(e.page_size, 0);
	assert_int_equal(numa_maps_parse_line("7f0000001000 prefer:1 file=/x", &e), 0);
	assert_string_equal(e.path, "/x");

	/* tokens this parser does not know are ignored */
	assert_int_equal(numa_maps_parse_line("7f0000001000 default anon=1 future=3 N0=1 "
					      "kernelpagesize_kB=4",
					      &e),
			 0);
	assert_int_equal(e.pages, 1);

	assert_int_equal(numa_maps_parse_line("", &e), -EINVAL);
	assert_int_equal(numa_maps_parse_line("zz default", &e), -EINVAL);
	assert_int_equal(numa_maps_parse_line("7f00", &e), -EINVAL);
	/* node 64 is out of range: the counter is not taken, the line still parses */
	assert_int_equal(numa_maps_parse_line("7f00 default N64=1", &e), 0);
	assert_int_equal(e.pages, 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fixture's proc root: root/42/ (made with mkdtemp) and the files written in it. */
static void remove_fixture(const char *root)
{
	static const char *const files[] = {"42/maps", "42/numa_maps", "42", ""};
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		if (unlink(path))
			rmdir(path);
	}
}

static void test_reader(void **state)
{
	char root[] = "/tmp/pagemig-numa-maps-XXXXXX", dir[128];
	struct numa_maps_reader *r;
	struct numa_map_entry e;

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/42", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	/* maps has one mapping numa_maps lacks (it appeared in between) and vice versa */
	write_file(dir, "maps",
		   "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\n"
		   "00500000-00600000 rw-p 00000000 00:00 0\n"
		   "7f0000000000-7f0000200000 rw-p 00000000 00:00 0\n"
		   "7ffd1c3c2000-7ffd1c3e3000 rw-p 00000000 00:00 0 [stack]\n");
	write_file(dir, "numa_maps",
		   "00400000 default file=/usr/bin/x mapped=10 N0=10 kernelpagesize_kB=4\n"
		   "7f0000000000 default anon=512 dirty=512 N1=512 kernelpagesize_kB=4\n"
		   "7f0000300000 default anon=1 dirty=1 N1=1 kernelpagesize_kB=4\n"
		   "7ffd1c3c2000 default stack anon=3 dirty=3 N0=3 kernelpagesize_kB=4\n");
	assert_int_equal(numa_maps_open(root, 42, &r), 0);
	assert_int_equal(numa_maps_next(r, &e), 1);
	assert_int_equal(e.end, 0x452000);
	assert_string_equal(e.perms, "r-xp");
	assert_int_equal(numa_maps_next(r, &e), 1);
	assert_int_equal(e.start, 0x7f0000000000ull);
	assert_int_equal(e.end, 0x7f0000200000ull);
	assert_int_equal(numa_maps_next(r, &e), 1);
	assert_int_equal(e.start, 0x7f0000300000ull);
	assert_int_equal(e.end, 0); /* unknown to maps */
	assert_string_equal(e.perms, "");
	assert_int_equal(numa_maps_next(r, &e), 1);
	assert_true(e.stack);
	assert_int_equal(e.end, 0x7ffd1c3e3000ull);
	assert_string_equal(e.special, "[stack]");
	assert_int_equal(numa_maps_next(r, &e), 0);
	numa_maps_close(r);

	assert_int_equal(numa_maps_open(root, 43, &r), -ESRCH);
	write_file(dir, "numa_maps", "garbage line\n");
	assert_int_equal(numa_maps_open(root, 42, &r), 0);
	assert_int_equal(numa_maps_next(r, &e), -EINVAL);
	numa_maps_close(r);

	remove_fixture(root);
}

/* Anonymous pages off a node: file mappings left out, huge pages counted in base pages. */
static void test_anon_off_node(void **state)
{
	char root[] = "/tmp/pagemig-numa-maps-XXXXXX", dir[128];
	uint64_t off = 7;

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/42", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file(dir, "numa_maps",
		   "00400000 default file=/usr/bin/x mapped=10 N0=8 N1=2 kernelpagesize_kB=4\n"
		   "01000000 default heap anon=10 dirty=10 N0=4 N1=6 kernelpagesize_kB=4\n"
		   "7f0000000000 default anon=512 dirty=512 N0=500 N1=12 kernelpagesize_kB=4\n"
		   "7f1000000000 bind:2 anon=100 dirty=100 N2=100 kernelpagesize_kB=4\n"
		   "7f2000000000 default N0=2 kernelpagesize_kB=2048\n"
		   "7ffd00000000 default stack anon=3 dirty=3 N1=3 kernelpagesize_kB=4\n");
	assert_int_equal(numa_maps_anon_off_node(root, 42, 1, &off), 0);
	assert_int_equal(off, 4 + 500 + 100 + 2 * 512);
	assert_int_equal(numa_maps_anon_off_node(root, 42, 0, &off), 0);
	assert_int_equal(off, 6 + 12 + 100 + 3);
	assert_int_equal(numa_maps_anon_off_node(root, 43, 0, &off), -ESRCH);
	write_file(dir, "numa_maps", "00400000 default N1=1\ngarbage line\n");
	off = 7;
	assert_int_equal(numa_maps_anon_off_node(root, 42, 0, &off), -EINVAL);
	assert_int_equal(off, 7); /* untouched on error */

	remove_fixture(root);
}

/* This process's own anonymous pages, counted by the kernel: 256 touched pages are off a node
 * that does not exist, and none of what runs here is off every node but its own. */
static void test_anon_off_node_self(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = 256 * ps;
	uint64_t off_none = 0, off_all = 0, nodes = 0;
	struct numa_maps_reader *r;
	struct numa_map_entry e;
	char *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	memset(buf, 1, len);
	/* the nodes anonymous memory of this process is on */
	assert_int_equal(numa_maps_open("/proc", getpid(), &r), 0);
	while (numa_maps_next(r, &e) > 0)
		for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			if (!e.path[0] && e.node_pages[n])
				nodes |= 1ull << n;
	numa_maps_close(r);
	assert_int_equal(numa_maps_anon_off_node("/proc", getpid(), PAGEMIG_TOPO_MAX_NODES, &off_all),
			 0);
	assert_true(off_all >= 256);
	if (nodes && !(nodes & (nodes - 1))) { /* on one node (always on one-node hosts) */
		assert_int_equal(numa_maps_anon_off_node("/proc", getpid(), __builtin_ctzll(nodes),
							 &off_none),
				 0);
		assert_int_equal(off_none, 0);
	}
	munmap(buf, len);
}

/* This process's own mappings: the real files parse, and the join finds every end. */
static void test_self(void **state)
{
	struct numa_maps_reader *r;
	struct numa_map_entry e;
	size_t n = 0, ended = 0;
	int got;

	assert_int_equal(numa_maps_open("/proc", getpid(), &r), 0);
	while ((got = numa_maps_next(r, &e)) > 0) {
		n++;
		ended += e.end > e.start;
	}
	assert_int_equal(got, 0);
	assert_true(n > 5);
	assert_true(ended + 1 >= n); /* at most one mapping changed while reading */
	numa_maps_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_anon_off_node),
		cmocka_unit_test(test_anon_off_node_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
