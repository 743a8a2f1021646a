// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The migration audit: per-page step sequences rebuilt from sampler_audit's ring-buffer records.
 *
 * Storage is bounded: page records live in a slab of max_pages entries reused round-robin (the
 * oldest record goes first), found through an open-addressing index of twice that size. Open
 * migrate_pages() calls are tracked per calling thread in a small table; a step record from a
 * thread with no open call (THP splits use migration entries too) is kept with batch 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler_audit.h"

#define PAGE_MASK (~((UINT64_C(1) << PAGEMIG_SAMPLER_PAGE_SHIFT) - 1))
#define NO_SLOT	  UINT32_MAX
#define MAX_OPEN  64 /* threads with a migrate_pages() call open at once */

struct open_call {
	uint32_t tid; /* 0: free */
	uint32_t log; /* index into the batch log */
	uint64_t seq;
	uint64_t last_remove_seen; /* a step 16 was seen in this call (for "interleaved") */
};

struct pagemig_audit {
	size_t max_pages;
	struct pagemig_audit_page *slab;
	size_t used;	 /* slab entries ever filled (<= max_pages) */
	size_t next;	 /* next slab entry to reuse once full */
	uint32_t *index; /* slab indices, NO_SLOT when empty */
	size_t index_mask;
	struct open_call open[MAX_OPEN];
	struct pagemig_audit_batch log[PAGEMIG_AUDIT_BATCH_LOG];
	size_t log_n;	 /* entries in log */
	size_t log_head; /* oldest entry when full */
	uint64_t seq;
	struct pagemig_audit_totals totals;
	pagemig_pfn_node_fn pfn_node;
	void *pfn_node_ctx;
};

uint64_t pagemig_pte_pfn(uint64_t pte)
{
#if defined(__x86_64__)
	/* PTE_PFN_MASK: physical address bits 12..51 (NX is bit 63, protection keys 59..62). */
	return (pte & UINT64_C(0x000ffffffffff000)) >> 12;
#else
	(void)pte;
	return 0;
#endif
}

uint64_t pagemig_pmd_pfn(uint64_t pmd)
{
#if defined(__x86_64__)
	/* A huge PMD maps 2 MiB; bit 12 is PAT there, not part of the address. */
	return (pmd & UINT64_C(0x000fffffffe00000)) >> 12;
#else
	(void)pmd;
	return 0;
#endif
}

static size_t hash(uint32_t tgid, uint64_t page)
{
	uint64_t h = (page >> PAGEMIG_SAMPLER_PAGE_SHIFT) ^ ((uint64_t)tgid << 40);

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (size_t)h;
}

size_t pagemig_audit_footprint(size_t max_pages)
{
	size_t idx = 1;

	while (idx < 2 * max_pages)
		idx <<= 1;
	return sizeof(struct pagemig_audit) + max_pages * sizeof(struct pagemig_audit_page) +
	       idx * sizeof(uint32_t);
}

int pagemig_audit_new(size_t max_pages, pagemig_pfn_node_fn pfn_node, void *ctx,
		      struct pagemig_audit **ret)
{
	struct pagemig_audit *a;
	size_t idx = 1;

	if (!ret || !max_pages || max_pages > UINT32_MAX / 4)
		return -EINVAL;
	while (idx < 2 * max_pages)
		idx <<= 1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->slab = calloc(max_pages, sizeof(*a->slab));
	a->index = malloc(idx * sizeof(*a->index));
	if (!a->slab || !a->index) {
		pagemig_audit_free(a);
		return -ENOMEM;
	}
	memset(a->index, 0xff, idx * sizeof(*a->index));
	a->index_mask = idx - 1;
	a->max_pages = max_pages;
	a->pfn_node = pfn_node;
	a->pfn_node_ctx = ctx;
	*ret = a;
	return 0;
}

void pagemig_audit_free(struct pagemig_audit *a)
{
	if (!a)
		return;
	free(a->slab);
	free(a->index);
	free(a);
}

void pagemig_audit_reset(struct pagemig_audit *a)
{
	memset(a->index, 0xff, (a->index_mask + 1) * sizeof(*a->index));
	memset(a->open, 0, sizeof(a->open));
	a->used = a->next = 0;
	a->log_n = a->log_head = 0;
}

