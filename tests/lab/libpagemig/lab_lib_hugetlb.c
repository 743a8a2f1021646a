// SPDX-License-Identifier: LGPL-2.1-or-later
/* Lab case 10: hugetlbfs pages (2 MiB, reserved on nodes 0 and 1) are moved and verified. */
#include "labutil.h"

#define HUGES 3

/* Reserve n 2 MiB huge pages on node; returns how many the node has. */
static long reserve(int node, long n)
{
	char path[128];
	long got = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages", node);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", n);
	fclose(f);
	f = fopen(path, "re");
	if (f && fscanf(f, "%ld", &got) != 1)
		got = -1;
	if (f)
		fclose(f);
	return got;
}

static void test_hugetlb(void)
{
	size_t bytes = HUGES * HUGE_SZ, n = bytes / ps;
	unsigned long mask = 1;
	char *p;
	void **pages;
	int *nodes, *st;
	struct pagemig_report rep;

	if (reserve(0, HUGES) < HUGES || reserve(1, HUGES) < HUGES)
		SKIP_ALL("cannot reserve %d huge pages on nodes 0 and 1", HUGES);
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1,
		 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	CHECK_EQ(mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0), 0);
	for (size_t i = 0; i < bytes / 8; i++)
		((uint64_t *)p)[i] = i * 31;
	pages = lab_pages(p, bytes);
	nodes = lab_nodes(n, 1);
	st = malloc(n * sizeof(int));
	CHECK_EQ(lab_count_on(0, pages, n, 0), n);

	mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, nodes, st, NULL, &rep), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(st[i], 1);
	CHECK_EQ(lab_count_on(0, pages, n, 1), n);
	CHECK_EQ(rep.entries_sent, HUGES); /* one entry per huge page */
	pagemig_report_print(stdout, &rep, "  hugetlb to node 1");

	/* and back, every page sent: tails of hugetlb pages must not fool the library */
	struct pagemig_opts o = {.sz = sizeof(o), .flags = PAGEMIG_NO_FOLIO_DEDUP};
	int *home = lab_nodes(n, 0);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, home, st, &o, &rep), 0);
	CHECK_EQ(lab_count_on(0, pages, n, 0), n);
	pagemig_report_print(stdout, &rep, "  hugetlb back, every page sent");
	for (size_t i = 0; i < bytes / 8; i++)
		if (((uint64_t *)p)[i] != i * 31) {
			CHECK(!"hugetlb contents intact");
			break;
		}
	munmap(p, bytes);
	free(home);
	free(pages);
	free(nodes);
	free(st);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_hugetlb)};

	lab_need_nodes(2);
	return check_run(tests, 1);
}
