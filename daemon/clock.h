/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's clocks: CLOCK_MONOTONIC for intervals and timeouts, CLOCK_REALTIME for humans. */
#ifndef PAGEMIG_DAEMON_CLOCK_H
#define PAGEMIG_DAEMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic nanoseconds and milliseconds. */
static inline uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t mono_ms(void)
{
	return mono_ns() / 1000000;
}

/* ms milliseconds as a timespec (timerfd periods and first expiries). */
static inline struct timespec ms_timespec(uint64_t ms)
{
	return (struct timespec){.tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000};
}

/* Wall-clock milliseconds since the epoch (for history entries shown to people). */
static inline uint64_t real_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000;
}

#endif
