// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return q;
}

void fx_init(struct fx *f, int n_near, int n_far)
{
	int n = n_near + n_far;

	memset(f, 0, sizeof(*f));
	f->topo.nr_nodes = n;
	f->topo.nr_memory = n;
	f->topo.max_node = n - 1;
	for (int i = 0; i < n; i++) {
		struct pagemig_topo_node *tn = &f->topo.node[i];
		bool far = i >= n_near;

		tn->present = true;
		tn->has_memory = true;
		tn->memory_only = far;
		tn->tier = far ? 1 : 0;
		tn->ncpus = far ? 0 : 1;
		tn->mem_total = far ? 64 * FX_GIB : 16 * FX_GIB;
		tn->mem_free = tn->mem_total;
		for (int j = 0; j < n; j++) {
			bool jfar = j >= n_near;

			f->topo.distance[i][j] = i == j		 ? 10
						 : !far && !jfar ? 20
						 : far && jfar	 ? 40
								 : 30;
		}
	}
	snprintf(f->rules[0].name, sizeof(f->rules[0].name), "loc");
	f->rules[0].type = PAGEMIG_POLICY_LOCALITY;
	snprintf(f->rules[1].name, sizeof(f->rules[1].name), "tier");
	f->rules[1].type = PAGEMIG_POLICY_TIERING;
	snprintf(f->rules[2].name, sizeof(f->rules[2].name), "pin");
	f->rules[2].type = PAGEMIG_POLICY_PIN;
	f->rules[2].pin_nodes = 0x3;
	f->rules[2].pin_target = -1;
	snprintf(f->rules[3].name, sizeof(f->rules[3].name), "ign");
	f->rules[3].type = PAGEMIG_POLICY_IGNORE;
	f->cfg.rules = f->rules;
	f->cfg.n_rules = 4;
	f->cfg.cooldown_ms = 10000;
	f->cfg.pingpong_intervals = 4;
	f->h = pagemig_policy_history_new(4096);
	if (!f->h)
		abort();
	f->now = 1000000;
	f->in.interval_ms = 1000;
}

void fx_fini(struct fx *f)
{
	for (size_t i = 0; i < f->n_procs; i++) {
		free(f->procs[i].pages);
		free(f->procs[i].resident);
	}
	free(f->procs);
	free(f->in_procs);
	pagemig_policy_history_free(f->h);
	pagemig_plan_free(&f->plan);
}

size_t fx_proc(struct fx *f, pid_t tgid, int rule)
{
	struct fx_proc *p;

	if (f->n_procs == f->cap_procs) {
		f->cap_procs = f->cap_procs ? f->cap_procs * 2 : 16;
		f->procs = xrealloc(f->procs, f->cap_procs * sizeof(*f->procs));
	}
	p = &f->procs[f->n_procs];
	memset(p, 0, sizeof(*p));
	p->p.tgid = tgid;
	p->p.rule = rule;
	p->p.rss_pages = 1000;
	return f->n_procs++;
}

void fx_page(struct fx *f, size_t proc, uint64_t page, unsigned int node, double score,
	     int resident)
{
	struct fx_proc *p = &f->procs[proc];

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->pages = xrealloc(p->pages, p->cap * sizeof(*p->pages));
		p->resident = xrealloc(p->resident, p->cap * sizeof(*p->resident));
	}
	/* accessed in a few intervals: fx_seen() makes a page a one-off */
	p->pages[p->n] = (struct pagemig_page_score){.page = page,
						     .tgid = (uint32_t)p->p.tgid,
						     .node = (uint16_t)node,
						     .seen = 4,
						     .score = score};
	p->resident[p->n] = (int16_t)resident;
	p->n++;
	fx_set_where(f, proc, page, resident);
}

void fx_fresh(struct fx *f, size_t proc, size_t i)
{
	f->procs[proc].pages[i].events = 1;
	f->procs[proc].pages[i].weight = 1;
}

void fx_retouch(struct fx *f, size_t proc, uint64_t page, unsigned int node, double score)
{
	struct fx_proc *p = &f->procs[proc];
	bool found = false;

	for (size_t i = 0; i < p->n; i++) {
		if (p->pages[i].page != page)
			continue;
		if (p->pages[i].node == node) {
			p->pages[i].score = score;
			found = true;
		} else {
			p->pages[i].score = 0;
		}
	}
	if (!found)
		fx_page(f, proc, page, node, score, fx_where(f, proc, page));
}

void fx_seen(struct fx *f, size_t proc, uint64_t page, unsigned int seen)
{
	struct fx_proc *p = &f->procs[proc];

	for (size_t i = 0; i < p->n; i++)
		if (p->pages[i].page == page)
			p->pages[i].seen = (uint8_t)seen;
}

