// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Where managed processes run between two cycles, from their on-CPU time of the last half
 * second (left_node.c): the executor's check before it moves pages to where a process runs,
 * and the departure watch that brings the next cycle forward when a process leaves its home.
 */
#define _GNU_SOURCE
#include "clock.h"
#include "left_node.h"
#include "log.h"
#include "pagemigd.h"

/* Feed m's window with its on-CPU time per node now, unless the window is younger than
 * LEFT_NODE_WINDOW_MS (a group of moves every few milliseconds asks no map lookups). */
static void feed_window(struct pagemigd *d, struct managed *m, uint64_t now)
{
	uint64_t ns[PAGEMIG_TOPO_MAX_NODES];
	unsigned int nnodes = (unsigned int)d->topo.max_node + 1;

	if ((!m->left.started || now - m->left.start_ms >= LEFT_NODE_WINDOW_MS) &&
	    !pagemig_sampler_oncpu_now(d->sampler, m->pid, ns, nnodes))
		left_node_feed(&m->left, ns, nnodes, now);
}

/* Re-arm m now, its hold released: where it runs now is what its next plan needs samples of
 * (a hold would refuse the re-arm; the next cycle holds it again if its pending moves still
 * call for it). Unless forced, not when it was re-armed at the last drain or since. Returns
 * whether it was re-armed. */
static bool rearm(struct pagemigd *d, struct managed *m, bool force)
{
	if (m->held && !pagemig_sampler_hold(d->sampler, m->pid, false))
		m->held = false;
	return (force ? pagemig_sampler_rearm_now(d->sampler, m->pid)
		      : pagemig_sampler_rearm_early(d->sampler, m->pid)) > 0;
}

bool pagemigd_exec_wanted(void *ctx, pid_t tgid, int to)
{
	struct pagemigd *d = ctx;
	struct managed *m;

	if (!d->sampler || to < 0 || to >= PAGEMIG_TOPO_MAX_NODES || !d->topo.node[to].ncpus)
		return true;
	m = pagemigd_find_proc(d, tgid);
	/* The executor asks only for moves that follow the process to where it ran when they
	 * were planned (pagemig_plan_move.follows): a page that a thread of it writes on another
	 * node goes there whatever the rest does. Asked, before, for every locality move to its
	 * current home, the home the watch last saw it leave or where it saw it go: in the lab's
	 * 1 GiB case two pages written from node 0 by a thread with a few percent of its time, the
	 * node the process had left for good, were dropped at every cycle and planned again at the
	 * next, so the process never settled and was re-armed (a write fault on each of its pages)
	 * every second for the rest of the run */
	if (!m)
		return true;
	feed_window(d, m, mono_ms());
	if (!left_node(&m->left, to)) {
		if (m->left_said == to)
			m->left_said = -1; /* back: say it again next time it leaves */
		return true;
	}
	if (m->left_said != to) {
		bool rearmed = rearm(d, m, false);

		m->left_said = to;
		log_msg(LOG_INFO,
			&(struct log_fields){.policy = d->cfg.rules[m->rule].name,
					     .pid = m->pid,
					     .node = to,
					     .pages = -1},
			"process %d (%s) left node %d: its pending moves there are dropped%s",
			(int)m->pid, m->comm, to, rearmed ? ", its writes re-armed" : "");
	}
	return false;
}

/* The node the watch holds for m's home: where it saw m move to, else where the last cycle
 * found a locality process running on one node with CPUs (a clear home); -1 for none. */
static int watched_home(const struct pagemigd *d, const struct managed *m)
{
	int h = m->moved ? m->moved_to : m->home_clear ? m->home_node : -1;

	if (d->cfg.rules[m->rule].type != PAGEMIG_POLICY_LOCALITY || h < 0 ||
	    h >= PAGEMIG_TOPO_MAX_NODES || !d->topo.node[h].ncpus)
		return -1;
	return h;
}

/* m has left its home h: where to, re-armed, said, the next cycle soon. */
static void departed(struct pagemigd *d, struct managed *m, int h)
{
	int to = left_node_runs_on(&m->left);
	char where[32] = "";
	bool rearmed;

	m->departed = h;
	m->moved = to >= 0 && to != h && d->topo.node[to].ncpus;
	m->moved_to = m->moved ? to : -1;
	m->moved_ms = mono_ms();
	d->departures++;
	/* even if it was at the last drain: what it wrote since was sampled on h */
	rearmed = rearm(d, m, true);
	if (m->moved)
		snprintf(where, sizeof(where), " for node %d", to);
	log_msg(LOG_INFO,
		&(struct log_fields){.policy = d->cfg.rules[m->rule].name,
				     .pid = m->pid,
				     .node = h,
				     .pages = -1},
		"process %d (%s) left its home node %d%s: %sthe next cycle within a second",
		(int)m->pid, m->comm, h, where, rearmed ? "its writes re-armed, " : "");
}

uint64_t pagemigd_watch_departures(struct pagemigd *d, uint64_t now)
{
	/* with one memory node there is nowhere to follow a process to */
	if (!d->sampler || d->paused || d->topo.nr_memory < 2)
		return now + LEFT_NODE_WINDOW_MS;
	for (size_t i = 0; i < d->n_procs; i++) {
		struct managed *m = &d->procs[i];
		int h = watched_home(d, m);

		if (h < 0)
			continue;
		feed_window(d, m, now);
		if (!left_node(&m->left, h)) {
			if (m->departed == h)
				m->departed = -1; /* back home: watched again */
			continue;
		}
		if (m->departed == h)
			continue; /* acted on: spread over nodes since, say */
		departed(d, m, h);
		pagemigd_cycle_soon(d);
	}
	return now + LEFT_NODE_WINDOW_MS;
}
