/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synthetic inputs for the policy engine's unit tests: a topology of near nodes (with CPUs) and
 * far nodes (memory only), rules, processes with page entries and on-CPU time, and a simulated
 * executor that moves what the plan says and tells the history.
 */
#ifndef PAGEMIG_TEST_POLICY_FIXTURE_H
#define PAGEMIG_TEST_POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define FX_GIB (1024ull * 1024 * 1024)
#define FX_PS  4096ull

struct fx_proc {
	struct pagemig_policy_proc p;
	struct pagemig_page_score *pages;
	int16_t *resident;
	size_t n, cap;
	struct pagemig_oncpu_score oncpu[8];
};

struct fx {
	struct pagemig_topology topo;
	struct pagemig_policy_rule rules[8];
	struct pagemig_policy_config cfg;
	struct fx_proc *procs;
	size_t n_procs, cap_procs;
	struct pagemig_policy_proc *in_procs;
	struct pagemig_policy_history *h;
	struct pagemig_plan plan;
	struct pagemig_policy_input in;
	uint64_t now;
};

/*
 * A fixture with n_near nodes with CPUs and 16 GiB each (all free), then n_far memory-only
 * nodes of 64 GiB; distances 10 local, 20 near-near, 30 to far, 40 far-far. Rule 0 is locality,
 * 1 tiering, 2 pin (nodes 0 and 1), 3 ignore, all with defaults. No rate limit, no watermark,
 * cooldown 10 s, ping-pong window 4 intervals of 1 s, a history of 4096 pages.
 */
void fx_init(struct fx *f, int n_near, int n_far);
void fx_fini(struct fx *f);

/* Add a process; returns its index. */
size_t fx_proc(struct fx *f, pid_t tgid, int rule);
/* Add an entry: page accessed from node (PAGEMIG_SAMPLER_NODE_UNKNOWN allowed) with score;
 * the page resides on resident. Entries may come in any order; fx_plan() sorts them. */
void fx_page(struct fx *f, size_t proc, uint64_t page, unsigned int node, double score,
	     int resident);
/* Mark the proc's entry number i (in the order added) as sampled in the last interval: one
 * access of weight 1. */
void fx_fresh(struct fx *f, size_t proc, size_t i);
/* Set every entry of page to score 0 (forgotten accesses) and add one from node with score. */
void fx_retouch(struct fx *f, size_t proc, uint64_t page, unsigned int node, double score);
/* Set the intervals with accesses of every entry of page (fx_page() makes it 4). */
void fx_seen(struct fx *f, size_t proc, uint64_t page, unsigned int seen);
/* On-CPU score of a process on node. */
void fx_oncpu(struct fx *f, size_t proc, unsigned int node, double score);
/* The process's threads now run this much on node 0 and on node 1: its on-CPU scores are
 * replaced (a score of 0 adds no entry). */
void fx_runs(struct fx *f, size_t proc, double node0, double node1);
/* The same with the recent on-CPU time too (pagemig_oncpu_score.recent; fx_runs leaves it 0). */
void fx_runs_recent(struct fx *f, size_t proc, double node0, double node1, double recent0,
		    double recent1);
/* Where page of proc resides now (as the daemon's query would say); -2 when not sampled. */
int fx_where(struct fx *f, size_t proc, uint64_t page);
void fx_set_where(struct fx *f, size_t proc, uint64_t page, int node);
/* Set a node's free memory. */
void fx_free(struct fx *f, int node, uint64_t bytes);

/* Plan at f->now; returns pagemig_policy_plan()'s result. */
int fx_plan(struct fx *f);
/* Execute the plan: every page move lands (residence updated, history told) at f->now. */
void fx_execute(struct fx *f);
/* Advance the clock by ms. */
void fx_tick(struct fx *f, uint64_t ms);

/* The planned move of (tgid, page), or NULL. */
const struct pagemig_plan_move *fx_move(const struct fx *f, pid_t tgid, uint64_t page);

/* Page address number i (4 KiB aligned, non-zero). */
static inline uint64_t fx_addr(uint64_t i)
{
	return 0x7f0000000000ull + i * FX_PS;
}

#endif
