/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether a process has left a node: from its on-CPU time per node over the last short window
 * (half a second or so, far shorter than a policy interval). The executor asks before it moves
 * a group of a process's pages to the node it runs on: a plan made from the samples of one phase
 * must not go on moving pages to a node the process's threads have just left (with the shipped
 * 5 s interval such a plan ran on for seconds into the next phase, and the daemon did worse
 * than no mover at all on a workload that changes node every 20 s). Pure: the caller reads
 * the on-CPU counters (pagemig_sampler_oncpu_now) and the clock.
 */
#ifndef PAGEMIG_DAEMON_LEFT_NODE_H
#define PAGEMIG_DAEMON_LEFT_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "topology.h"

/* A window closes once it is this old; one older than LEFT_NODE_STALE_MS when next fed (no
 * group of the process ran for a while) says nothing about now and starts again instead. */
#define LEFT_NODE_WINDOW_MS 500
#define LEFT_NODE_STALE_MS  (4 * LEFT_NODE_WINDOW_MS)
/* A window counts with at least this much on-CPU time in it (a fifth of a CPU over the window):
 * a thread is credited when it leaves a CPU, so a mostly idle process, or one whose threads
 * have their CPUs to themselves, may show too little to tell. */
#define LEFT_NODE_MIN_NS (100ull * 1000 * 1000)
/* A node with less than this share of the window's on-CPU time has been left. */
#define LEFT_NODE_SHARE 0.1

/* One process's window: its cumulative on-CPU ns per node when the window began, and what the
 * last closed window saw. Zero-initialised: no window yet. */
struct left_node_window {
	uint64_t start_ms;
	bool started;
	bool known; /* the last closed window had LEFT_NODE_MIN_NS or more */
	uint64_t start_ns[PAGEMIG_TOPO_MAX_NODES];
	uint64_t last_ns[PAGEMIG_TOPO_MAX_NODES]; /* per node in the last closed window */
	uint64_t last_total;
};

/* Feed the process's cumulative on-CPU ns per node (ns[node], node < nnodes) at now_ms: starts
 * the first window, closes one that is LEFT_NODE_WINDOW_MS old (and starts the next), restarts
 * a stale one. Returns whether a window closed. */
bool left_node_feed(struct left_node_window *w, const uint64_t *ns, unsigned int nnodes,
		    uint64_t now_ms);

/* Whether the last closed window says the process left node: it ran LEFT_NODE_MIN_NS or more,
 * under LEFT_NODE_SHARE of it on that node. False when nothing is known. */
bool left_node(const struct left_node_window *w, int node);

/* The node the last closed window had the process on for all but LEFT_NODE_SHARE of its
 * on-CPU time (LEFT_NODE_MIN_NS or more), else -1. */
int left_node_runs_on(const struct left_node_window *w);

#endif
