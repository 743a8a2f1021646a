// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The migration audit on synthetic ring-buffer records: step sequences per page in the batched
 * order of recent kernels and the per-page order of older ones, rollbacks, lost records, steps
 * out of order, calls that touch a page again, records outside calls, the bound on remembered
 * pages, and the frame numbers of x86-64 page-table entries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sampler_audit.h"

#define MOVER	 100
#define TID	 101
#define PTE(pfn) (((uint64_t)(pfn) << 12) | 0x8000000000000067ull) /* NX, present, rw, ... */

/* Fake topology: 1 Mi frames (4 GiB) per node. */
static int fake_node(uint64_t pfn, void *ctx)
{
	(void)ctx;
	return pfn >> 20 < 3 ? (int)(pfn >> 20) : -1;
}

static uint64_t clock_ns;

static struct pagemig_mig_event ev(uint8_t type, uint32_t tid)
{
	struct pagemig_mig_event e;

	memset(&e, 0, sizeof(e));
	e.ts = ++clock_ns;
	e.tid = tid;
	e.tgid = MOVER;
	e.type = type;
	return e;
}

static void start(struct pagemig_audit *a, uint32_t tid, uint8_t reason)
{
	struct pagemig_mig_event e = ev(PAGEMIG_MIG_START, tid);

	e.reason = reason;
	e.mode = PAGEMIG_MM_SYNC;
	pagemig_audit_feed(a, &e);
}

static void end(struct pagemig_audit *a, uint32_t tid, uint8_t reason, uint64_t ok, uint64_t bad)
{
	struct pagemig_mig_event e = ev(PAGEMIG_MIG_END, tid);

	e.reason = reason;
	e.end.succeeded = ok;
	e.end.failed = bad;
	pagemig_audit_feed(a, &e);
}

static void set(struct pagemig_audit *a, uint32_t tid, uint64_t addr)
{
	struct pagemig_mig_event e = ev(PAGEMIG_MIG_SET_PTE, tid);

	e.pte.addr = addr;
	e.pte.entry = 0xf7ffe7ffded0fe00ull; /* a migration entry: never decoded */
	pagemig_audit_feed(a, &e);
}

static void removed(struct pagemig_audit *a, uint32_t tid, uint64_t addr, uint64_t pfn)
{
	struct pagemig_mig_event e = ev(PAGEMIG_MIG_REMOVE_PTE, tid);

	e.pte.addr = addr;
	e.pte.entry = PTE(pfn);
	pagemig_audit_feed(a, &e);
}

static struct pagemig_audit *new_audit(size_t max)
{
	struct pagemig_audit *a = NULL;

	assert_int_equal(pagemig_audit_new(max, fake_node, NULL, &a), 0);
	return a;
}

static void test_pfn_decode(void **state)
{
	/* The sample from kernel-migration.md §4.2: remove_migration_pte pte=800000013ca3b067. */
	assert_int_equal(pagemig_pte_pfn(0x800000013ca3b067ull), 0x13ca3b);
	/* Protection keys (59..62) and NX (63) are not address bits. */
	assert_int_equal(pagemig_pte_pfn(0xf800000000001067ull), 1);
	/* A 2 MiB PMD: bit 12 is PAT, not address. */
	assert_int_equal(pagemig_pmd_pfn(0x80000001002010e7ull), 0x100200);
}

