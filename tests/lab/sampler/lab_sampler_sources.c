// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab: with every source asked for, what each Debian kernel gives. The kernels of the lab have
 * the page-fault, sched_switch, migrate:* and thp:* tracepoints, BTF and soft-dirty, so those
 * sources must be active; NUMA balancing is off for this case (numa_hint idle); QEMU's TCG CPU
 * has no PMU to sample memory accesses with (pmu unavailable, said once, not a failure).
 */
#define _GNU_SOURCE
#include "lab_sampler.h"

static void test_sources(void)
{
	struct pagemig_sampler *s =
		lab_sampler(0, PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
				       PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY) |
				       PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU) |
				       PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT) |
				       PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT_THP));
	const struct pagemig_source_status *st = pagemig_sampler_sources(s);
	struct pagemig_sampler_memory m;

	CHECK_EQ(st[PAGEMIG_SOURCE_NUMA_HINT].state, PAGEMIG_SOURCE_IDLE);
	CHECK(st[PAGEMIG_SOURCE_PMU].state == PAGEMIG_SOURCE_UNAVAILABLE ||
	      st[PAGEMIG_SOURCE_PMU].state == PAGEMIG_SOURCE_ACTIVE);
	CHECK(pagemig_sampler_any_active(s));
	CHECK_EQ(pagemig_sampler_memory(s, &m), 0);
	printf("ok - every source but pmu and numa_hint active; memory at the default limits: "
	       "%.1f MiB (kernel: access ring %.1f, on-CPU %.2f, audit %.1f, other %.2f; user: "
	       "aggregate %.1f, snapshots %.1f, audit %.1f)\n",
	       m.total / 1048576.0, m.kernel_access / 1048576.0, m.kernel_oncpu / 1048576.0,
	       m.kernel_audit / 1048576.0, m.kernel_other / 1048576.0, m.user_drain / 1048576.0,
	       m.user_snapshot / 1048576.0, m.user_audit / 1048576.0);
	pagemig_sampler_free(s);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_sources)};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return check_run(tests, 1);
}