/* Position in the index of (tgid, page): where it is, or the empty slot where it would go. */
static size_t index_pos(const struct pagemig_audit *a, uint32_t tgid, uint64_t page)
{
	size_t pos = hash(tgid, page) & a->index_mask;

	for (;;) {
		uint32_t s = a->index[pos];

		if (s == NO_SLOT || (a->slab[s].tgid == tgid && a->slab[s].addr == page))
			return pos;
		pos = (pos + 1) & a->index_mask;
	}
}

/* Remove the index entry at pos, shifting later entries of its probe chain back into the gap
 * (linear probing without tombstones). */
static void index_delete(struct pagemig_audit *a, size_t pos)
{
	size_t gap = pos, i = pos;

	a->index[gap] = NO_SLOT;
	for (;;) {
		size_t home;
		uint32_t s;

		i = (i + 1) & a->index_mask;
		s = a->index[i];
		if (s == NO_SLOT)
			return;
		home = hash(a->slab[s].tgid, a->slab[s].addr) & a->index_mask;
		/* Move s into the gap unless its home lies cyclically in (gap, i]. */
		if (((i - home) & a->index_mask) >= ((i - gap) & a->index_mask)) {
			a->index[gap] = s;
			a->index[i] = NO_SLOT;
			gap = i;
		}
	}
}

const struct pagemig_audit_page *pagemig_audit_find(const struct pagemig_audit *a,
						    uint32_t mover_tgid, uint64_t addr)
{
	uint32_t s = a->index[index_pos(a, mover_tgid, addr & PAGE_MASK)];

	return s == NO_SLOT ? NULL : &a->slab[s];
}

/* The record of (tgid, page), created (evicting the oldest when full) if absent. */
static struct pagemig_audit_page *page_get(struct pagemig_audit *a, uint32_t tgid, uint64_t page,
					   bool *created)
{
	size_t pos = index_pos(a, tgid, page);
	struct pagemig_audit_page *p;
	uint32_t s = a->index[pos];

	*created = false;
	if (s != NO_SLOT)
		return &a->slab[s];

	if (a->used < a->max_pages) {
		s = (uint32_t)a->used++;
	} else {
		s = (uint32_t)a->next;
		a->next = (a->next + 1) % a->max_pages;
		index_delete(a, index_pos(a, a->slab[s].tgid, a->slab[s].addr));
		a->totals.pages_evicted++;
		pos = index_pos(a, tgid, page); /* the deletion may have shifted the chain */
	}
	a->index[pos] = s;
	p = &a->slab[s];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->addr = page;
	p->node = -1;
	*created = true;
	return p;
}

static struct open_call *open_find(struct pagemig_audit *a, uint32_t tid)
{
	for (size_t i = 0; i < MAX_OPEN; i++)
		if (a->open[i].tid == tid)
			return &a->open[i];
	return NULL;
}

/* The log entry of an open call, if it is still in the log. */
static struct pagemig_audit_batch *log_entry(struct pagemig_audit *a, const struct open_call *c)
{
	struct pagemig_audit_batch *b = &a->log[c->log];

	return b->seq == c->seq ? b : NULL;
}

static void call_start(struct pagemig_audit *a, const struct pagemig_mig_event *e)
{
	struct open_call *c = open_find(a, e->tid);
	struct pagemig_audit_batch *b;
	size_t slot;

	/* A call still open for this thread lost its end record: it is over anyway. */
	if (!c)
		c = open_find(a, 0);
	if (!c) /* more threads migrating at once than tracked: reuse the first slot */
		c = &a->open[0];

	if (a->log_n < PAGEMIG_AUDIT_BATCH_LOG) {
		slot = a->log_n++;
	} else {
		slot = a->log_head;
		a->log_head = (a->log_head + 1) % PAGEMIG_AUDIT_BATCH_LOG;
	}
	b = &a->log[slot];
	memset(b, 0, sizeof(*b));
	b->seq = ++a->seq;
	b->tid = e->tid;
	b->tgid = e->tgid;
	b->reason = e->reason;
	b->mode = e->mode;
	b->t_start = e->ts;

	c->tid = e->tid;
	c->log = (uint32_t)slot;
	c->seq = b->seq;
	c->last_remove_seen = 0;
	a->totals.batches++;
}

