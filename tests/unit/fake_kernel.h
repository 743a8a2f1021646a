/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A replay model of move_pages(2) as Linux >= 6.1 implements it, for unit tests of the engine:
 * entries are walked in order, consecutive same-node entries form a batch that is migrated when
 * the node changes, a lookup fails, or the array ends; lookup and isolation errors go into
 * status[] at once; a batch whose migration fails leaves its statuses and every later entry
 * unwritten and makes the call return a positive count; huge folios move as a whole and later
 * entries of an isolated folio answer -EBUSY. Pages can be scripted to misbehave.
 */
#ifndef FAKE_KERNEL_H
#define FAKE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

#define FK_MAX_PAGES 4096
#define FK_PAGE	     4096UL
#define FK_BASE	     0x40000000UL /* pmd aligned */

struct fk_page {
	bool present; /* else -ENOENT */
	bool mapped;  /* else -EFAULT */
	bool shared;  /* -EACCES without MOVE_ALL */
	int node;
	int folio;    /* pages with the same folio id > 0 move together */
	int busy;     /* answer -EBUSY at isolation this many more times */
	int pinned;   /* fail inside migrate_pages() this many more times */
	int drift_to; /* >= 0: after a move, something moves it here (once) */
};

struct fake_kernel {
	struct fk_page page[FK_MAX_PAGES];
	size_t npages;
	int nnodes;	      /* nodes 0..nnodes-1 have memory */
	long capacity[8];     /* free pages per node; < 0 = unlimited */
	int exit_after_calls; /* > 0: the process exits after this many move calls */
	int eintr_calls;      /* answer -EINTR to this many move calls first */
	bool alive;
	bool reused;	       /* after exit, the pid names another process */
	bool pmd_visible;      /* pmd_folio can tell (root) */
	bool frames_visible;   /* frame_nodes can tell (root, memory blocks listed) */
	bool tail_eacces;      /* <= 6.6 hugetlb: tails of an isolated folio give -EACCES */
	uint64_t ns_per_entry; /* clock advance per move entry */
	uint64_t ns_per_call;  /* clock advance per move call */
	/* what happened */
	int move_calls;
	int query_calls;
	long query_entries; /* pages asked about in queries */
	int frame_reads;    /* frame_nodes calls that answered */
	int flushes; /* migrate_pages() runs (batches) */
	long entries;
	long max_entries;  /* largest call */
	long last_entries; /* the latest call */
	long sizes[64];	   /* entries of the first 64 move calls */
	int sleeps;
	uint64_t slept_us;
	uint64_t now;
};

/* Reset to npages present, mapped pages on node 0 of nnodes nodes, one process alive. */
void fk_init(struct fake_kernel *fk, size_t npages, int nnodes);
/* Make pages [first, first+n) one folio. */
void fk_folio(struct fake_kernel *fk, size_t first, size_t n, int id);
/* Address of page i. */
void *fk_addr(size_t i);
/* Install the model as libpagemig's syscall layer (pagemig__set_sys(NULL) to undo). */
void fk_install(struct fake_kernel *fk);

#endif