void fx_oncpu(struct fx *f, size_t proc, unsigned int node, double score)
{
	struct fx_proc *p = &f->procs[proc];
	size_t i = p->p.n_oncpu++;

	p->oncpu[i] = (struct pagemig_oncpu_score){
		.tgid = (uint32_t)p->p.tgid, .node = node, .score = score};
}

void fx_runs(struct fx *f, size_t proc, double node0, double node1)
{
	f->procs[proc].p.n_oncpu = 0;
	if (node0 > 0)
		fx_oncpu(f, proc, 0, node0);
	if (node1 > 0)
		fx_oncpu(f, proc, 1, node1);
}

void fx_runs_recent(struct fx *f, size_t proc, double node0, double node1, double recent0,
		    double recent1)
{
	struct fx_proc *p = &f->procs[proc];

	p->p.n_oncpu = 0;
	for (unsigned int node = 0; node < 2; node++) {
		double score = node ? node1 : node0, recent = node ? recent1 : recent0;

		if (score > 0 || recent > 0)
			p->oncpu[p->p.n_oncpu++] = (struct pagemig_oncpu_score){
				.tgid = (uint32_t)p->p.tgid,
				.node = node,
				.score = score,
				.recent = recent,
			};
	}
}

int fx_where(struct fx *f, size_t proc, uint64_t page)
{
	struct fx_proc *p = &f->procs[proc];

	for (size_t i = 0; i < p->n; i++)
		if (p->pages[i].page == page)
			return p->resident[i];
	return -2;
}

void fx_set_where(struct fx *f, size_t proc, uint64_t page, int node)
{
	struct fx_proc *p = &f->procs[proc];

	for (size_t i = 0; i < p->n; i++)
		if (p->pages[i].page == page)
			p->resident[i] = (int16_t)node;
}

void fx_free(struct fx *f, int node, uint64_t bytes)
{
	f->topo.node[node].mem_free = bytes;
}

/* Entries of a process sorted by (page, node), with their residences alongside. */
static void sort_entries(struct fx_proc *p)
{
	for (size_t i = 1; i < p->n; i++) {
		struct pagemig_page_score e = p->pages[i];
		int16_t r = p->resident[i];
		size_t j = i;

		while (j > 0 &&
		       (p->pages[j - 1].page > e.page ||
			(p->pages[j - 1].page == e.page && p->pages[j - 1].node > e.node))) {
			p->pages[j] = p->pages[j - 1];
			p->resident[j] = p->resident[j - 1];
			j--;
		}
		p->pages[j] = e;
		p->resident[j] = r;
	}
}

int fx_plan(struct fx *f)
{
	f->in_procs = xrealloc(f->in_procs, (f->n_procs + 1) * sizeof(*f->in_procs));
	for (size_t i = 0; i < f->n_procs; i++) {
		struct fx_proc *p = &f->procs[i];

		sort_entries(p);
		f->in_procs[i] = p->p;
		f->in_procs[i].pages = p->pages;
		f->in_procs[i].n_pages = p->n;
		f->in_procs[i].resident = p->resident;
		f->in_procs[i].oncpu = p->oncpu;
	}
	f->in.topo = &f->topo;
	f->in.cfg = &f->cfg;
	f->in.procs = f->in_procs;
	f->in.n_procs = f->n_procs;
	f->in.history = f->h;
	f->in.now_ms = f->now;
	return pagemig_policy_plan(&f->in, &f->plan);
}

void fx_execute(struct fx *f)
{
	for (size_t m = 0; m < f->plan.n_moves; m++) {
		const struct pagemig_plan_move *mv = &f->plan.moves[m];

		for (size_t i = 0; i < f->n_procs; i++) {
			if (f->procs[i].p.tgid != mv->tgid)
				continue;
			if (mv->page != PAGEMIG_PLAN_WHOLE_PROCESS)
				fx_set_where(f, i, mv->page, mv->to);
			pagemig_policy_history_moved(f->h, mv->tgid, mv->page, mv->from, mv->to,
						     f->now);
		}
	}
}

void fx_tick(struct fx *f, uint64_t ms)
{
	f->now += ms;
}

const struct pagemig_plan_move *fx_move(const struct fx *f, pid_t tgid, uint64_t page)
{
	for (size_t m = 0; m < f->plan.n_moves; m++)
		if (f->plan.moves[m].tgid == tgid && f->plan.moves[m].page == page)
			return &f->plan.moves[m];
	return NULL;
}
