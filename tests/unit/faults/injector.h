/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection in front of the move_pages(2) replay model (tests/unit/fake_kernel.c): a
 * wrapper of libpagemig's syscall layer that, call by call, lets the model answer or makes the
 * call fail the way kernels do (EINTR, EAGAIN, ENOMEM, ESRCH, EFAULT for the whole call), makes
 * the process exit or its pid be reused part-way, and fails verification queries.
 */
#ifndef PAGEMIG_TEST_INJECTOR_H
#define PAGEMIG_TEST_INJECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_kernel.h"

struct injector {
	struct fake_kernel *fk;
	uint64_t rng;
	/* per move call, in percent */
	unsigned int p_eintr, p_eagain, p_enomem, p_efault;
	/* per query call, in percent */
	unsigned int p_query_fail;
	/* the process exits after this many move calls (0 = never); reused: its pid then names
	 * another process that move_pages would answer for (the pidfd must stop the library) */
	int exit_after;
	bool reused;
	/* the pidfd that names the process (0: 100, a number the model hands out); a real
	 * pidfd when the caller passes it with PAGEMIG_PIDFD (libpagemig reads its fdinfo) */
	int pidfd;
	/* what happened */
	int moves, queries, injected;
	int calls_after_exit; /* move calls that reached the pid after the process exited */
	bool exited;
};

/* Install inj (with inj->fk already initialised) as libpagemig's syscall layer. */
void inj_install(struct injector *inj);

/* xorshift64*: reproducible from the seed */
uint64_t inj_rand(uint64_t *state);

#endif
