// SPDX-License-Identifier: LGPL-2.1-or-later
#include <string.h>

#include "left_node.h"

static void start(struct left_node_window *w, const uint64_t *ns, unsigned int nnodes,
		  uint64_t now_ms)
{
	memset(w->start_ns, 0, sizeof(w->start_ns));
	memcpy(w->start_ns, ns, nnodes * sizeof(*ns));
	w->start_ms = now_ms;
	w->started = true;
}

bool left_node_feed(struct left_node_window *w, const uint64_t *ns, unsigned int nnodes,
		    uint64_t now_ms)
{
	uint64_t age, total = 0;

	if (nnodes > PAGEMIG_TOPO_MAX_NODES)
		nnodes = PAGEMIG_TOPO_MAX_NODES;
	if (!w->started || now_ms < w->start_ms) {
		start(w, ns, nnodes, now_ms);
		return false;
	}
	age = now_ms - w->start_ms;
	if (age < LEFT_NODE_WINDOW_MS)
		return false;
	if (age > LEFT_NODE_STALE_MS) {
		/* what it says is mostly the past: forget the last verdict too */
		w->known = false;
		start(w, ns, nnodes, now_ms);
		return false;
	}
	memset(w->last_ns, 0, sizeof(w->last_ns));
	for (unsigned int n = 0; n < nnodes; n++) {
		/* counters restart when the process is managed anew: count from zero */
		w->last_ns[n] = ns[n] >= w->start_ns[n] ? ns[n] - w->start_ns[n] : ns[n];
		total += w->last_ns[n];
	}
	w->last_total = total;
	w->known = total >= LEFT_NODE_MIN_NS;
	start(w, ns, nnodes, now_ms);
	return true;
}

bool left_node(const struct left_node_window *w, int node)
{
	if (!w->known || node < 0 || node >= PAGEMIG_TOPO_MAX_NODES)
		return false;
	return (double)w->last_ns[node] < LEFT_NODE_SHARE * (double)w->last_total;
}

int left_node_runs_on(const struct left_node_window *w)
{
	if (!w->known)
		return -1;
	for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
		if ((double)w->last_ns[n] >= (1.0 - LEFT_NODE_SHARE) * (double)w->last_total)
			return n;
	return -1;
}
