// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab cases 3 and 4: transparent huge pages.
 * 3. Raw move_pages answers -EBUSY for later entries of a folio that already moved; the library
 *    ends with every page on target, returns 0, and its report says what happened.
 * 4. Mixed targets inside huge pages: the return value equals the pages really off target, and
 *    no status contradicts where the page is.
 * Also: pages_per_call counts entries, a huge folio's entry as one.
 */
#include <limits.h>
#include <sys/syscall.h>

#include "labutil.h"

#define BYTES (8ul << 20)

static char *thp_buffer(int node, unsigned int seed)
{
	char *p = lab_buffer(BYTES, node, true, seed);
	long kb = lab_anon_huge_kb(0, p);

	if (kb < (long)(BYTES >> 10))
		SKIP_ALL("the kernel backed only %ld of %lu kB with huge pages", kb, BYTES >> 10);
	return p;
}

static void test_raw_busy_then_library(void)
{
	size_t n = BYTES / ps, busy = 0, folios = BYTES / HUGE_SZ;
	char *p = thp_buffer(0, 3);
	void **pages = lab_pages(p, BYTES);
	int *to1 = lab_nodes(n, 1), *to0 = lab_nodes(n, 0), *st = malloc(n * sizeof(int));
	struct pagemig_report rep;
	/* One call, as raw: calls sized by time may split a folio's first two entries, and the
	 * second then finds its page moved already (MOVED, not MOVED_FOLIO; CI saw 3 of 4). */
	struct pagemig_opts o = {.sz = sizeof(o),
				 .flags = PAGEMIG_NO_FOLIO_DEDUP,
				 .pages_per_call = (unsigned int)n,
				 .call_budget_us = UINT_MAX};
	long ret;

	/* raw: every 4 KiB address of every huge page */
	for (size_t i = 0; i < n; i++)
		st[i] = INT32_MIN;
	ret = syscall(SYS_move_pages, 0, n, pages, to1, st, MPOL_MF_MOVE);
	for (size_t i = 0; i < n; i++)
		busy += st[i] == -EBUSY;
	printf("  raw move_pages: returned %ld, %zu of %zu entries -EBUSY, %zu pages now on "
	       "node 1\n",
	       ret, busy, n, lab_count_on(0, pages, n, 1));
	CHECK_EQ(ret, 0);
	CHECK(busy >= folios); /* at least the second entry of every folio */
	CHECK_EQ(lab_count_on(0, pages, n, 1), n);

	/* the library, every page sent: -EBUSY answers turn out moved with their folio */
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, to0, st, &o, &rep), 0);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(st[i], 0);
	CHECK_EQ(lab_count_on(0, pages, n, 0), n);
	CHECK(rep.by_outcome[PAGEMIG_OUT_MOVED_FOLIO] >= folios);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_MOVED] + rep.by_outcome[PAGEMIG_OUT_MOVED_FOLIO], n);
	CHECK_EQ(rep.retries, 0);
	pagemig_report_print(stdout, &rep, "  library, no folio dedup");

	/* the library with folio dedup: one entry per huge page */
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, to1, st, NULL, &rep), 0);
	CHECK_EQ(lab_count_on(0, pages, n, 1), n);
	CHECK_EQ(rep.entries_sent, folios);
	CHECK_EQ(rep.folios_deduped, n - folios);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_MOVED], n);
	pagemig_report_print(stdout, &rep, "  library");
	CHECK(lab_pattern_ok(p, BYTES, 3));
	free(pages);
	free(to1);
	free(to0);
	free(st);
}

/*
 * pages_per_call counts entries: without a budget the 4 folio entries of the buffer go in one
 * call of 2048 pages; with pages_per_call = 2, in two. This is what lets pagemig move huge
 * pages with fewer calls than a caller that sends every 4 KiB address.
 */
