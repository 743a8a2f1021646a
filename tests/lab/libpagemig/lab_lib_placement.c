// SPDX-License-Identifier: LGPL-2.1-or-later
/* Lab case 1: first touch under a memory policy lands where the policy says, and
 * pagemig_query agrees with /proc/self/numa_maps. */
#include "labutil.h"

static int nnodes;

/* N<node>=<pages> of the numa_maps line for the mapping at addr; -1 if absent. */
static long numa_maps_pages(const void *addr, int node)
{
	char line[1024], key[16];
	long pages = -1;
	FILE *f = fopen("/proc/self/numa_maps", "re");

	snprintf(key, sizeof(key), " N%d=", node);
	while (f && fgets(line, sizeof(line), f)) {
		char *k;

		if (strtoul(line, NULL, 16) != (uintptr_t)addr)
			continue;
		k = strstr(line, key);
		pages = k ? strtol(k + strlen(key), NULL, 10) : 0;
		break;
	}
	if (f)
		fclose(f);
	return pages;
}

/* Pages touched under an MPOL_BIND policy of the mapping (mbind, which also gives the range a
 * VMA of its own) or of the task (set_mempolicy). */
static void test_first_touch(void)
{
	enum { N = 64 };

	for (int node = 0; node < nnodes; node++) {
		unsigned long mask = 1ul << node;
		char *p = mmap(NULL, N * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		char *q = mmap(NULL, N * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		void **pages = lab_pages(p, N * ps), **qpages = lab_pages(q, N * ps);

		CHECK(p != MAP_FAILED && q != MAP_FAILED);
		CHECK_EQ(mbind(p, N * ps, MPOL_BIND, &mask, sizeof(mask) * 8, 0), 0);
		memset(p, 1, N * ps);
		CHECK_EQ(lab_count_on(0, pages, N, node), N);
		CHECK_EQ(numa_maps_pages(p, node), N);
		for (int other = 0; other < nnodes; other++)
			if (other != node)
				CHECK_EQ(numa_maps_pages(p, other), 0);

		CHECK_EQ(set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8), 0);
		memset(q, 1, N * ps);
		CHECK_EQ(set_mempolicy(MPOL_DEFAULT, NULL, 0), 0);
		CHECK_EQ(lab_count_on(0, qpages, N, node), N);
		printf("  node %d: pagemig_query and numa_maps agree on %d pages\n", node, N);
		free(pages);
		free(qpages);
		munmap(p, N * ps);
		munmap(q, N * ps);
	}
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_first_touch)};

	nnodes = lab_need_nodes(2);
	return check_run(tests, 1);
}
