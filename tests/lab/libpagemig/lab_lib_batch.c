// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab case: small requests through pagemig_batch across real nodes. Requests of 1..16 pages,
 * alternating between two targets, go out in coalesced calls; every page must end on the node
 * its request named, the data intact, and the batch must have made far fewer calls than there
 * were requests. Also: per-call latency in the report, and THP buffers through a batch.
 */
#include "labutil.h"

static void run_batch(bool thp)
{
	const size_t bytes = 16ul << 20, n = bytes / ps;
	char *p = lab_buffer(bytes, 0, thp, 11);
	void **pages = lab_pages(p, bytes);
	uint64_t sum = lab_checksum(p, bytes);
	struct pagemig_opts o = {.sz = sizeof(o), .batch_pages = 512};
	struct pagemig_report rep;
	struct pagemig_batch *b = pagemig_batch_new(0, &o);
	size_t requests = 0, on1 = 0, on2 = 0;
	int *st = malloc(n * sizeof(*st));

	CHECK(b != NULL);
	/* whole 2 MiB windows alternate between node 1 and node 2, so THP folios never get
	 * mixed targets; inside a window, requests of 1..16 pages */
	for (size_t off = 0; off < n; requests++) {
		size_t k = 1 + (requests * 7) % 16, win = off / 512;

		if (k > n - off)
			k = n - off;
		if (k > 512 - off % 512)
			k = 512 - off % 512;
		CHECK_EQ(pagemig_batch_add(b, pages + off, k, win % 2 ? 2 : 1), 0);
		off += k;
	}
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_batch_flush(b, &rep), 0);
	CHECK_EQ(pagemig_batch_pending(b), 0);
	pagemig_batch_free(b);
	CHECK_EQ(rep.pages_on_target, n);
	CHECK(rep.calls * 10 < requests);
	CHECK(pagemig_report_call_us(&rep, 0.5) > 0);
	CHECK_EQ(pagemig_query(0, n, pages, st), 0);
	for (size_t i = 0; i < n; i++) {
		int want = (i / 512) % 2 ? 2 : 1;

		if (st[i] != want)
			printf("  page %zu on %d, wanted %d\n", i, st[i], want);
		on1 += st[i] == 1;
		on2 += st[i] == 2;
	}
	CHECK_EQ(on1 + on2, n);
	CHECK_EQ(lab_checksum(p, bytes), sum);
	CHECK(lab_pattern_ok(p, bytes, 11));
	printf("  %s: %zu requests in %lu move calls (%lu entries), p50 <= %.0f us, p99 <= %.0f us, "
	       "longest %.1f ms\n",
	       thp ? "thp" : "4k", requests, rep.calls, rep.entries_sent,
	       pagemig_report_call_us(&rep, 0.5), pagemig_report_call_us(&rep, 0.99),
	       (double)rep.max_call_ns / 1e6);
	free(pages);
	free(st);
}

static void test_batch_4k(void)
{
	run_batch(false);
}

static void test_batch_thp(void)
{
	run_batch(true);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_batch_4k),
						  CHECK_TEST(test_batch_thp)};

	lab_need_nodes(3);
	return check_run(tests, 2);
}
