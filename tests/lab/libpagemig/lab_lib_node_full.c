// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab case 9: a target node short of memory. Node 2 is filled until about 64 MiB are free,
 * then 192 MiB are moved there: the result is a clear partial one, the report says which pages
 * stayed and why, statuses agree with the kernel, and no data is lost.
 */
#include "labutil.h"

#define LEFT  (64ll << 20)
#define BYTES (192ul << 20)

static void test_target_full(void)
{
	long long free_b = 0;
	size_t n = BYTES / ps, stayed = 0, there = 0;
	char *filler, *p;
	void **pages;
	int *nodes, *st, *where;
	struct pagemig_report rep;
	long ret;

	numa_node_size64(2, &free_b);
	if (free_b < LEFT * 2)
		SKIP_ALL("node 2 has only %lld MiB free", free_b >> 20);
	/* fill node 2, leaving LEFT: anonymous memory the kernel cannot reclaim without swap */
	filler = lab_buffer((size_t)(free_b - LEFT), 2, false, 2);
	numa_node_size64(2, &free_b);
	printf("  node 2 filled: %lld MiB free\n", free_b >> 20);

	p = lab_buffer(BYTES, 0, false, 9);
	pages = lab_pages(p, BYTES);
	nodes = lab_nodes(n, 2);
	st = malloc(n * sizeof(int));
	where = malloc(n * sizeof(int));
	pagemig_report_init(&rep);
	ret = pagemig_move(0, n, pages, nodes, st, NULL, &rep);
	CHECK_EQ(pagemig_query(0, n, pages, where), 0);
	for (size_t i = 0; i < n; i++) {
		there += where[i] == 2;
		if (st[i] != 2) {
			stayed++;
			CHECK_EQ(st[i], -ENOMEM);
			CHECK_EQ(where[i], 0); /* not lost, not elsewhere: still at home */
		} else {
			CHECK_EQ(where[i], 2);
		}
	}
	pagemig_report_print(stdout, &rep, "  move 192 MiB to the full node");
	CHECK(ret > 0);
	CHECK_EQ((size_t)ret, stayed);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_NO_MEMORY], stayed);
	CHECK(rep.by_step[PAGEMIG_STEP_A2_ALLOC] > 0);
	CHECK(there > 0);
	CHECK(lab_pattern_ok(p, BYTES, 9));
	CHECK(lab_pattern_ok(filler, 16ul << 20, 2)); /* the filler was not disturbed either */
	printf("  %zu pages moved, %zu stayed with -ENOMEM (step A2)\n", there, stayed);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_target_full)};

	lab_need_nodes(3);
	return check_run(tests, 1);
}
