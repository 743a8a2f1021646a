// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <string.h>

#include "injector.h"

static struct pagemig_sys fake, wrapped;
static struct injector *cur;

uint64_t inj_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static bool roll(unsigned int pct)
{
	return pct && inj_rand(&cur->rng) % 100 < pct;
}

static long inj_move_pages(void *ctx, pid_t pid, unsigned long count, void **pages,
			   const int *nodes, int *status, int flags)
{
	struct injector *inj = cur;

	if (!nodes) {
		inj->queries++;
		if (inj->exited && !inj->reused)
			return -ESRCH;
		if (roll(inj->p_query_fail)) {
			inj->injected++;
			return inj_rand(&inj->rng) & 1 ? -ENOMEM : -EINTR;
		}
		return fake.move_pages(fake.ctx, pid, count, pages, nodes, status, flags);
	}
	inj->moves++;
	if (inj->exited) {
		inj->calls_after_exit++;
		if (!inj->reused)
			return -ESRCH;
		/* another process now: the model answers for it (and must never be asked) */
		return fake.move_pages(fake.ctx, pid, count, pages, nodes, status, flags);
	}
	if (inj->exit_after && inj->moves > inj->exit_after) {
		inj->exited = true;
		inj->injected++;
		return -ESRCH;
	}
	/* failures of the whole call: nothing written, nothing moved */
	if (roll(inj->p_eintr)) {
		inj->injected++;
		return -EINTR;
	}
	if (roll(inj->p_eagain)) {
		inj->injected++;
		return -EAGAIN;
	}
	if (roll(inj->p_enomem)) {
		inj->injected++;
		return -ENOMEM;
	}
	if (roll(inj->p_efault)) {
		inj->injected++;
		return -EFAULT;
	}
	return fake.move_pages(fake.ctx, pid, count, pages, nodes, status, flags);
}

static int pidfd_of(const struct injector *inj)
{
	return inj->pidfd ? inj->pidfd : 100;
}

static int inj_pidfd_open(void *ctx, pid_t pid)
{
	if (cur->exited)
		return cur->reused ? 101 : -ESRCH; /* 101: a pidfd of the new process */
	return pidfd_of(cur);
}

static int inj_pidfd_alive(void *ctx, int fd)
{
	return fd == pidfd_of(cur) && !cur->exited ? 0 : fd == 101 ? 0 : -ESRCH;
}

void inj_install(struct injector *inj)
{
	cur = inj;
	fk_install(inj->fk);
	fake = *pagemig__sys();
	wrapped = fake;
	wrapped.move_pages = inj_move_pages;
	wrapped.pidfd_open = inj_pidfd_open;
	wrapped.pidfd_alive = inj_pidfd_alive;
	pagemig__set_sys(&wrapped);
}