/* Kernels since ~6.3: every step 4 of a batch, then every step 16. */
static void test_batched_moves(void **state)
{
	struct pagemig_audit *a = new_audit(16);
	const struct pagemig_audit_totals *t;
	struct pagemig_audit_batch log[4];
	char line[160];

	start(a, TID, PAGEMIG_MR_SYSCALL);
	for (int i = 0; i < 3; i++)
		set(a, TID, 0x7f0000000000ull + i * 4096 + 123); /* any address in the page */
	for (int i = 0; i < 3; i++)
		removed(a, TID, 0x7f0000000000ull + i * 4096, (1u << 20) + 10 + i); /* node 1 */
	end(a, TID, PAGEMIG_MR_SYSCALL, 3, 0);

	for (int i = 0; i < 3; i++) {
		const struct pagemig_audit_page *p =
			pagemig_audit_find(a, MOVER, 0x7f0000000000ull + i * 4096 + 4000);

		assert_non_null(p);
		assert_int_equal(p->nsteps, 2);
		assert_int_equal(p->steps[0], PAGEMIG_STEP_B4_UNMAP);
		assert_int_equal(p->steps[1], PAGEMIG_STEP_B16_REMAP);
		assert_int_equal(p->reason, PAGEMIG_MR_SYSCALL);
		assert_int_equal(p->batch, 1);
		assert_int_equal(p->attempts, 1);
		assert_int_equal(p->pfn, (1u << 20) + 10 + i);
		assert_int_equal(p->node, 1);
		assert_false(p->out_of_order);
		assert_int_equal(pagemig_audit_verdict(p, 1, 10 + i, 0), PAGEMIG_AUDIT_MOVED);
		assert_int_equal(pagemig_audit_verdict(p, 2, 10 + i, 0), PAGEMIG_AUDIT_WRONG_NODE);
		assert_int_equal(pagemig_audit_verdict(p, 1, 0, -1), PAGEMIG_AUDIT_MOVED);
	}
	assert_null(pagemig_audit_find(a, MOVER, 0x7f0000003000ull));
	assert_null(pagemig_audit_find(a, MOVER + 1, 0x7f0000000000ull));
	assert_int_equal(pagemig_audit_verdict(NULL, 1, 0, -1), PAGEMIG_AUDIT_NOT_SEEN);

	t = pagemig_audit_totals(a);
	assert_int_equal(t->records, 8);
	assert_int_equal(t->batches, 1);
	assert_int_equal(t->batches_ended, 1);
	assert_int_equal(t->batches_batched, 1);
	assert_int_equal(t->batches_interleaved, 0);
	assert_int_equal(t->set, 3);
	assert_int_equal(t->remove, 3);
	assert_int_equal(t->pages_by_reason[PAGEMIG_MR_SYSCALL], 3);
	assert_int_equal(t->outside_batch, 0);

	assert_int_equal(pagemig_audit_batches(a, log, 4), 1);
	assert_int_equal(log[0].seq, 1);
	assert_true(log[0].ended);
	assert_false(log[0].interleaved);
	assert_int_equal(log[0].n_set, 3);
	assert_int_equal(log[0].succeeded, 3);

	pagemig_audit_describe(line, sizeof(line), pagemig_audit_find(a, MOVER, 0x7f0000000000ull));
	assert_string_equal(line, "B4 B16 (syscall, call 1, 1 attempt) -> pfn 0x10000a on node 1");
	pagemig_audit_free(a);
}

/* Kernels before batching (6.1): 4 and 16 page by page. */
static void test_interleaved(void **state)
{
	struct pagemig_audit *a = new_audit(16);

	start(a, TID, PAGEMIG_MR_SYSCALL);
	for (int i = 0; i < 3; i++) {
		set(a, TID, 0x1000 * (i + 1));
		removed(a, TID, 0x1000 * (i + 1), (2u << 20) + i);
	}
	end(a, TID, PAGEMIG_MR_SYSCALL, 3, 0);
	assert_int_equal(pagemig_audit_totals(a)->batches_interleaved, 1);
	assert_int_equal(pagemig_audit_totals(a)->batches_batched, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pagemig_audit_verdict(
					 pagemig_audit_find(a, MOVER, 0x1000 * (i + 1)), 2, 0, 0),
				 PAGEMIG_AUDIT_MOVED);
	pagemig_audit_free(a);
}

static void test_rollback_and_failures(void **state)
{
	struct pagemig_audit *a = new_audit(16);
	const struct pagemig_audit_page *p;

	start(a, TID, PAGEMIG_MR_SYSCALL);
	/* Backed out after step 4: step 16 restores the old frame (node 0). */
	set(a, TID, 0x1000);
	removed(a, TID, 0x1000, 77);
	/* Step 4 whose step 16 was lost. */
	set(a, TID, 0x2000);
	/* Step 16 without step 4 (the step-4 record was lost, or the order is wrong). */
	removed(a, TID, 0x3000, (1u << 20) + 1);
	/* Step 16 before step 4 in one attempt. */
	removed(a, TID, 0x4000, (1u << 20) + 2);
	set(a, TID, 0x4000);
	/* Step 16 on a frame no node owns. */
	set(a, TID, 0x5000);
	removed(a, TID, 0x5000, 5u << 20);
	end(a, TID, PAGEMIG_MR_SYSCALL, 1, 4);

	p = pagemig_audit_find(a, MOVER, 0x1000);
	assert_int_equal(pagemig_audit_verdict(p, 1, 77, 0), PAGEMIG_AUDIT_ROLLED_BACK);
	/* Without the old frame, a step 16 back on the old node counts as a rollback too. */
	assert_int_equal(pagemig_audit_verdict(p, 1, 0, 0), PAGEMIG_AUDIT_ROLLED_BACK);
	assert_int_equal(pagemig_audit_verdict(pagemig_audit_find(a, MOVER, 0x2000), 1, 0, 0),
			 PAGEMIG_AUDIT_INCOMPLETE);
	assert_int_equal(pagemig_audit_verdict(pagemig_audit_find(a, MOVER, 0x3000), 1, 0, 0),
			 PAGEMIG_AUDIT_OUT_OF_ORDER);
	p = pagemig_audit_find(a, MOVER, 0x4000);
	assert_true(p->out_of_order);
	assert_int_equal(pagemig_audit_verdict(p, 1, 0, 0), PAGEMIG_AUDIT_OUT_OF_ORDER);
	assert_int_equal(pagemig_audit_verdict(pagemig_audit_find(a, MOVER, 0x5000), 1, 0, 0),
			 PAGEMIG_AUDIT_NODE_UNKNOWN);
	assert_int_equal(pagemig_audit_totals(a)->pfn_unknown_node, 1);
	assert_string_equal(pagemig_audit_verdict_name(PAGEMIG_AUDIT_ROLLED_BACK), "rolled_back");
	assert_string_equal(pagemig_audit_verdict_name(PAGEMIG_AUDIT__COUNT), "?");
	pagemig_audit_free(a);
}

