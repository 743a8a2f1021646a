// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab: the migration audit on pages libpagemig really moves across nodes.
 *
 * N base pages on node 0 are moved with pagemig_move() to node 1, then to node 2 (memory only).
 * For every page the audit must show documented step 4 then step 16 (libpagemig's B4_UNMAP then
 * B16_REMAP), in a migrate_pages() call with reason "syscall", ending on a new frame: the frame
 * /proc/self/pagemap shows afterwards, on the target node per the memory-block table, and not
 * the frame the page had before. The order the kernel used is reported: per page (4, 16, 4, 16:
 * the documented order, kernels before ~6.3) or batched (every 4, then every 16).
 *
 * Then a transparent huge page, if the kernel gives one: moved whole, seen through the PMD
 * events (thp:set/remove_migration_pmd) or, if the kernel split it, through PTE events.
 *
 * The steps are staged per CPU in BPF; the base pages run with the on-CPU source loaded too (its
 * sched_switch program writes them, as in pagemigd), the huge page with the audit alone (which
 * then has a sched_switch program of its own): both ways must lose nothing.
 */
#define _GNU_SOURCE
#include "lab_sampler.h"

#define N	64
#define HUGE_SZ (2ul << 20)

static void move_and_check(struct pagemig_sampler *s, char *buf, int from, int to)
{
	struct pagemig_audit *a = pagemig_sampler_audit(s);
	const struct pagemig_snapshot *snap = NULL;
	void *pages[N];
	int nodes[N], status[N];
	uint64_t old[N], syscall_pages;
	size_t moved = 0, bad = 0;
	long left;

	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	syscall_pages = snap->migrations_total[PAGEMIG_MR_SYSCALL].succeeded;
	for (int i = 0; i < N; i++) {
		pages[i] = buf + i * LAB_PAGE;
		nodes[i] = to;
		old[i] = lab_pfn(pages[i]);
	}
	CHECK_EQ(lab_on_node(buf, N, from), N);
	left = pagemig_move(0, N, pages, nodes, status, NULL, NULL);
	CHECK_EQ(left, 0);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);

	for (int i = 0; i < N; i++) {
		const struct pagemig_audit_page *p =
			pagemig_audit_find(a, (uint32_t)getpid(), (uintptr_t)pages[i]);
		enum pagemig_audit_verdict v = pagemig_audit_verdict(p, to, old[i], from);
		uint64_t now = lab_pfn(pages[i]);

		if (v == PAGEMIG_AUDIT_MOVED && p->reason == PAGEMIG_MR_SYSCALL && p->pfn == now &&
		    now != old[i] && p->node == to && p->nsteps >= 2 &&
		    p->steps[0] == PAGEMIG_STEP_B4_UNMAP &&
		    p->steps[p->nsteps - 1] == PAGEMIG_STEP_B16_REMAP) {
			moved++;
		} else if (bad++ < 4) {
			char line[200];

			pagemig_audit_describe(line, sizeof(line), p);
			printf("  page %d: pfn %#" PRIx64 " -> %#" PRIx64 ": %s: %s\n", i, old[i],
			       now, pagemig_audit_verdict_name(v), line);
		}
	}
	printf("%s - %d pages node %d -> %d: %zu seen B4 then B16 on their new frame on node %d "
	       "with reason syscall; migrations by reason syscall: +%llu pages\n",
	       moved == N ? "ok" : "not ok", N, from, to, moved, to,
	       (unsigned long long)(snap->migrations_total[PAGEMIG_MR_SYSCALL].succeeded -
				    syscall_pages));
	CHECK_EQ(moved, N);
	CHECK(snap->migrations_total[PAGEMIG_MR_SYSCALL].succeeded - syscall_pages >= N);
}