static void call_end(struct pagemig_audit *a, const struct pagemig_mig_event *e)
{
	struct open_call *c = open_find(a, e->tid);
	struct pagemig_audit_batch *b = c ? log_entry(a, c) : NULL;

	if (b) {
		b->ended = true;
		b->t_end = e->ts;
		b->succeeded = e->end.succeeded;
		b->failed = e->end.failed;
		a->totals.batches_ended++;
		if (b->n_set && b->n_remove) {
			if (b->interleaved)
				a->totals.batches_interleaved++;
			else
				a->totals.batches_batched++;
		}
	}
	if (c)
		memset(c, 0, sizeof(*c));
}

static void step(struct pagemig_audit *a, const struct pagemig_mig_event *e)
{
	bool remove = e->type == PAGEMIG_MIG_REMOVE_PTE || e->type == PAGEMIG_MIG_REMOVE_PMD;
	bool pmd = e->type == PAGEMIG_MIG_SET_PMD || e->type == PAGEMIG_MIG_REMOVE_PMD;
	enum pagemig_step st = remove ? PAGEMIG_STEP_B16_REMAP : PAGEMIG_STEP_B4_UNMAP;
	struct open_call *c = open_find(a, e->tid);
	struct pagemig_audit_batch *b = c ? log_entry(a, c) : NULL;
	uint64_t seq = c ? c->seq : 0;
	struct pagemig_audit_page *p;
	bool created;

	if (remove)
		a->totals.remove++;
	else
		a->totals.set++;
	if (!c)
		a->totals.outside_batch++;

	p = page_get(a, e->tgid, e->pte.addr & PAGE_MASK, &created);
	if (created || p->batch != seq || (!seq && !remove && p->n_remove)) {
		/* A new call for this page (or, outside calls, a new step 4 after a complete
		 * sequence): the record describes the latest attempt. */
		uint16_t attempts = created ? 0 : p->attempts;
		uint32_t tgid = p->tgid;
		uint64_t addr = p->addr;

		memset(p, 0, sizeof(*p));
		p->tgid = tgid;
		p->addr = addr;
		p->node = -1;
		p->attempts = attempts + 1;
		p->batch = seq;
		p->reason = b ? b->reason : PAGEMIG_MR_OTHER;
		p->t_first = e->ts;
	}
	p->tid = e->tid;
	p->t_last = e->ts;
	p->pmd = pmd;
	p->order = e->order;

	/* The documented order: a step may not follow a later step of the same attempt. */
	if (p->nsteps) {
		const struct pagemig_step_info *prev = pagemig_step_info(p->steps[p->nsteps - 1]);
		const struct pagemig_step_info *cur = pagemig_step_info(st);

		if (prev && cur && cur->number < prev->number)
			p->out_of_order = true;
	}
	if (p->nsteps < PAGEMIG_AUDIT_MAX_STEPS)
		p->steps[p->nsteps++] = (uint8_t)st;

	if (remove) {
		p->n_remove++;
		p->pfn = pmd ? pagemig_pmd_pfn(e->pte.entry) : pagemig_pte_pfn(e->pte.entry);
		p->node = a->pfn_node && p->pfn ? a->pfn_node(p->pfn, a->pfn_node_ctx) : -1;
		if (p->node < 0)
			a->totals.pfn_unknown_node++;
		a->totals.pages_by_reason[p->reason < PAGEMIG_MR__COUNT ? p->reason
									: PAGEMIG_MR_OTHER]++;
		if (b)
			b->n_remove++;
		if (c)
			c->last_remove_seen = 1;
	} else {
		p->n_set++;
		if (b)
			b->n_set++;
		/* A step 4 after some page's step 16 in the same call: per-page order. */
		if (b && c->last_remove_seen)
			b->interleaved = true;
	}
}

void pagemig_audit_feed(struct pagemig_audit *a, const struct pagemig_mig_event *e)
{
	a->totals.records++;
	switch (e->type) {
	case PAGEMIG_MIG_START:
		call_start(a, e);
		break;
	case PAGEMIG_MIG_END:
		call_end(a, e);
		break;
	case PAGEMIG_MIG_SET_PTE:
	case PAGEMIG_MIG_REMOVE_PTE:
	case PAGEMIG_MIG_SET_PMD:
	case PAGEMIG_MIG_REMOVE_PMD:
		step(a, e);
		break;
	default:
		break;
	}
}

