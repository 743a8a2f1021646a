// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cycles brought forward. The interval weighs what a cycle costs against how soon the daemon
 * reacts; a few events make the next cycle worth having well before the interval ends, and in
 * each the writes of a process have just been re-armed, so that a cycle SOON_CYCLE_MS later
 * sees where they come from:
 *
 *   - a process left its home node (the departure watch, departures.c);
 *   - memory of a process was armed for the first time: a newly managed process, or one that
 *     has just grown by pages first touched since its last re-arm (a workload that filled its
 *     set). Until a drain shows its accesses there is nothing to plan for it;
 *   - hot far pages of a tiering process wait for their second sample, and it was re-armed
 *     early for them (settle_processes() in cycle.c).
 *
 * With the shipped 5 s interval the last two cost a tiering hot set two whole intervals before
 * its first move, a locality one an interval. They bring the cycle forward only when the
 * interval is longer than SOON_CYCLE_MS, and at most SOON_CYCLE_RUN cycles in a row: a process
 * that keeps growing, or keeps far pages seen once, then waits a whole interval, so that it
 * costs at most three cycles per interval and two seconds (about twice the cycles at 5 s).
 */
#define _GNU_SOURCE
#include <sys/timerfd.h>

#include "clock.h"
#include "log.h"
#include "pagemigd.h"

/* Time for the writes of a process, re-armed at once, to be sampled. */
#define SOON_CYCLE_MS 1000
/* Cycles brought forward for new or unconfirmed pages, in a row. */
#define SOON_CYCLE_RUN 2

bool pagemigd_cycle_soon(struct pagemigd *d)
{
	struct itimerspec its = {
		.it_value = ms_timespec(SOON_CYCLE_MS),
		.it_interval = ms_timespec(d->cfg.interval_ms),
	};

	if (d->timerfd < 0 || d->soon_pending)
		return false;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return false;
	d->soon_pending = true;
	d->cycles_soon++;
	return true;
}

void pagemigd_cycle_started(struct pagemigd *d)
{
	d->soon_run = d->soon_pending ? d->soon_run + 1 : 0;
	d->soon_pending = false;
}

void pagemigd_cycle_soon_for_pages(struct pagemigd *d, uint64_t armed_new, uint64_t unconfirmed)
{
	if ((!armed_new && !unconfirmed) || d->paused || d->topo.nr_memory < 2 ||
	    d->cfg.interval_ms <= SOON_CYCLE_MS || d->soon_run >= SOON_CYCLE_RUN)
		return;
	if (pagemigd_cycle_soon(d))
		log_debug("the next cycle in %d ms: %s", SOON_CYCLE_MS,
			  unconfirmed ? "hot far pages wait for a second sample"
				      : "memory armed for the first time");
}