/* A second call for the same page describes the new attempt; attempts add up. Pages mapped
 * twice (shared) show two steps 4 and two steps 16. */
static void test_retry_and_shared(void **state)
{
	struct pagemig_audit *a = new_audit(16);
	const struct pagemig_audit_page *p;

	start(a, TID, PAGEMIG_MR_SYSCALL);
	set(a, TID, 0x1000);
	removed(a, TID, 0x1000, 50); /* rollback */
	end(a, TID, PAGEMIG_MR_SYSCALL, 0, 1);
	start(a, TID, PAGEMIG_MR_SYSCALL);
	set(a, TID, 0x1000);
	set(a, TID, 0x1000);
	removed(a, TID, 0x1000, (1u << 20) + 50);
	removed(a, TID, 0x1000, (1u << 20) + 50);
	end(a, TID, PAGEMIG_MR_SYSCALL, 1, 0);

	p = pagemig_audit_find(a, MOVER, 0x1000);
	assert_int_equal(p->batch, 2);
	assert_int_equal(p->attempts, 2);
	assert_int_equal(p->n_set, 2);
	assert_int_equal(p->n_remove, 2);
	assert_int_equal(p->nsteps, 4);
	assert_false(p->out_of_order);
	assert_int_equal(pagemig_audit_verdict(p, 1, 50, 0), PAGEMIG_AUDIT_MOVED);
	pagemig_audit_free(a);
}

/* Two threads migrating at once; records of a thread with no call open (THP split). */
static void test_threads_and_outside(void **state)
{
	struct pagemig_audit *a = new_audit(16);
	const struct pagemig_audit_page *p;

	start(a, TID, PAGEMIG_MR_SYSCALL);
	start(a, TID + 1, PAGEMIG_MR_NUMA_MISPLACED);
	set(a, TID + 1, 0x9000);
	set(a, TID, 0x1000);
	removed(a, TID + 1, 0x9000, (2u << 20) + 9);
	removed(a, TID, 0x1000, (1u << 20) + 1);
	end(a, TID + 1, PAGEMIG_MR_NUMA_MISPLACED, 1, 0);
	end(a, TID, PAGEMIG_MR_SYSCALL, 1, 0);
	assert_int_equal(pagemig_audit_find(a, MOVER, 0x9000)->reason, PAGEMIG_MR_NUMA_MISPLACED);
	assert_int_equal(pagemig_audit_find(a, MOVER, 0x1000)->reason, PAGEMIG_MR_SYSCALL);
	assert_int_equal(pagemig_audit_totals(a)->pages_by_reason[PAGEMIG_MR_NUMA_MISPLACED], 1);

	set(a, TID + 2, 0xa000);
	removed(a, TID + 2, 0xa000, 3);
	p = pagemig_audit_find(a, MOVER, 0xa000);
	assert_int_equal(p->batch, 0);
	assert_int_equal(p->reason, PAGEMIG_MR_OTHER);
	assert_int_equal(pagemig_audit_totals(a)->outside_batch, 2);
	/* A new step 4 after a complete sequence outside calls starts a new record. */
	set(a, TID + 2, 0xa000);
	p = pagemig_audit_find(a, MOVER, 0xa000);
	assert_int_equal(p->nsteps, 1);
	assert_int_equal(p->attempts, 2);
	pagemig_audit_free(a);
}

