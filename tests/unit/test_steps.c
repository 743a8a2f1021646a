// SPDX-License-Identifier: LGPL-2.1-or-later
/* The documented step table, the classification of every errno, and the explain sentences. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pagemig/pagemig.h"

static void test_table_order(void **state)
{
	size_t n = 0;
	const struct pagemig_step_info *t = pagemig_steps(&n);

	assert_int_equal(n, PAGEMIG_STEP__COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t[i].step, i);
		assert_non_null(t[i].label);
		assert_non_null(t[i].name);
		assert_non_null(t[i].text);
		assert_ptr_equal(pagemig_step_info(i), &t[i]);
	}
	assert_null(pagemig_step_info(PAGEMIG_STEP__COUNT));
	assert_null(pagemig_step_info((enum pagemig_step) - 1));

	/* part A is 1..3, part B 1..16 then 19, 20 as the document numbers them */
	assert_int_equal(t[PAGEMIG_STEP_A1_ISOLATE].number, 1);
	assert_int_equal(t[PAGEMIG_STEP_A3_CALL].number, 3);
	for (int s = PAGEMIG_STEP_B1_LOCK_OLD; s <= PAGEMIG_STEP_B16_REMAP; s++)
		assert_int_equal(t[s].number, s - PAGEMIG_STEP_B1_LOCK_OLD + 1);
	assert_int_equal(t[PAGEMIG_STEP_B19_UNLOCK].number, 19);
	assert_int_equal(t[PAGEMIG_STEP_B19_UNLOCK].number_today, 17);
	assert_int_equal(t[PAGEMIG_STEP_B20_LRU].number, 20);
	assert_int_equal(t[PAGEMIG_STEP_B20_LRU].number_today, 18);
	assert_string_equal(t[PAGEMIG_STEP_B6_REFCOUNT].label, "B6");
	assert_false(t[PAGEMIG_STEP_B1_B7].documented);
	assert_false(t[PAGEMIG_STEP_VERIFY].documented);
	assert_true(t[PAGEMIG_STEP_B12_COPY].documented);
}

/* After the v4.4 change the new page is prepped (B8) only after the last back-out (B7):
 * nothing from B8 on may back out, and the document's back-out points B4, B6, B7 may. */
static void test_back_out_points(void **state)
{
	const struct pagemig_step_info *t = pagemig_steps(NULL);

	assert_true(t[PAGEMIG_STEP_B4_UNMAP].may_back_out);
	assert_true(t[PAGEMIG_STEP_B6_REFCOUNT].may_back_out);
	assert_true(t[PAGEMIG_STEP_B7_TREE_CHECK].may_back_out);
	assert_string_equal(t[PAGEMIG_STEP_B8_PREP_NEW].name, "prep new page");
	for (int s = PAGEMIG_STEP_B8_PREP_NEW; s <= PAGEMIG_STEP_B20_LRU; s++)
		assert_false(t[s].may_back_out);
	assert_false(t[PAGEMIG_STEP_B5_TREE_LOCK].may_back_out);
}

struct case_row {
	int status;
	enum pagemig_outcome outcome;
	enum pagemig_step step;
	bool transient;
	bool success;
};

