/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The executor: runs the policy engine's plan through libpagemig, a slice at a time so the
 * daemon's loop stays responsive, paced to the configured rate, with a pidfd per process so a
 * reused pid is never moved. It keeps counters and a bounded history of decisions.
 */
#ifndef PAGEMIG_DAEMON_EXECUTOR_H
#define PAGEMIG_DAEMON_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "pagemig/pagemig.h"
#include "policy.h"

#define EXEC_HISTORY 1024

/* One decision: a group of pages of one process moved for one reason from one node to another. */
struct exec_decision {
	uint64_t seq;
	uint64_t time_ms; /* CLOCK_REALTIME, for humans */
	pid_t pid;
	char comm[16];
	char rule[PAGEMIG_RULE_NAME_MAX];
	uint8_t reason; /* enum pagemig_move_reason */
	int16_t from, to;
	uint32_t planned, moved, failed;
	int call_error;			   /* -errno when the move failed as a whole */
	enum pagemig_step failed_step;	   /* where most failures backed out */
	enum pagemig_outcome failed_outcome; /* their outcome */
	bool observe;			   /* observe mode: planned, not moved */
	bool left;			   /* dropped: the process no longer runs on node to */
};

struct exec_counters {
	uint64_t decisions;
	uint64_t pages_planned;
	uint64_t pages_moved;
	uint64_t pages_failed;
	uint64_t bytes_moved;
	uint64_t calls;
	uint64_t retries;
	uint64_t proc_gone; /* groups dropped: the process exited or its pid was reused */
	uint64_t left_node; /* pages dropped: the process no longer runs on their target node */
	uint64_t by_outcome[PAGEMIG_OUT__COUNT];
	uint64_t by_step[PAGEMIG_STEP__COUNT];
	uint64_t moved_by_reason[PAGEMIG_REASON__COUNT];
	uint64_t moved_from_to[PAGEMIG_TOPO_MAX_NODES][PAGEMIG_TOPO_MAX_NODES];
	uint64_t max_call_ns;
};

/* How the executor finds a managed process: its pidfd (-1 when no longer managed), comm, and the
 * name of its rule. */
typedef int (*exec_lookup_fn)(void *ctx, pid_t tgid, const char **comm);

/* Whether process tgid still runs on node to: asked before each group of its pages that
 * follow it there (locality moves); a no drops the whole group. */
typedef bool (*exec_wanted_fn)(void *ctx, pid_t tgid, int to);

struct executor;

struct executor *executor_new(exec_lookup_fn lookup, void *ctx,
			      struct pagemig_policy_history *history);
void executor_free(struct executor *e);

/* Ask wanted (with executor_new's ctx) before locality moves; NULL: never ask. */
void executor_set_wanted(struct executor *e, exec_wanted_fn wanted);

/* Library options for every move (pages per call, latency budget, retries); the pidfd fields
 * are the executor's. rate_bytes_per_s paces the executor itself (0 = no pacing). */
void executor_configure(struct executor *e, const struct pagemig_opts *opts,
			uint64_t rate_bytes_per_s, const struct pagemig_policy_rule *rules,
			size_t n_rules);

/* Replace the pending work with this plan (the moves are copied). In observe mode nothing moves:
 * each group is recorded as an observed decision. */
int executor_submit(struct executor *e, const struct pagemig_plan *plan, bool observe,
		    uint64_t now_ms);

/* The same, but pending moves of the last plan for pages this plan does not name stay, after
 * this plan's: for a plan made before the last one ran out, whose pages (not sampled since,
 * perhaps) may no longer qualify on their own. */
int executor_submit_keeping(struct executor *e, const struct pagemig_plan *plan, bool observe,
			    uint64_t now_ms);

/* Whether the pending moves of process tgid stay when a new plan comes (executor_submit_keeping_if). */
typedef bool (*executor_keep_fn)(void *ctx, uint32_t tgid);

/* The same again, for the processes keep says yes to: the others' pending moves are dropped, as
 * executor_submit does. For a plan that left some processes out (their pending moves stand). */
int executor_submit_keeping_if(struct executor *e, const struct pagemig_plan *plan, bool observe,
			       uint64_t now_ms, executor_keep_fn keep, void *ctx);

/* Drop pending work (pause, stop). */
void executor_cancel(struct executor *e);

/* Pending pages. */
uint64_t executor_pending(const struct executor *e);

/* Milliseconds since the pending work was submitted at now_ms (0 when nothing is pending). */
uint64_t executor_pending_age_ms(const struct executor *e, uint64_t now_ms);

/* Milliseconds the pending work will take at the pace it went since it was submitted (pacing
 * and the cycles in between included): 0 when nothing is pending, UINT64_MAX when nothing of it
 * ran yet. */
uint64_t executor_pending_ms(const struct executor *e, uint64_t now_ms);

/* The pending moves, in the order they will run (*n of them; valid until the next submit,
 * cancel or step). */
const struct pagemig_plan_move *executor_pending_moves(const struct executor *e, size_t *n);

/* Run moves until slice_ms has passed or pacing says wait. Returns the milliseconds until it
 * wants to run again (0 = now, -1 = nothing pending). */
int executor_step(struct executor *e, unsigned int slice_ms);

const struct exec_counters *executor_counters(const struct executor *e);

/* Decisions, newest last: *n set to how many (at most EXEC_HISTORY). Index 0 is the oldest. */
const struct exec_decision *executor_history(const struct executor *e, size_t i, size_t *n);

#endif