/* Only max_pages records are kept: the oldest go, the index stays consistent. */
static void test_bounded(void **state)
{
	struct pagemig_audit *a = new_audit(8);

	start(a, TID, PAGEMIG_MR_SYSCALL);
	for (uint64_t i = 0; i < 100; i++) {
		set(a, TID, i << 12);
		removed(a, TID, i << 12, (1u << 20) + i);
	}
	end(a, TID, PAGEMIG_MR_SYSCALL, 100, 0);
	assert_int_equal(pagemig_audit_totals(a)->pages_evicted, 92);
	for (uint64_t i = 0; i < 92; i++)
		assert_null(pagemig_audit_find(a, MOVER, i << 12));
	for (uint64_t i = 92; i < 100; i++) {
		const struct pagemig_audit_page *p = pagemig_audit_find(a, MOVER, i << 12);

		assert_non_null(p);
		assert_int_equal(p->pfn, (1u << 20) + i);
	}
	pagemig_audit_reset(a);
	assert_null(pagemig_audit_find(a, MOVER, 99 << 12));
	assert_int_equal(pagemig_audit_totals(a)->remove, 100); /* totals stay */
	pagemig_audit_free(a);
}

/* The call log keeps the newest PAGEMIG_AUDIT_BATCH_LOG calls, oldest first. */
static void test_batch_log(void **state)
{
	struct pagemig_audit *a = new_audit(4);
	struct pagemig_audit_batch log[PAGEMIG_AUDIT_BATCH_LOG];
	size_t n;

	for (int i = 0; i < PAGEMIG_AUDIT_BATCH_LOG + 5; i++) {
		start(a, TID, PAGEMIG_MR_COMPACTION);
		end(a, TID, PAGEMIG_MR_COMPACTION, (uint64_t)i, 0);
	}
	n = pagemig_audit_batches(a, log, PAGEMIG_AUDIT_BATCH_LOG);
	assert_int_equal(n, PAGEMIG_AUDIT_BATCH_LOG);
	assert_int_equal(log[0].seq, 6);
	assert_int_equal(log[n - 1].seq, PAGEMIG_AUDIT_BATCH_LOG + 5);
	assert_int_equal(log[n - 1].succeeded, PAGEMIG_AUDIT_BATCH_LOG + 4);
	n = pagemig_audit_batches(a, log, 2);
	assert_int_equal(n, 2);
	assert_int_equal(log[1].seq, PAGEMIG_AUDIT_BATCH_LOG + 5);
	assert_string_equal(pagemig_mig_reason_name(PAGEMIG_MR_NUMA_MISPLACED), "numa_misplaced");
	assert_string_equal(pagemig_mig_reason_name(PAGEMIG_MR__COUNT), "?");
	pagemig_audit_free(a);
}

static void test_pmd(void **state)
{
	struct pagemig_audit *a = new_audit(4);
	struct pagemig_mig_event e;
	const struct pagemig_audit_page *p;

	start(a, TID, PAGEMIG_MR_SYSCALL);
	e = ev(PAGEMIG_MIG_SET_PMD, TID);
	e.pte.addr = 0x200000;
	e.order = -1;
	pagemig_audit_feed(a, &e);
	e = ev(PAGEMIG_MIG_REMOVE_PMD, TID);
	e.pte.addr = 0x200000;
	e.pte.entry = 0x80000001002010e7ull;
	e.order = -1;
	pagemig_audit_feed(a, &e);
	end(a, TID, PAGEMIG_MR_SYSCALL, 512, 0);
	p = pagemig_audit_find(a, MOVER, 0x200000);
	assert_true(p->pmd);
	assert_int_equal(p->pfn, 0x100200);
	assert_int_equal(pagemig_audit_verdict(p, 1, 0, 0), PAGEMIG_AUDIT_MOVED);
	pagemig_audit_free(a);
}

static void test_new_errors(void **state)
{
	struct pagemig_audit *a = NULL;

	assert_int_equal(pagemig_audit_new(0, NULL, NULL, &a), -EINVAL);
	assert_int_equal(pagemig_audit_new(4, NULL, NULL, NULL), -EINVAL);
	/* Without a frame -> node function every node is unknown. */
	assert_int_equal(pagemig_audit_new(4, NULL, NULL, &a), 0);
	set(a, TID, 0x1000);
	removed(a, TID, 0x1000, 5);
	assert_int_equal(pagemig_audit_find(a, MOVER, 0x1000)->node, -1);
	pagemig_audit_free(a);
	pagemig_audit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pfn_decode),
		cmocka_unit_test(test_batched_moves),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_rollback_and_failures),
		cmocka_unit_test(test_retry_and_shared),
		cmocka_unit_test(test_threads_and_outside),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_batch_log),
		cmocka_unit_test(test_pmd),
		cmocka_unit_test(test_new_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