static void test_classify_every_errno(void **state)
{
	static const struct case_row rows[] = {
		{1, PAGEMIG_OUT_MOVED, PAGEMIG_STEP_NONE, false, true},
		{0, PAGEMIG_OUT_WRONG_NODE, PAGEMIG_STEP_VERIFY, true, false},
		{-EFAULT, PAGEMIG_OUT_NOT_MAPPED, PAGEMIG_STEP_PRE, false, false},
		{-ENOENT, PAGEMIG_OUT_NOT_PRESENT, PAGEMIG_STEP_PRE, false, false},
		{-EACCES, PAGEMIG_OUT_SHARED, PAGEMIG_STEP_PRE, false, false},
		{-EBUSY, PAGEMIG_OUT_BUSY, PAGEMIG_STEP_A1_ISOLATE, true, false},
		/* < 4.17 kernels, answers from inside migrate_pages() */
		{-EAGAIN, PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B6_REFCOUNT, true, false},
		{-ENOMEM, PAGEMIG_OUT_NO_MEMORY, PAGEMIG_STEP_A2_ALLOC, false, false},
		{-EIO, PAGEMIG_OUT_IO, PAGEMIG_STEP_B2_WRITEBACK, false, false},
		{-EINVAL, PAGEMIG_OUT_IO, PAGEMIG_STEP_B2_WRITEBACK, false, false},
		{-EHWPOISON, PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B12_COPY, false, false},
		{-ENOTTY, PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B1_B7, false, false},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pagemig_class c = pagemig_classify_status(rows[i].status, 1);

		assert_int_equal(c.outcome, rows[i].outcome);
		assert_int_equal(c.step, rows[i].step);
		assert_int_equal(c.transient, rows[i].transient);
		assert_int_equal(c.success, rows[i].success);
	}

	struct pagemig_class u = pagemig_classify_unwritten();
	assert_int_equal(u.outcome, PAGEMIG_OUT_MIGRATE_FAILED);
	assert_int_equal(u.step, PAGEMIG_STEP_B1_B7);
	assert_true(u.transient);

	struct pagemig_class e = pagemig_classify_call_error(ENOMEM);
	assert_int_equal(e.step, PAGEMIG_STEP_A2_ALLOC);
	e = pagemig_classify_call_error(ENODEV);
	assert_int_equal(e.outcome, PAGEMIG_OUT_NOT_ATTEMPTED);
	assert_false(e.transient);
}

static void test_outcome_names(void **state)
{
	for (int i = 0; i < PAGEMIG_OUT__COUNT; i++) {
		const char *n = pagemig_outcome_name(i);

		assert_string_not_equal(n, "?");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, pagemig_outcome_name(j));
	}
	assert_string_equal(pagemig_outcome_name(PAGEMIG_OUT__COUNT), "?");
}

static void test_explain(void **state)
{
	char buf[256];
	struct pagemig_class refs = pagemig_classify_status(-EAGAIN, 1);
	struct pagemig_class busy = pagemig_classify_status(-EBUSY, 1);
	struct pagemig_class moved = pagemig_classify_status(1, 1);
	struct pagemig_class unwritten = pagemig_classify_unwritten();
	int n;

	pagemig_explain(buf, sizeof(buf), &refs, 2, 1, 1);
	assert_string_equal(buf, "backed out at step B6, refcount check: page still locked, mapped "
				 "or referenced; retried 2\u00d7; moved");
	pagemig_explain(buf, sizeof(buf), &busy, 0, -EBUSY, 1);
	assert_non_null(strstr(buf, "step A1, isolate from LRU"));
	assert_non_null(strstr(buf, "gave up (Device or resource busy)"));
	pagemig_explain(buf, sizeof(buf), &unwritten, 3, 0, 1);
	assert_non_null(strstr(buf, "step B1-B7"));
	assert_non_null(strstr(buf, "retried 3\u00d7; still on node 0"));
	pagemig_explain(buf, sizeof(buf), &moved, 0, 1, 1);
	assert_string_equal(buf, "moved");

	/* like snprintf: truncates, tells the length it wanted */
	n = pagemig_explain(buf, 8, &refs, 2, 1, 1);
	assert_true(n > 8);
	assert_int_equal(strlen(buf), 7);
	n = pagemig_explain(NULL, 0, &refs, 2, 1, 1);
	assert_true(n > 8);
	assert_string_equal((pagemig_explain(buf, sizeof(buf), NULL, 0, 0, 0), buf),
			    "unknown outcome");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_order),
		cmocka_unit_test(test_back_out_points),
		cmocka_unit_test(test_classify_every_errno),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
