// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which due re-arms of a settled process can be skipped (pagemig_sampler_config.rearm_settled).
 * A locality process that has settled had nothing left to move at its last plan. A re-arm
 * makes it fault once on every page it writes next, to find pages it uses off where it runs;
 * the kernel says without any fault whether its memory changed since (numa_maps):
 *  - settled on a clear home: if no more of its anonymous memory is off that node than when it
 *    settled (new memory it allocated is local, nothing moved it away), the re-arm can only find
 *    the pages its plans already left where they are. Skipping it spares the workload those
 *    faults, about 0.25 s of its time per re-arm of a 256 MiB writer under emulation
 *    (bench/field/observations.md, static case; a gain a same-hour A/B showed and the driver's
 *    runs did not);
 *  - settled spread over nodes (threads on several, none clear): if it has no more anonymous
 *    memory than when it settled, its plans have seen all of it, pages written from several
 *    nodes stay where they are (shared), and where its threads run is watched without faults
 *    (a process that gathers on one node is re-armed at once, cycle.c). In the lab's shared
 *    case each such re-arm cost the two writers as much work as the first four seconds did
 *    (bench/field/observations.md), and found nothing.
 * Re-arms are still done when memory turned up (off home, or at all when spread), from the
 * minute on (pagemig_sampler_settle: a page left cold there may be hot now), and for every
 * other policy: tiering's far pages are off the home node by design, and only samples tell
 * when they warm.
 */
#define _GNU_SOURCE
#include <inttypes.h>

#include "log.h"
#include "numa_maps.h"
#include "pagemigd.h"

#define OFF_HOME_UNKNOWN UINT64_MAX

/* Whether m settled where its re-arms can be judged: on a clear home, or spread over nodes. */
static bool judged_place(const struct managed *m)
{
	return m->settled_home >= 0 || m->settled_home == PAGEMIGD_PLACE_SPREAD;
}

/*
 * m's anonymous pages off its settled home (all of them when it settled spread: no node is
 * PAGEMIG_TOPO_MAX_NODES), or OFF_HOME_UNKNOWN when numa_maps cannot tell.
 */
static uint64_t off_home(const struct managed *m)
{
	int node = m->settled_home >= 0 ? m->settled_home : PAGEMIG_TOPO_MAX_NODES;
	uint64_t pages;

	return numa_maps_anon_off_node("/proc", m->pid, node, &pages) ? OFF_HOME_UNKNOWN : pages;
}

/* Whether the sampler re-arms at all (without soft-dirty there is nothing to skip). */
static bool rearming(const struct pagemigd *d)
{
	return d->sampler && pagemig_sampler_sources(d->sampler)[PAGEMIG_SOURCE_SOFTDIRTY].state ==
				     PAGEMIG_SOURCE_ACTIVE;
}

void pagemigd_note_settled(const struct pagemigd *d, struct managed *m, bool settled)
{
	if (!settled || !judged_place(m) ||
	    d->cfg.rules[m->rule].type != PAGEMIG_POLICY_LOCALITY || !rearming(d))
		m->off_home_settled = OFF_HOME_UNKNOWN;
	else if (m->off_home_settled == OFF_HOME_UNKNOWN)
		m->off_home_settled = off_home(m);
}

bool pagemigd_rearm_settled(void *ctx, pid_t tgid)
{
	struct managed *m = pagemigd_find_proc(ctx, tgid);
	uint64_t now;

	/* known only for a settled locality process, on a clear home or spread
	 * (pagemigd_note_settled) */
	if (!m || m->off_home_settled == OFF_HOME_UNKNOWN)
		return true;
	now = off_home(m);
	if (now == OFF_HOME_UNKNOWN) {
		m->off_home_settled = OFF_HOME_UNKNOWN; /* read again as it settles */
		return true;
	}
	if (now > m->off_home_settled) {
		if (m->settled_home >= 0)
			log_debug("pid %d re-armed: %" PRIu64 " pages off node %d, %" PRIu64
				  " when it settled",
				  (int)tgid, now, m->settled_home, m->off_home_settled);
		else
			log_debug("pid %d re-armed: %" PRIu64 " anonymous pages, %" PRIu64
				  " when it settled spread",
				  (int)tgid, now, m->off_home_settled);
		m->off_home_settled = now; /* from here on: what the coming plan leaves */
		return true;
	}
	if (m->settled_home >= 0)
		log_debug("pid %d not re-armed: settled on node %d, no more of it off that node "
			  "since",
			  (int)tgid, m->settled_home);
	else
		log_debug("pid %d not re-armed: settled spread over nodes, no more memory since",
			  (int)tgid);
	return false;
}