enum pagemig_audit_verdict pagemig_audit_verdict(const struct pagemig_audit_page *p,
						 int target_node, uint64_t old_pfn, int old_node)
{
	if (!p || (!p->n_set && !p->n_remove))
		return PAGEMIG_AUDIT_NOT_SEEN;
	if (p->out_of_order || !p->n_set)
		return PAGEMIG_AUDIT_OUT_OF_ORDER;
	if (p->n_remove < p->n_set || !p->pfn)
		return PAGEMIG_AUDIT_INCOMPLETE;
	if (old_pfn && p->pfn == old_pfn)
		return PAGEMIG_AUDIT_ROLLED_BACK;
	if (p->node < 0)
		return PAGEMIG_AUDIT_NODE_UNKNOWN;
	if (p->node == target_node)
		return PAGEMIG_AUDIT_MOVED;
	if (!old_pfn && old_node >= 0 && p->node == old_node)
		return PAGEMIG_AUDIT_ROLLED_BACK;
	return PAGEMIG_AUDIT_WRONG_NODE;
}

const char *pagemig_audit_verdict_name(enum pagemig_audit_verdict v)
{
	static const char *const names[PAGEMIG_AUDIT__COUNT] = {
		[PAGEMIG_AUDIT_MOVED] = "moved",
		[PAGEMIG_AUDIT_ROLLED_BACK] = "rolled_back",
		[PAGEMIG_AUDIT_NOT_SEEN] = "not_seen",
		[PAGEMIG_AUDIT_INCOMPLETE] = "incomplete",
		[PAGEMIG_AUDIT_OUT_OF_ORDER] = "out_of_order",
		[PAGEMIG_AUDIT_WRONG_NODE] = "wrong_node",
		[PAGEMIG_AUDIT_NODE_UNKNOWN] = "node_unknown",
	};

	return (unsigned int)v < PAGEMIG_AUDIT__COUNT ? names[v] : "?";
}

int pagemig_audit_describe(char *buf, size_t len, const struct pagemig_audit_page *p)
{
	char steps[PAGEMIG_AUDIT_MAX_STEPS * 5 + 1] = "";
	size_t off = 0;

	if (!p)
		return snprintf(buf, len, "no step seen");
	for (unsigned int i = 0; i < p->nsteps && off < sizeof(steps); i++) {
		const struct pagemig_step_info *si = pagemig_step_info(p->steps[i]);
		int n = snprintf(steps + off, sizeof(steps) - off, "%s%s", i ? " " : "",
				 si ? si->label : "?");

		if (n < 0)
			break;
		off += (size_t)n;
	}
	return snprintf(buf, len,
			"%s%s (%s, call %" PRIu64 ", %u attempt%s) -> pfn %#" PRIx64 " on node %d",
			steps, p->out_of_order ? " [out of order]" : "",
			pagemig_mig_reason_name(p->reason), p->batch, p->attempts,
			p->attempts == 1 ? "" : "s", p->pfn, p->node);
}

const struct pagemig_audit_totals *pagemig_audit_totals(const struct pagemig_audit *a)
{
	return &a->totals;
}

size_t pagemig_audit_batches(const struct pagemig_audit *a, struct pagemig_audit_batch *out,
			     size_t cap)
{
	size_t n = a->log_n < cap ? a->log_n : cap;
	size_t skip = a->log_n - n;

	/* The log is a ring: copy out the newest n in age order. */
	for (size_t i = 0; i < n; i++)
		out[i] = a->log[(a->log_head + skip + i) % PAGEMIG_AUDIT_BATCH_LOG];
	return n;
}

const char *pagemig_mig_reason_name(enum pagemig_mig_reason reason)
{
	static const char *const names[PAGEMIG_MR__COUNT] = {
		[PAGEMIG_MR_COMPACTION] = "compaction",
		[PAGEMIG_MR_MEMORY_FAILURE] = "memory_failure",
		[PAGEMIG_MR_MEMORY_HOTPLUG] = "memory_hotplug",
		[PAGEMIG_MR_SYSCALL] = "syscall",
		[PAGEMIG_MR_MEMPOLICY_MBIND] = "mempolicy_mbind",
		[PAGEMIG_MR_NUMA_MISPLACED] = "numa_misplaced",
		[PAGEMIG_MR_CONTIG_RANGE] = "contig_range",
		[PAGEMIG_MR_LONGTERM_PIN] = "longterm_pin",
		[PAGEMIG_MR_DEMOTION] = "demotion",
		[PAGEMIG_MR_DAMON] = "damon",
		[PAGEMIG_MR_OTHER] = "other",
	};

	return (unsigned int)reason < PAGEMIG_MR__COUNT ? names[reason] : "?";
}