static void report_order(struct pagemig_sampler *s)
{
	const struct pagemig_audit_totals *t = pagemig_audit_totals(pagemig_sampler_audit(s));
	struct pagemig_sampler_stats st;

	pagemig_sampler_stats(s, &st);
	printf("  kernel order: %" PRIu64 " calls per page (4,16,4,16: the documented order), "
	       "%" PRIu64 " batched (all 4 before any 16); %" PRIu64 " records, %" PRIu64
	       " dropped\n",
	       t->batches_interleaved, t->batches_batched, t->records, st.audit_dropped);
	CHECK_EQ(st.audit_dropped, 0);
	CHECK(t->batches_interleaved + t->batches_batched >= 2);
}

/* With the on-CPU source, as pagemigd loads them: its sched_switch program writes the steps a
 * thread staged when it leaves the CPU (test_thp below has the audit alone, which then attaches
 * a sched_switch program of its own). */
static void test_base_pages(void)
{
	unsigned int both =
		PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT) | PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU);
	struct pagemig_sampler *s = lab_sampler(both, both);
	char *buf = lab_fresh_on(N, 0);

	lab_touch(buf, N, 1);
	lab_unbind(buf, N);
	CHECK_EQ(pagemig_sampler_audit_mover(s, getpid(), true), 0);
	move_and_check(s, buf, 0, 1);
	if (numa_num_configured_nodes() >= 3)
		move_and_check(s, buf, 1, 2);
	report_order(s);
	pagemig_sampler_free(s);
}

static void test_thp(void)
{
	struct pagemig_sampler *s =
		lab_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT_THP),
			    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT));
	char *raw =
		mmap(NULL, 2 * HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p = (char *)(((uintptr_t)raw + HUGE_SZ - 1) & ~(HUGE_SZ - 1));
	const struct pagemig_audit_page *rec;
	unsigned long mask = 1;
	uint64_t head_old;
	void *page = p;
	int node = 1, status = -1;
	char line[200];

	CHECK(raw != MAP_FAILED);
	madvise(p, HUGE_SZ, MADV_HUGEPAGE);
	mbind(p, HUGE_SZ, MPOL_BIND, &mask, sizeof(mask) * 8, 0);
	memset(p, 1, HUGE_SZ);
	mbind(p, HUGE_SZ, MPOL_DEFAULT, NULL, 0, 0);
	head_old = lab_pfn(p);
	/* A huge page: frames of its base pages are contiguous from a 2 MiB boundary. */
	if (!head_old || head_old % 512 || lab_pfn(p + HUGE_SZ - LAB_PAGE) != head_old + 511) {
		printf("ok - no transparent huge page here (THP disabled?): THP part skipped\n");
		pagemig_sampler_free(s);
		return;
	}
	CHECK_EQ(pagemig_sampler_audit_mover(s, getpid(), true), 0);
	CHECK_EQ(pagemig_move(0, 1, &page, &node, &status, NULL, NULL), 0);
	CHECK_EQ(pagemig_sampler_drain(s, NULL), 0);
	rec = pagemig_audit_find(pagemig_sampler_audit(s), (uint32_t)getpid(), (uintptr_t)p);
	pagemig_audit_describe(line, sizeof(line), rec);
	printf("%s - a 2 MiB THP moved node 0 -> 1: %s%s (%s)\n",
	       pagemig_audit_verdict(rec, 1, head_old, 0) == PAGEMIG_AUDIT_MOVED ? "ok" : "not ok",
	       rec && rec->pmd ? "PMD events: " : "PTE events: ", line,
	       pagemig_audit_verdict_name(pagemig_audit_verdict(rec, 1, head_old, 0)));
	CHECK_EQ(pagemig_audit_verdict(rec, 1, head_old, 0), PAGEMIG_AUDIT_MOVED);
	CHECK(rec && rec->pfn == lab_pfn(p));
	CHECK_EQ(lab_on_node(p, 512, 1), 512);
	munmap(raw, 2 * HUGE_SZ);
	pagemig_sampler_free(s);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_base_pages),
						  CHECK_TEST(test_thp)};

	setvbuf(stdout, NULL, _IOLBF, 0);
	lab_need_nodes(2);
	if (!lab_pfn(&tests))
		SKIP_ALL("no frame numbers in /proc/self/pagemap (needs CAP_SYS_ADMIN)");
	return check_run(tests, 2);
}
