// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab case 12: the migration tracepoints, enabled through tracefs, show set_migration_pte
 * (documented step 4) before remove_migration_pte (step 16) for every page the library moved,
 * and step 16 installs a new frame on the target node: the groundwork for the audit.
 */
#include <fcntl.h>

#include "labutil.h"

#define N	16
#define TRACING "/sys/kernel/tracing/"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Node of a page frame, from the memory block it lies in. */
static int pfn_node(uint64_t pfn)
{
	unsigned long long blk = 0;
	char path[128];
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "re");

	if (!f || fscanf(f, "%llx", &blk) != 1 || !blk) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (int node = 0; node < 8; node++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/memory%llu", node,
			 (unsigned long long)(pfn * ps / blk));
		if (access(path, F_OK) == 0)
			return node;
	}
	return -1;
}

static uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, &e, 8, (off_t)((uintptr_t)addr / ps * 8)) != 8)
			e = 0;
		close(fd);
	}
	return e & ((1ull << 55) - 1);
}

static void test_step4_before_step16(void)
{
	char *p = lab_buffer(N * ps, 0, false, 12), line[512], pidbuf[32];
	void **pages = lab_pages(p, N * ps);
	int *nodes = lab_nodes(N, 1), st[N];
	long set_at[N], remove_at[N];
	uint64_t old_pfn[N], new_pfn[N];
	long lineno = 0;
	FILE *f;

	if (access(TRACING "events/migrate/set_migration_pte/enable", W_OK) ||
	    access(TRACING "events/migrate/remove_migration_pte/enable", W_OK))
		SKIP_ALL("this kernel has no set/remove_migration_pte tracepoints");
	for (int i = 0; i < N; i++) {
		set_at[i] = remove_at[i] = -1;
		old_pfn[i] = pagemap_pfn(pages[i]);
		new_pfn[i] = 0;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	CHECK_EQ(write_file(TRACING "tracing_on", "0"), 0);
	CHECK_EQ(write_file(TRACING "trace", ""), 0);
	CHECK_EQ(write_file(TRACING "set_event_pid", pidbuf), 0);
	CHECK_EQ(write_file(TRACING "events/migrate/set_migration_pte/enable", "1"), 0);
	CHECK_EQ(write_file(TRACING "events/migrate/remove_migration_pte/enable", "1"), 0);
	CHECK_EQ(write_file(TRACING "tracing_on", "1"), 0);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, NULL), 0);
	write_file(TRACING "tracing_on", "0");
	write_file(TRACING "events/migrate/set_migration_pte/enable", "0");
	write_file(TRACING "events/migrate/remove_migration_pte/enable", "0");

	f = fopen(TRACING "trace", "re");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long addr, pte;
		char *ev;
		bool set = (ev = strstr(line, "set_migration_pte: ")) != NULL;

		lineno++;
		if (!set && !(ev = strstr(line, "remove_migration_pte: ")))
			continue;
		if (sscanf(strchr(ev, ' ') + 1, "addr=%llx, pte=%llx", &addr, &pte) != 2)
			continue;
		for (int i = 0; i < N; i++) {
			if ((uintptr_t)pages[i] != addr)
				continue;
			if (set && set_at[i] < 0)
				set_at[i] = lineno;
			if (!set && remove_at[i] < 0) {
				remove_at[i] = lineno;
				new_pfn[i] = (pte & 0x000ffffffffff000ull) >> 12;
			}
		}
	}
	if (f)
		fclose(f);
	for (int i = 0; i < N; i++) {
		CHECK(set_at[i] > 0);
		CHECK(remove_at[i] > set_at[i]);
		CHECK(new_pfn[i] != old_pfn[i]);
		CHECK_EQ(pfn_node(new_pfn[i]), 1);
		CHECK_EQ(pagemap_pfn(pages[i]), new_pfn[i]);
	}
	printf("  %d pages: step 4 (set_migration_pte) then step 16 (remove_migration_pte) on a "
	       "new frame on node 1\n",
	       N);
	free(pages);
	free(nodes);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_step4_before_step16)};

	lab_need_nodes(2);
	return check_run(tests, 1);
}
