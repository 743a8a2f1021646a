/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the policy engine: the history's records and how policy.c walks them. Not for the
 * daemon (policy.h is its interface); shared by policy.c and policy_history.c.
 */
#ifndef PAGEMIG_DAEMON_POLICY_INTERNAL_H
#define PAGEMIG_DAEMON_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* What last happened to a page (hist_rec.flags & HIST_STATE). */
enum hist_state {
	HIST_NONE = 0, /* only its residence is known */
	HIST_MOVED,    /* pagemig moved it from -> to at t_ms */
	HIST_OTHER,    /* another mover moved it from -> to, seen at t_ms */
	HIST_FROZEN,   /* it ping-ponged; frozen since t_ms */
	HIST_REFUSED,  /* the kernel refused to move it to `to` for a lasting reason at t_ms */
};

#define HIST_STATE     0x07
#define HIST_BALANCING 0x08 /* HIST_OTHER while kernel NUMA balancing was on: never undone */
#define HIST_MULTI     0x10 /* sampled accessed from two nodes or more at once, while the record
			       lives (a move by pagemig or another mover starts it afresh) */

/* One page of one process. 24 bytes. */
struct hist_rec {
	uint64_t page;
	uint64_t t_ms;
	int8_t seen;   /* node it was last seen on, -1 unknown */
	int8_t from;   /* HIST_MOVED / HIST_OTHER / HIST_FROZEN: the move's source */
	int8_t to;     /* and target (HIST_REFUSED: the target refused) */
	uint8_t flags; /* HIST_STATE | HIST_BALANCING | HIST_MULTI */
	uint32_t seq;  /* pending moves: order of the calls */
};

/* One process the history knows. Allocated on its own: pointers stay valid until forgotten. */
struct hist_proc {
	uint32_t tgid;
	struct hist_rec *recs; /* sorted by page, one per page */
	size_t n, cap;
	struct hist_rec *pend; /* moves reported since the last plan, in call order */
	size_t n_pend, cap_pend;
	uint64_t whole_t;     /* when its last whole-process request completed / froze */
	int8_t whole_from;    /* where the previous whole-process request took it, -1 none */
	int8_t whole_to;      /* where the last one took it, -1 none */
	uint8_t whole_state;  /* HIST_NONE, HIST_MOVED or HIST_FROZEN */
	uint64_t frozen;      /* pages frozen for ping-pong */
	uint64_t other_moved; /* pages other movers moved */
	int8_t home_mem;      /* the memory node standing for its last clear home (min_share
				 of the on-CPU time); -1 none yet, -2 never planned */
	uint64_t home_since;  /* when home_mem took that value: the last phase change */
};

struct pagemig_policy_history {
	struct hist_proc **procs; /* linear probing on tgid, power-of-two size, half full at most */
	size_t pcap;
	size_t pcount;
	size_t max;    /* records at most (pending moves not counted) */
	size_t count;  /* records now */
	size_t n_pend; /* pending moves now */
	uint64_t inserted;
	uint64_t evicted;
	struct hist_rec *out; /* the merge's output, copied back into the process's recs */
	size_t cap_out;
};

/* The record of tgid, created when create is set and it is unknown. NULL when unknown and not
 * created, or out of memory. */
struct hist_proc *policy_hist_proc(struct pagemig_policy_history *h, uint32_t tgid, bool create);

/*
 * Reading a process's records in page order while its new ones are written: the plan's pass
 * over the process's snapshot entries merges with this, so every page costs a few sequential
 * reads and writes instead of a hash lookup. Pending moves are folded into the records as they
 * come.
 */
struct hist_merge {
	struct pagemig_policy_history *h;
	struct hist_proc *p;
	size_t ri, pi;	      /* next record, next pending move */
	struct hist_rec *dst; /* where new records go: h->out, or p->recs when it was empty */
	size_t o;	      /* records written to dst */
	size_t consumed;      /* records and pending moves read */
};

/* Start merging p; makes room for every old record, pending move and n_new new ones. */
int policy_hist_merge_begin(struct hist_merge *m, struct pagemig_policy_history *h,
			    struct hist_proc *p, size_t n_new);
/* The smallest page still to read, or UINT64_MAX when all are read. Inline, like the next two:
 * they run for every sampled page. */
static inline uint64_t policy_hist_merge_peek(const struct hist_merge *m)
{
	const struct hist_proc *p = m->p;
	uint64_t a = m->ri < p->n ? p->recs[m->ri].page : UINT64_MAX;
	uint64_t b = m->pi < p->n_pend ? p->pend[m->pi].page : UINT64_MAX;

	return a < b ? a : b;
}

/* Read the record of that page into *r, with the moves reported since applied. */
static inline void policy_hist_merge_take(struct hist_merge *m, struct hist_rec *r)
{
	struct hist_proc *p = m->p;
	uint64_t page = policy_hist_merge_peek(m);

	if (m->ri < p->n && p->recs[m->ri].page == page) {
		*r = p->recs[m->ri++];
		m->consumed++;
	} else {
		*r = (struct hist_rec){.page = page, .seen = -1, .from = -1, .to = -1};
	}
	for (; m->pi < p->n_pend && p->pend[m->pi].page == page; m->pi++) {
		const struct hist_rec *q = &p->pend[m->pi];

		if ((q->flags & HIST_STATE) == HIST_REFUSED) {
			/* it stayed where it was: only the refusal is news */
			r->to = q->to;
			r->t_ms = q->t_ms;
			r->flags = HIST_REFUSED;
			continue;
		}
		r->from = q->from;
		r->to = q->to;
		r->seen = q->to;
		r->t_ms = q->t_ms;
		r->flags = HIST_MOVED;
	}
}

/* Write a record to the new set. new_rec: it did not exist before and the bound may refuse it
 * (counted as evicted); returns false then. */
static inline bool policy_hist_merge_put(struct hist_merge *m, const struct hist_rec *r,
					 bool new_rec)
{
	struct pagemig_policy_history *h = m->h;

	if (new_rec) {
		/* records that exist now: the others' plus this process's written and unread */
		if (h->count - m->consumed + m->o >= h->max) {
			h->evicted++;
			return false;
		}
		h->inserted++;
	}
	m->dst[m->o] = *r;
	m->dst[m->o].seq = 0;
	m->o++;
	return true;
}
/* The new records replace the old. Returns 0 or -ENOMEM (the old ones stay). */
int policy_hist_merge_end(struct hist_merge *m);

#endif