static void test_folio_entries_per_call(void)
{
	size_t n = BYTES / ps, folios = BYTES / HUGE_SZ;
	char *p = thp_buffer(0, 5);
	void **pages = lab_pages(p, BYTES);
	int *to1 = lab_nodes(n, 1), *to0 = lab_nodes(n, 0), *st = malloc(n * sizeof(int));
	struct pagemig_report rep;
	struct pagemig_opts o = {.sz = sizeof(o),
				 .pages_per_call = (unsigned int)folios,
				 .call_budget_us = UINT_MAX};

	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, to1, st, &o, &rep), 0);
	printf("  pages_per_call %u, no budget: %lu call(s), %lu entries, longest %.1f ms\n",
	       o.pages_per_call, rep.calls, rep.entries_sent, rep.max_call_ns / 1e6);
	CHECK_EQ(lab_count_on(0, pages, n, 1), n);
	CHECK_EQ(rep.calls, 1);
	CHECK_EQ(rep.entries_sent, folios);

	o.pages_per_call = 2;
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, n, pages, to0, st, &o, &rep), 0);
	printf("  pages_per_call %u, no budget: %lu call(s), %lu entries\n", o.pages_per_call,
	       rep.calls, rep.entries_sent);
	CHECK_EQ(lab_count_on(0, pages, n, 0), n);
	CHECK_EQ(rep.calls, folios / 2);
	CHECK(lab_pattern_ok(p, BYTES, 5));
	free(pages);
	free(to1);
	free(to0);
	free(st);
}

/* Every status agrees with the kernel; returns pages really off target. */
static long check_consistent(void **pages, size_t n, const int *nodes, const int *st)
{
	int *where = malloc(n * sizeof(int));
	long off = 0;

	CHECK_EQ(pagemig_query(0, n, pages, where), 0);
	for (size_t i = 0; i < n; i++) {
		off += where[i] != nodes[i];
		if ((st[i] == nodes[i]) != (where[i] == nodes[i])) {
			printf("  page %zu: status %d but the kernel places it on %d (asked %d)\n",
			       i, st[i], where[i], nodes[i]);
			CHECK(0);
		}
	}
	free(where);
	return off;
}

static void test_mixed_targets(void)
{
	size_t n = BYTES / ps;
	char *p = thp_buffer(0, 4);
	void **pages = lab_pages(p, BYTES);
	int *nodes = malloc(n * sizeof(int)), *st = malloc(n * sizeof(int));
	int other = numa_num_configured_nodes() > 2 ? 2 : 0;

	/* huge page 0: 300 pages to node 1, 212 to the other; huge page 1: split 256/256;
	 * the rest to node 1 */
	for (size_t i = 0; i < n; i++) {
		nodes[i] = 1;
		if (i < 512 && i >= 300)
			nodes[i] = other;
		if (i >= 512 && i < 768)
			nodes[i] = other;
	}
	for (int dedup = 1; dedup >= 0; dedup--) {
		struct pagemig_opts o = {.sz = sizeof(o),
					 .flags = dedup ? 0 : PAGEMIG_NO_FOLIO_DEDUP};
		struct pagemig_report rep;
		long ret, off;

		pagemig_report_init(&rep);
		ret = pagemig_move(0, n, pages, nodes, st, &o, &rep);
		off = check_consistent(pages, n, nodes, st);
		printf("  %s: returned %ld, %ld pages off target, %lu folio_mixed, %lu calls\n",
		       dedup ? "folio-aware" : "every page sent", ret, off,
		       rep.by_outcome[PAGEMIG_OUT_FOLIO_MIXED], rep.calls);
		CHECK_EQ(ret, off);
		CHECK(off >= 212 + 256); /* a huge folio cannot straddle nodes */
		if (dedup) {
			CHECK_EQ(off, 212 + 256);
			CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_FOLIO_MIXED], 212 + 256);
		}
		CHECK(lab_pattern_ok(p, BYTES, 4));
		/* back home for the next round */
		int *home = lab_nodes(n, 0);
		CHECK_EQ(pagemig_move(0, n, pages, home, st, NULL, NULL), 0);
		free(home);
	}
	free(pages);
	free(nodes);
	free(st);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_raw_busy_then_library),
		CHECK_TEST(test_mixed_targets),
		CHECK_TEST(test_folio_entries_per_call),
	};

	lab_need_nodes(2);
	return check_run(tests, 3);
}
