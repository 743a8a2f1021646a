// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The policy engine: (snapshot, residences, topology, config, history) -> plan. What it decides
 * and why is in policy.h; this file is how.
 *
 * Three phases:
 *   1. per input process, its history record and parameters;
 *   2. one pass over each process's entries, a page at a time, merged with the process's history
 *      records (both sorted by address): sum the page's score per accessing node, update the
 *      page's record (last seen node, other movers), ask the process's policy where the page
 *      belongs, run the history guards, and keep what survives as a candidate (40 bytes) - or
 *      count why not;
 *   3. candidates in priority order, greedily against the interval's byte budget and each
 *      target's watermark. Only as many candidates as the budget can take are selected (linear
 *      selection) and sorted; more are taken, twice as many each time, only when watermarks
 *      refused some.
 * Ties are broken by target node, tgid and page address everywhere, so the plan never depends
 * on the order of equal-priority pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

#define MAX_NODES   PAGEMIG_TOPO_MAX_NODES
#define NODE_BIT(n) (1ull << (n))

/* Priority classes, served in this order. */
enum cand_class {
	CLS_URGENT = 0, /* demotions off a node below its watermark, coldest first */
	CLS_PAGE = 1,	/* page moves, hottest first */
	CLS_WHOLE = 2,	/* whole-process requests, largest first */
};

/* A move that passed the per-page guards and waits for the budget and watermark. */
struct cand {
	double score;
	uint64_t page;
	uint32_t tgid;
	uint32_t proc; /* index into the input processes */
	uint32_t npages;
	int8_t from;
	int8_t to;
	uint8_t reason;
	uint8_t cls;
	uint8_t follows; /* pagemig_plan_move.follows */
	uint16_t rule;
};

/* What is sorted: the class and score folded into one integer, and the candidate. */
struct sort_item {
	uint64_t key; /* smaller goes first */
	uint32_t idx;
};

struct pagemig_policy_scratch {
	struct cand *cand;
	size_t n_cand;
	size_t cap_cand;
	struct sort_item *items;
	size_t cap_items;
	struct hist_proc **hp; /* per input process: its history record, or NULL */
	size_t cap_hp;
};

/* The topology as the decisions need it, computed once per plan. */
struct view {
	uint64_t mem;			     /* nodes with memory */
	uint64_t near;			     /* with memory, tier 0 and CPUs */
	uint64_t far;			     /* memory-only or a higher tier */
	int8_t mem_of[MAX_NODES];	     /* node whose memory stands for a CPU node's */
	uint8_t order[MAX_NODES][MAX_NODES]; /* memory nodes, nearest first (ties: lower id) */
	uint8_t n_order;
	uint64_t room[MAX_NODES]; /* bytes that may be planned onto the node */
	uint64_t need[MAX_NODES]; /* bytes to demote away to regain the watermark */
	uint64_t has_room;	  /* nodes with room at the start */
};

/* One process's parameters for this plan. */
struct proc_params {
	enum pagemig_policy_type type;
	double hot, cold, share;
	uint64_t pin_nodes;
	int pin_target;
	uint64_t allowed;     /* mems_allowed & policy_nodes & nodes with memory */
	int home;	      /* -1 unknown */
	int home_mem;	      /* memory node standing for home; -1 unknown or home_share too low */
	bool moved;	      /* home is pagemig_policy_proc.moved_to */
	struct hist_proc *hp; /* NULL without history */
};

/* One page's entries summed. */
struct page_agg {
	uint64_t page;
	int r;	       /* resident node, -1 unknown */
	int top;       /* accessing node with the most score (ties: lower id), -1 none known */
	double total;  /* all entries, unknown nodes included */
	double known;  /* entries with a known accessing node */
	double best;   /* top's score */
	double on_res; /* score of accesses from the resident node */
	uint64_t fresh; /* known accessing nodes with accesses in the last interval (NODE_BIT) */
	uint64_t nodes; /* known accessing nodes with a score (NODE_BIT) */
	bool touched;	/* sampled in the last interval at all, a first touch included */
	unsigned int seen; /* intervals with accesses, summed over the entries */
};

/* What a policy wants done with a page: a target, or a reason it cannot have one. */
struct want {
	int to;	  /* -1: nothing to do */
	int skip; /* >= 0: counted as this enum pagemig_policy_skip */
	uint8_t reason;
	uint8_t cls;
};

static const struct want WANT_NOTHING = {.to = -1, .skip = -1};

struct ctx {
	const struct pagemig_policy_input *in;
	const struct pagemig_policy_config *cfg;
	struct pagemig_plan *plan;
	struct pagemig_policy_scratch *sc;
	struct pagemig_policy_history *h;
	uint64_t ps;
	uint64_t cooldown, freeze, window; /* ms; window 0 = no ping-pong detection */
	struct view v;
};

/* ---- names ------------------------------------------------------------------------------- */

const char *pagemig_move_reason_name(enum pagemig_move_reason r)
{
	static const char *const names[PAGEMIG_REASON__COUNT] = {
		[PAGEMIG_REASON_LOCAL_PAGE] = "local_page",
		[PAGEMIG_REASON_HOME_NODE] = "home_node",
		[PAGEMIG_REASON_PROMOTE] = "promote",
		[PAGEMIG_REASON_DEMOTE] = "demote",
		[PAGEMIG_REASON_PIN] = "pin",
	};

	return (unsigned int)r < PAGEMIG_REASON__COUNT ? names[r] : "?";
}

const char *pagemig_policy_skip_name(enum pagemig_policy_skip s)
{
	static const char *const names[PAGEMIG_SKIP__COUNT] = {
		[PAGEMIG_SKIP_COOLDOWN] = "cooldown",
		[PAGEMIG_SKIP_PINGPONG] = "pingpong",
		[PAGEMIG_SKIP_SHARED] = "shared",
		[PAGEMIG_SKIP_RATE] = "rate",
		[PAGEMIG_SKIP_WATERMARK] = "watermark",
		[PAGEMIG_SKIP_NOT_ALLOWED] = "not_allowed",
		[PAGEMIG_SKIP_OTHER_MOVER] = "other_mover",
		[PAGEMIG_SKIP_REFUSED] = "refused",
		[PAGEMIG_SKIP_UNCONFIRMED] = "unconfirmed",
	};

	return (unsigned int)s < PAGEMIG_SKIP__COUNT ? names[s] : "?";
}

const char *pagemig_policy_type_name(enum pagemig_policy_type t)
{
	static const char *const names[PAGEMIG_POLICY__COUNT] = {
		[PAGEMIG_POLICY_LOCALITY] = "locality",
		[PAGEMIG_POLICY_TIERING] = "tiering",
		[PAGEMIG_POLICY_PIN] = "pin",
		[PAGEMIG_POLICY_IGNORE] = "ignore",
	};

	return (unsigned int)t < PAGEMIG_POLICY__COUNT ? names[t] : "?";
}

/* ---- buffers ------------------------------------------------------------------------------- */

/* Make room for n elements of size sz in *p (capacity *cap), doubling: amortised O(1). */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap ? *cap : 64;
	void *q;

	if (n <= *cap)
		return 0;
	while (c < n) {
		if (c > SIZE_MAX / 2 / sz)
			return -ENOMEM;
		c *= 2;
	}
	q = realloc(*p, c * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

size_t pagemig_plan_memory(const struct pagemig_plan *plan)
{
	const struct pagemig_policy_scratch *sc = plan->scratch;
	size_t b = plan->cap * sizeof(*plan->moves) + plan->procs_cap * sizeof(*plan->procs);

	if (sc)
		b += sizeof(*sc) + sc->cap_cand * sizeof(*sc->cand) +
		     sc->cap_items * sizeof(*sc->items) + sc->cap_hp * sizeof(*sc->hp);
	return b;
}

void pagemig_plan_free(struct pagemig_plan *plan)
{
	if (!plan)
		return;
	if (plan->scratch) {
		free(plan->scratch->cand);
		free(plan->scratch->items);
		free(plan->scratch->hp);
		free(plan->scratch);
	}
	free(plan->moves);
	free(plan->procs);
	memset(plan, 0, sizeof(*plan));
}

/* ---- topology view ------------------------------------------------------------------------- */

static bool node_far(const struct pagemig_topo_node *n)
{
	return n->memory_only || n->tier > 0;
}

/* First node of mask in from's nearest-first order; -1 when none. */
static int nearest_in(const struct view *v, int from, uint64_t mask)
{
	if (!mask)
		return -1;
	if (from < 0 || from >= MAX_NODES)
		return __builtin_ctzll(mask);
	for (unsigned int k = 0; k < v->n_order; k++)
		if (mask & NODE_BIT(v->order[from][k]))
			return v->order[from][k];
	return -1;
}

/* The free memory node n keeps (watermark_pct of its memory), in bytes. */
static uint64_t watermark_bytes(const struct pagemig_policy_config *cfg,
				const struct pagemig_topology *t, int n)
{
	double pct = cfg->watermark_pct[n];

	if (!(pct > 0))
		pct = 0; /* NaN too */
	if (pct > 100)
		pct = 100;
	return (uint64_t)(pct / 100.0 * (double)t->node[n].mem_total);
}

bool pagemig_policy_near_short(const struct pagemig_topology *t,
			       const struct pagemig_policy_config *cfg)
{
	for (int n = 0; n < MAX_NODES; n++) {
		const struct pagemig_topo_node *tn = &t->node[n];

		if (tn->present && tn->has_memory && !node_far(tn) &&
		    watermark_bytes(cfg, t, n) > tn->mem_free)
			return true;
	}
	return false;
}

static void build_view(struct ctx *c)
{
	const struct pagemig_topology *t = c->in->topo;
	struct view *v = &c->v;
	uint8_t mem_nodes[MAX_NODES];
	unsigned int nm = 0;

	memset(v, 0, sizeof(*v));
	for (int n = 0; n < MAX_NODES; n++) {
		const struct pagemig_topo_node *tn = &t->node[n];

		if (!tn->present || !tn->has_memory)
			continue;
		v->mem |= NODE_BIT(n);
		if (node_far(tn))
			v->far |= NODE_BIT(n);
		else
			v->near |= NODE_BIT(n);
		mem_nodes[nm++] = (uint8_t)n;

		/* room: mem_free - planned >= pct * mem_total must hold; need: what brings the
		 * node back up to its watermark */
		uint64_t wm = watermark_bytes(c->cfg, t, n);

		if (tn->mem_free > wm) {
			v->room[n] = tn->mem_free - wm;
			v->has_room |= NODE_BIT(n);
		} else if (wm > tn->mem_free) {
			/* whole pages: the last one needed counts */
			v->need[n] = (wm - tn->mem_free + c->ps - 1) / c->ps * c->ps;
		}
	}
	v->n_order = (uint8_t)nm;

	/* nearest-first orders by SLIT distance, the node itself first: a hand-made topology
	 * without distances still orders sensibly (by id) */
	for (int n = 0; n < MAX_NODES; n++) {
		uint8_t *o = v->order[n];

		memcpy(o, mem_nodes, nm);
		for (unsigned int i = 1; i < nm; i++) {
			uint8_t x = o[i];
			unsigned int dx = x == n ? 0 : t->distance[n][x] + 1u;
			unsigned int j = i;

			/* insertion sort, stable: equal distances stay by id */
			while (j > 0) {
				uint8_t y = o[j - 1];
				unsigned int dy = y == n ? 0 : t->distance[n][y] + 1u;

				if (dy <= dx)
					break;
				o[j] = y;
				j--;
			}
			o[j] = x;
		}
	}

	/* a CPU node without memory is served by its nearest near node (else any) */
	for (int n = 0; n < MAX_NODES; n++) {
		int m = (v->mem & NODE_BIT(n)) ? n : nearest_in(v, n, v->near);

		if (m < 0)
			m = nearest_in(v, n, v->mem);
		v->mem_of[n] = (int8_t)m;
	}
}

/* ---- phase 1: processes -------------------------------------------------------------------- */

static double param(double v, double def)
{
	return v > 0 ? v : def; /* 0, negative and NaN take the default */
}

int pagemig_policy_home(const struct pagemig_oncpu_score *oncpu, size_t n, double min_share,
			double min_recent_ns, double *share)
{
	double total = 0, best = 0, r_total = 0, r_best = 0;
	int home = -1, r_home = -1;

	min_share = param(min_share, PAGEMIG_POLICY_DEF_MIN_SHARE);
	/* entries are sorted by node, so the first of equal scores (the lower id) wins */
	for (size_t k = 0; k < n; k++) {
		double sc = oncpu[k].score, rc = oncpu[k].recent;

		if (sc > 0) {
			total += sc;
			if (oncpu[k].node < MAX_NODES && sc > best) {
				best = sc;
				home = (int)oncpu[k].node;
			}
		}
		if (rc > 0) {
			r_total += rc;
			if (oncpu[k].node < MAX_NODES && rc > r_best) {
				r_best = rc;
				r_home = (int)oncpu[k].node;
			}
		}
	}
	if (r_home >= 0 && r_best >= min_share * r_total && r_total >= min_recent_ns) {
		/* where it runs now, clearly: its threads moved (a new phase) or stayed */
		*share = r_best / r_total;
		if (r_home == home && best / total > *share)
			*share = best / total;
		return r_home;
	}
	*share = total > 0 ? best / total : 0;
	return home;
}

static void proc_setup(struct ctx *c, size_t i, struct proc_params *pp, struct pagemig_plan_proc *s)
{
	const struct pagemig_policy_proc *pr = &c->in->procs[i];
	const struct pagemig_policy_rule *rule = NULL;
	double home_share;

	memset(pp, 0, sizeof(*pp));
	if (pr->rule >= 0 && (size_t)pr->rule < c->cfg->n_rules && c->cfg->rules)
		rule = &c->cfg->rules[pr->rule];
	pp->type = rule && rule->type < PAGEMIG_POLICY__COUNT ? rule->type : PAGEMIG_POLICY_IGNORE;
	pp->hot = param(rule ? rule->hot_score : 0, PAGEMIG_POLICY_DEF_HOT_SCORE);
	pp->cold = param(rule ? rule->cold_score : 0, PAGEMIG_POLICY_DEF_COLD_SCORE);
	pp->share = param(rule ? rule->min_share : 0, PAGEMIG_POLICY_DEF_MIN_SHARE);
	pp->pin_nodes = rule ? rule->pin_nodes : 0;
	pp->pin_target = rule && rule->pin_target >= 0 && rule->pin_target < MAX_NODES
				 ? rule->pin_target
				 : -1;
	pp->allowed = c->v.mem & (pr->mems_allowed ? pr->mems_allowed : ~0ull) &
		      (pr->policy_nodes ? pr->policy_nodes : ~0ull);

	pp->home = pagemig_policy_home(pr->oncpu, pr->n_oncpu, pp->share,
				       PAGEMIG_POLICY_RECENT_NS(c->in->interval_ms), &home_share);
	pp->home_mem = -1;
	if (pp->type == PAGEMIG_POLICY_LOCALITY && pr->moved && pr->moved_to >= 0 &&
	    pr->moved_to < MAX_NODES && c->v.mem_of[pr->moved_to] >= 0) {
		pp->home = pr->moved_to;
		pp->moved = true;
		home_share = 1.0; /* all of the watch's window, or nearly */
	}
	if (pp->home >= 0 && home_share >= pp->share)
		pp->home_mem = c->v.mem_of[pp->home];

	if (pp->type != PAGEMIG_POLICY_IGNORE)
		pp->hp = c->sc->hp[i];
	/* a phase change is a new clear home; falling short of min_share for a while and coming
	 * back to the same node is not one (threads on two nodes hover around the bound) */
	if (pp->hp &&
	    (pp->hp->home_mem == -2 || (pp->home_mem >= 0 && pp->hp->home_mem != pp->home_mem))) {
		pp->hp->home_mem = (int8_t)pp->home_mem;
		pp->hp->home_since = c->in->now_ms;
	}

	memset(s, 0, sizeof(*s));
	s->tgid = pr->tgid;
	s->rule = pr->rule;
	s->type = (uint8_t)pp->type;
	s->home = (int8_t)pp->home;
	s->home_share = home_share;
	s->local_share = -1;
}

/* The summary's counts kept by the history, once the process's pages are done. */
static void proc_done(struct pagemig_plan_proc *s, const struct proc_params *pp)
{
	if (pp->hp) {
		s->frozen = pp->hp->frozen;
		s->other_moved = pp->hp->other_moved;
	}
}

/* ---- phase 2: pages ------------------------------------------------------------------------ */

static void count_skip(struct ctx *c, size_t proc, int skip)
{
	c->plan->skipped[skip]++;
	c->plan->procs[proc].skipped++;
	if (skip == PAGEMIG_SKIP_COOLDOWN || skip == PAGEMIG_SKIP_RATE ||
	    skip == PAGEMIG_SKIP_WATERMARK)
		c->plan->procs[proc].deferred++;
	if (skip == PAGEMIG_SKIP_UNCONFIRMED)
		c->plan->procs[proc].unconfirmed++;
}

/*
 * Whether a page short of min_share follows its process home all the same: its top node is
 * where the process runs (home_mem, itself held to min_share of the on-CPU time), that node
 * has most of the page's score, and the last interval's accesses came from there alone. This is
 * a page whose accesses changed node with the process - the decayed score of its old node (the
 * last phase, say) would otherwise hold it back for several more intervals. A page really
 * written from two nodes can go home this way, but never away from home: no ping-pong.
 */
static bool follows_home(const struct ctx *c, const struct proc_params *pp,
			 const struct page_agg *a)
{
	return pp->home_mem >= 0 && c->v.mem_of[a->top] == pp->home_mem && 2 * a->best > a->total &&
	       a->fresh == NODE_BIT(a->top);
}

/*
 * Intervals with accesses a page needs before it is moved where one is not evidence enough: a
 * far page promoted by tiering, a page of a process without a clear home (want_locality()).
 * Tiering: a page written once after it was placed - initialised, then left cold - has one
 * burst, and does not deserve the scarce near memory; the kernel's own tiering
 * (numa_balancing=2) likewise promotes on a second access, not the first. Such a page waits
 * one interval longer: the daemon re-arms a process with such pages at once
 * (pagemig_plan_proc.unconfirmed) instead of at its next period. (First touches are no accesses
 * at all: pagemig_page_score.weight.) Where the sampler cannot see a page twice
 * (pagemig_policy_input.seen_once), one will do.
 */
#define CONFIRM_MIN_SEEN 2
static unsigned int confirm_seen(const struct ctx *c)
{
	return c->in->seen_once ? 1 : CONFIRM_MIN_SEEN;
}

/*
 * locality: hot pages to their top accessing node; shared ones stay; no node data: home. In a
 * process without a clear home (threads on several nodes), a page sampled in one interval only
 * waits for a second (spread_unconfirmed): soft-dirty re-arming samples the first write after
 * each clear, so a page two threads on two nodes both write shows the one that got there first,
 * and looks private to it. Moved on that, the lab's shared case moved 45-74% of its set once in
 * its first 5 s (median 51%), none of which needed it; with this rule 3-35% (median 20%; the
 * driver's runs of 2026-11-28). The daemon re-arms such a process at once
 * (pagemig_plan_proc.unconfirmed); a second sample from the other node makes the page shared.
 */
static struct want want_locality(const struct ctx *c, const struct proc_params *pp,
				 const struct page_agg *a)
{
	struct want w = {.to = -1, .skip = -1, .cls = CLS_PAGE};

	if (a->total < pp->hot)
		return w;
	if (pp->moved && pp->home_mem >= 0 && (a->fresh & NODE_BIT(pp->home))) {
		/* accessed from where it has just moved to: see moved_to */
		w.to = pp->home_mem;
		w.reason = PAGEMIG_REASON_LOCAL_PAGE;
	} else if (a->top < 0) {
		w.to = pp->home_mem;
		w.reason = PAGEMIG_REASON_HOME_NODE;
	} else {
		w.to = c->v.mem_of[a->top];
		w.reason = PAGEMIG_REASON_LOCAL_PAGE;
		if (a->best < pp->share * a->total && !follows_home(c, pp, a)) {
			if (w.to != a->r)
				w.skip = PAGEMIG_SKIP_SHARED;
			w.to = -1;
			return w;
		}
		if (pp->home_mem < 0 && w.to != a->r && a->seen < confirm_seen(c)) {
			/* one interval's samples: see above */
			w.skip = PAGEMIG_SKIP_UNCONFIRMED;
			w.to = -1;
			return w;
		}
	}
	if (w.to < 0 || w.to == a->r)
		return WANT_NOTHING;
	if (!(pp->allowed & NODE_BIT(w.to))) {
		w.skip = PAGEMIG_SKIP_NOT_ALLOWED;
		w.to = -1;
	}
	return w;
}

/* tiering: promote hot far pages; demote cold near pages off a node under its watermark. */
static struct want want_tiering(const struct ctx *c, const struct proc_params *pp,
				const struct page_agg *a)
{
	const struct view *v = &c->v;
	struct want w = {.to = -1, .skip = -1};
	uint64_t ok = pp->allowed & v->near;

	if (v->far & NODE_BIT(a->r)) {
		if (a->total < pp->hot)
			return w;
		if (a->seen < confirm_seen(c)) {
			w.skip = PAGEMIG_SKIP_UNCONFIRMED;
			return w;
		}
		/* the node using it, else where the process runs, else the nearest near node */
		if (a->top >= 0 && a->best >= pp->share * a->total && v->mem_of[a->top] >= 0 &&
		    (ok & NODE_BIT(v->mem_of[a->top])))
			w.to = v->mem_of[a->top];
		else if (pp->home_mem >= 0 && (ok & NODE_BIT(pp->home_mem)))
			w.to = pp->home_mem;
		else
			w.to = nearest_in(v, a->r, ok);
		w.reason = PAGEMIG_REASON_PROMOTE;
		w.cls = CLS_PAGE;
	} else if ((v->near & NODE_BIT(a->r)) && a->total < pp->cold && !a->touched &&
		   v->need[a->r]) {
		/* not a page just allocated (sampled by its first touch alone, score 0) */
		w.to = nearest_in(v, a->r, v->far & pp->allowed);
		w.reason = PAGEMIG_REASON_DEMOTE;
		w.cls = CLS_URGENT;
	} else {
		return w;
	}
	if (w.to < 0)
		w.skip = PAGEMIG_SKIP_NOT_ALLOWED;
	return w;
}

/* pin: every known page outside pin_nodes goes back. */
static struct want want_pin(const struct ctx *c, const struct proc_params *pp,
			    const struct page_agg *a)
{
	struct want w = {.to = -1, .skip = -1, .reason = PAGEMIG_REASON_PIN, .cls = CLS_PAGE};
	uint64_t ok = pp->pin_nodes & pp->allowed;

	if (!pp->pin_nodes || (pp->pin_nodes & NODE_BIT(a->r)))
		return w;
	if (pp->pin_target >= 0)
		w.to = (ok & NODE_BIT(pp->pin_target)) ? pp->pin_target : -1;
	else if ((w.to = nearest_in(&c->v, a->r, ok & c->v.has_room)) < 0)
		w.to = nearest_in(&c->v, a->r, ok);
	if (w.to < 0)
		w.skip = PAGEMIG_SKIP_NOT_ALLOWED;
	return w;
}

/*
 * The history guards for moving a page from r to `to`; returns the skip reason or -1. May
 * freeze the page (ping-pong), which is why the history is not const.
 */
static int guard_page(struct ctx *c, const struct proc_params *pp, struct hist_rec *s, int r,
		      int to)
{
	uint64_t now = c->in->now_ms;

	switch (s->flags & HIST_STATE) {
	case HIST_FROZEN:
		if (now < s->t_ms + c->freeze)
			return PAGEMIG_SKIP_PINGPONG;
		s->flags &= (uint8_t)~HIST_STATE; /* thawed */
		break;
	case HIST_REFUSED:
		/* the same move again: the reason it was refused (another process maps the
		 * page, say) most likely still holds */
		if (now < s->t_ms + c->freeze && to == s->to)
			return PAGEMIG_SKIP_REFUSED;
		break;
	case HIST_OTHER:
		if (now < s->t_ms + c->cooldown)
			return PAGEMIG_SKIP_OTHER_MOVER;
		if ((s->flags & HIST_BALANCING) && to == s->from)
			return PAGEMIG_SKIP_OTHER_MOVER; /* never undo kernel balancing */
		break;
	case HIST_MOVED:
		/* a new phase: under locality the process has gone to run on another node since
		 * the move (it has a new clear home, held to min_share of the on-CPU time), and
		 * the page follows it there - neither ping-pong nor held by the cooldown */
		if (pp->type == PAGEMIG_POLICY_LOCALITY && pp->home_mem >= 0 &&
		    to == pp->home_mem && pp->hp->home_since > s->t_ms)
			break;
		/* back where we took it from, soon after: the accesses alternate, so moving
		 * it again would only repeat. Checked before the cooldown so that a page
		 * wanted back while still cooling down freezes too. For locality the same holds
		 * later on as long as the process has no new clear home since the move: its
		 * threads did not move, the page's accessors take turns (a shared page). */
		if (c->window && to == s->from && r == s->to &&
		    (now <= s->t_ms + c->window ||
		     (pp->type == PAGEMIG_POLICY_LOCALITY && pp->hp->home_since <= s->t_ms))) {
			/* but the process runs most where the page is wanted now, short of a
			 * home: it may be moving there (a new phase not yet shown). Wait for the
			 * cooldown rather than freeze; a shared page is frozen after it. */
			if (pp->type == PAGEMIG_POLICY_LOCALITY && pp->home >= 0 &&
			    c->v.mem_of[pp->home] == to && now < s->t_ms + c->cooldown)
				return PAGEMIG_SKIP_COOLDOWN;
			s->flags = (uint8_t)((s->flags & ~HIST_STATE) | HIST_FROZEN);
			s->t_ms = now;
			pp->hp->frozen++;
			return PAGEMIG_SKIP_PINGPONG;
		}
		if (now < s->t_ms + c->cooldown)
			return PAGEMIG_SKIP_COOLDOWN;
		break;
	default:
		break;
	}
	return -1;
}

static int push_cand(struct ctx *c, const struct cand *x)
{
	struct pagemig_policy_scratch *sc = c->sc;

	if (sc->n_cand == sc->cap_cand &&
	    grow((void **)&sc->cand, &sc->cap_cand, sc->n_cand + 1, sizeof(*sc->cand)))
		return -ENOMEM;
	sc->cand[sc->n_cand++] = *x;
	c->plan->candidates++;
	return 0;
}

/* Sum the entries of the page starting at pages[i]; returns the index after them, or 0 when
 * the entries are out of order. */
static size_t aggregate(const struct pagemig_policy_proc *pr, size_t i, struct page_agg *a)
{
	const struct pagemig_page_score *e = pr->pages;
	uint64_t page = e[i].page;
	int cur = -1;
	double cur_s = 0;
	size_t j;

	a->page = page;
	a->r = pr->resident[i] >= 0 && pr->resident[i] < MAX_NODES ? pr->resident[i] : -1;
	a->top = -1;
	a->total = a->known = a->best = a->on_res = 0;
	a->fresh = a->nodes = 0;
	a->touched = false;
	a->seen = 0;
	for (j = i; j < pr->n_pages && e[j].page == page; j++) {
		double s = e[j].score > 0 ? e[j].score : 0; /* negative or NaN: nothing */
		int node = e[j].node < MAX_NODES ? e[j].node : -1;

		a->total += s;
		a->touched |= e[j].events > 0;
		a->seen += e[j].seen;
		if (node < 0)
			continue;
		if (node < cur)
			return 0;
		a->known += s;
		if (s > 0)
			a->nodes |= NODE_BIT(node);
		if (e[j].weight)
			a->fresh |= NODE_BIT(node);
		if (node == a->r)
			a->on_res += s;
		if (node != cur) {
			/* strictly greater: of equal scores the lower node id stays */
			if (cur >= 0 && cur_s > a->best) {
				a->best = cur_s;
				a->top = cur;
			}
			cur = node;
			cur_s = 0;
		}
		cur_s += s;
	}
	if (cur >= 0 && cur_s > a->best) {
		a->best = cur_s;
		a->top = cur;
	}
	if (j < pr->n_pages && e[j].page < page)
		return 0;
	return j;
}

/* Whole-process request for a process without sampled pages (locality: home; pin: the one
 * pin node), with the per-process cooldown and ping-pong guards. */
static int plan_whole(struct ctx *c, size_t i, struct proc_params *pp)
{
	const struct pagemig_policy_proc *pr = &c->in->procs[i];
	struct hist_proc *hp = pp->hp;
	uint64_t now = c->in->now_ms;
	uint64_t pins = pp->pin_nodes & pp->allowed;
	int to = -1;
	uint8_t reason;

	if (!c->in->whole_process || !pr->rss_pages)
		return 0;
	if (pp->type == PAGEMIG_POLICY_LOCALITY) {
		if (pp->home_mem < 0)
			return 0;
		to = pp->home_mem;
		reason = PAGEMIG_REASON_HOME_NODE;
	} else if (pp->type == PAGEMIG_POLICY_PIN && pp->pin_nodes) {
		/* without page data only a single destination is unambiguous */
		if (pp->pin_target >= 0)
			to = pp->pin_target;
		else if (pins && !(pins & (pins - 1)))
			to = __builtin_ctzll(pins);
		else
			return 0;
		reason = PAGEMIG_REASON_PIN;
	} else {
		return 0;
	}
	if (!(pp->allowed & NODE_BIT(to))) {
		count_skip(c, i, PAGEMIG_SKIP_NOT_ALLOWED);
		return 0;
	}
	if (hp) {
		if (hp->whole_state == HIST_FROZEN) {
			if (now < hp->whole_t + c->freeze) {
				count_skip(c, i, PAGEMIG_SKIP_PINGPONG);
				return 0;
			}
			hp->whole_state = HIST_NONE;
			hp->whole_from = hp->whole_to = -1;
		}
		if (hp->whole_state == HIST_MOVED) {
			if (hp->whole_to == to)
				return 0; /* done; first touch keeps new memory there */
			if (c->window && to == hp->whole_from && now <= hp->whole_t + c->window) {
				hp->whole_state = HIST_FROZEN;
				hp->whole_t = now;
				hp->frozen++;
				count_skip(c, i, PAGEMIG_SKIP_PINGPONG);
				return 0;
			}
			if (now < hp->whole_t + c->cooldown) {
				count_skip(c, i, PAGEMIG_SKIP_COOLDOWN);
				return 0;
			}
		}
	}
	return push_cand(c, &(struct cand){
				    .score = (double)pr->rss_pages,
				    .page = PAGEMIG_PLAN_WHOLE_PROCESS,
				    .tgid = (uint32_t)pr->tgid,
				    .proc = (uint32_t)i,
				    .npages = pr->rss_pages > UINT32_MAX ? UINT32_MAX
									 : (uint32_t)pr->rss_pages,
				    .from = -1,
				    .to = (int8_t)to,
				    .reason = reason,
				    .cls = CLS_WHOLE,
				    .follows = pp->type == PAGEMIG_POLICY_LOCALITY,
				    .rule = (uint16_t)pr->rule,
			    });
}

/* Whether the record of a page that left the snapshot is still worth keeping: its event still
 * holds a guard on it. Everything else about such a page is stale. */
static bool still_matters(const struct ctx *c, const struct hist_rec *r)
{
	uint64_t now = c->in->now_ms, hold;

	switch (r->flags & HIST_STATE) {
	case HIST_MOVED:
		hold = c->cooldown > c->window ? c->cooldown : c->window;
		break;
	case HIST_OTHER:
		hold = c->cooldown;
		if ((r->flags & HIST_BALANCING) && c->freeze > hold)
			hold = c->freeze;
		break;
	case HIST_FROZEN:
		hold = c->freeze;
		break;
	case HIST_REFUSED:
		hold = c->freeze;
		break;
	default:
		return false;
	}
	return now < r->t_ms + hold;
}

/* Learn where the page is now; a change we did not make is another mover's. */
static void observe(struct ctx *c, struct proc_params *pp, struct hist_rec *rec, int r)
{
	if (rec->seen >= 0 && rec->seen != r) {
		rec->from = rec->seen;
		rec->to = (int8_t)r;
		rec->t_ms = c->in->now_ms;
		rec->flags = (uint8_t)(HIST_OTHER | (c->in->numa_balancing ? HIST_BALANCING : 0));
		pp->hp->other_moved++;
		c->plan->other_moved++;
	}
	rec->seen = (int8_t)r;
}

/* What the process's policy wants for one resident page, through the guards, into the
 * candidates or the skip counts. rec is the page's history record (NULL without history). */
/*
 * Whether a page wanted on its top accessing node stays as shared all the same: its process has
 * no clear home (its threads run on several nodes) and an earlier plan saw the page sampled from
 * two nodes at a time (HIST_MULTI). Soft-dirty re-arming samples the first write after each clear only,
 * so a page that two threads on two nodes both write shows the one that got there first; when
 * the same side keeps winning (its CPU less busy) the other side's score decays away and the
 * page looks local to one node. Moved on that, such pages went over one by one for as long as
 * the process ran (the lab's shared case: 60-70% of its set in 40 s), and the process never
 * settled, so it was re-armed, and faulted on every page, every period. A page only ever seen
 * from one node still moves; so does any page of a process with a clear home.
 */
static bool spread_shared(const struct proc_params *pp, const struct want *w,
			  const struct hist_rec *rec)
{
	return pp->type == PAGEMIG_POLICY_LOCALITY && w->reason == PAGEMIG_REASON_LOCAL_PAGE &&
	       pp->home_mem < 0 && rec && (rec->flags & HIST_MULTI);
}

static int decide(struct ctx *c, size_t i, struct proc_params *pp, const struct page_agg *a,
		  struct hist_rec *rec)
{
	const struct pagemig_policy_proc *pr = &c->in->procs[i];
	struct want w;
	int skip;

	switch (pp->type) {
	case PAGEMIG_POLICY_LOCALITY:
		w = want_locality(c, pp, a);
		break;
	case PAGEMIG_POLICY_TIERING:
		w = want_tiering(c, pp, a);
		break;
	case PAGEMIG_POLICY_PIN:
		w = want_pin(c, pp, a);
		break;
	default:
		return 0;
	}
	if (w.to >= 0 && spread_shared(pp, &w, rec)) {
		w.to = -1;
		w.skip = PAGEMIG_SKIP_SHARED;
	}
	if (w.skip >= 0) {
		c->plan->candidates++;
		count_skip(c, i, w.skip);
		return 0;
	}
	if (w.to < 0)
		return 0;
	if (rec && (skip = guard_page(c, pp, rec, a->r, w.to)) >= 0) {
		c->plan->candidates++;
		count_skip(c, i, skip);
		return 0;
	}
	return push_cand(c, &(struct cand){
				    .score = a->total,
				    .page = a->page,
				    .tgid = (uint32_t)pr->tgid,
				    .proc = (uint32_t)i,
				    .npages = 1,
				    .from = (int8_t)a->r,
				    .to = (int8_t)w.to,
				    .reason = w.reason,
				    .cls = w.cls,
				    /* to its home; not a page a thread writes elsewhere */
				    .follows = pp->type == PAGEMIG_POLICY_LOCALITY &&
					       pp->home_mem >= 0 && w.to == pp->home_mem,
				    .rule = (uint16_t)pr->rule,
			    });
}

/*
 * Phase 2 for one process: its pages in address order, merged with its history records in the
 * same order (the history's new record set is written as we go).
 */
static int plan_proc(struct ctx *c, size_t i)
{
	const struct pagemig_policy_proc *pr = &c->in->procs[i];
	struct pagemig_plan_proc *s = &c->plan->procs[i];
	struct proc_params pp;
	struct hist_merge mg;
	double local = 0, known = 0;
	size_t k, next;
	int err = 0;

	proc_setup(c, i, &pp, s);
	if (pr->n_pages && (!pr->pages || !pr->resident))
		return -EINVAL;
	if (!pr->n_pages && !pr->partial && pp.type != PAGEMIG_POLICY_IGNORE &&
	    (err = plan_whole(c, i, &pp)))
		return err;
	/* with no page sampled too: the merge folds in reported moves and drops stale records */
	if (pp.hp && (err = policy_hist_merge_begin(&mg, c->h, pp.hp, pr->n_pages)))
		return err;

	for (k = 0; k < pr->n_pages && !err; k = next) {
		struct page_agg a;
		struct hist_rec rec;
		bool have = false;

		next = aggregate(pr, k, &a);
		if (!next)
			return -EINVAL; /* the old records stay; nothing was replaced yet */

		if (pp.hp) {
			/* pages no longer sampled that come before this one */
			while (policy_hist_merge_peek(&mg) < a.page) {
				policy_hist_merge_take(&mg, &rec);
				if (pr->partial || still_matters(c, &rec))
					policy_hist_merge_put(&mg, &rec, false);
			}
			if (policy_hist_merge_peek(&mg) == a.page) {
				policy_hist_merge_take(&mg, &rec);
				have = true;
			}
		}

		s->pages++;
		if (a.total >= pp.hot) {
			s->hot++;
			if (a.top >= 0 && a.best < pp.share * a.total)
				s->shared++;
		}
		if (a.total < pp.cold)
			s->cold++;
		if (a.r < 0) {
			/* not resident or not known: nothing to move, nothing to learn */
			if (have)
				policy_hist_merge_put(&mg, &rec, false);
			continue;
		}
		s->resident++;
		local += a.on_res;
		known += a.known;

		if (!pp.hp) {
			err = decide(c, i, &pp, &a, NULL);
			continue;
		}
		if (!have)
			rec = (struct hist_rec){.page = a.page, .seen = -1, .from = -1, .to = -1};
		observe(c, &pp, &rec, a.r);
		err = decide(c, i, &pp, &a, &rec);
		/* for the plans after this one: this one's share test saw both nodes */
		if (a.nodes & (a.nodes - 1))
			rec.flags |= HIST_MULTI;
		policy_hist_merge_put(&mg, &rec, !have);
	}
	if (pp.hp) {
		/* pages after the last sampled one */
		while (!err && policy_hist_merge_peek(&mg) != UINT64_MAX) {
			struct hist_rec rec;

			policy_hist_merge_take(&mg, &rec);

			if (pr->partial || still_matters(c, &rec))
				policy_hist_merge_put(&mg, &rec, false);
		}
		if (!err)
			err = policy_hist_merge_end(&mg);
	}
	if (known > 0)
		s->local_share = local / known;
	proc_done(s, &pp);
	return err;
}

/* ---- phase 3: priority order, budget and watermarks ---------------------------------------- */

/* The sort key: class in the top two bits, then the score so that the first to serve has the
 * smaller key. A non-negative double's bits grow with its value; one low bit is dropped to fit,
 * and item_before() settles what that merges. */
static uint64_t sort_key(const struct cand *x)
{
	uint64_t b;

	memcpy(&b, &x->score, sizeof(b));
	b &= ~(1ull << 63);
	if (x->cls != CLS_URGENT)
		b = ~b & ~(1ull << 63); /* larger first */
	return ((uint64_t)x->cls << 62) | (b >> 1);
}

static inline bool item_before(const struct sort_item *a, const struct sort_item *b,
			       const struct cand *cd)
{
	const struct cand *x, *y;

	if (a->key != b->key)
		return a->key < b->key;
	x = &cd[a->idx];
	y = &cd[b->idx];
	if (x->score != y->score)
		return x->cls == CLS_URGENT ? x->score < y->score : x->score > y->score;
	if (x->to != y->to)
		return x->to < y->to;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid;
	if (x->page != y->page)
		return x->page < y->page;
	return a->idx < b->idx; /* the same page twice (a tgid listed twice): input order */
}

static inline void item_swap(struct sort_item *a, struct sort_item *b)
{
	struct sort_item t = *a;

	*a = *b;
	*b = t;
}

static void insertion_sort(struct sort_item *a, size_t n, const struct cand *cd)
{
	for (size_t i = 1; i < n; i++) {
		struct sort_item x = a[i];
		size_t j = i;

		while (j > 0 && item_before(&x, &a[j - 1], cd)) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

static void sift_down(struct sort_item *a, size_t i, size_t n, const struct cand *cd)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;

		if (l < n && item_before(&a[m], &a[l], cd))
			m = l;
		if (r < n && item_before(&a[m], &a[r], cd))
			m = r;
		if (m == i)
			return;
		item_swap(&a[i], &a[m]);
		i = m;
	}
}

static void heap_sort(struct sort_item *a, size_t n, const struct cand *cd)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n, cd);
	for (size_t i = n; i-- > 1;) {
		item_swap(&a[0], &a[i]);
		sift_down(a, 0, i, cd);
	}
}

/* Hoare partition around the median of first, middle and last (n >= 3). Returns j: a[0..j]
 * come before or equal the pivot, a[j+1..n) after or equal, both non-empty. */
static size_t partition(struct sort_item *a, size_t n, const struct cand *cd)
{
	size_t mid = n / 2, i = 0, j = n - 1;
	struct sort_item pv;

	if (item_before(&a[mid], &a[0], cd))
		item_swap(&a[mid], &a[0]);
	if (item_before(&a[n - 1], &a[0], cd))
		item_swap(&a[n - 1], &a[0]);
	if (item_before(&a[n - 1], &a[mid], cd))
		item_swap(&a[n - 1], &a[mid]);
	pv = a[mid];
	for (;;) {
		while (item_before(&a[i], &pv, cd))
			i++;
		while (item_before(&pv, &a[j], cd))
			j--;
		if (i >= j)
			return j;
		item_swap(&a[i], &a[j]);
		i++;
		j--;
	}
}

static unsigned int depth_limit(size_t n)
{
	unsigned int d = 0;

	while (n >>= 1)
		d++;
	return 2 * d + 4;
}

/* Introsort: quicksort with a heapsort fallback, O(n log n) whatever the input. */
static void sort_items(struct sort_item *a, size_t n, const struct cand *cd)
{
	unsigned int depth = depth_limit(n);

	while (n > 16) {
		size_t j, left;

		if (!depth--) {
			heap_sort(a, n, cd);
			return;
		}
		j = partition(a, n, cd);
		left = j + 1;
		/* recurse into the smaller side, loop on the larger: O(log n) stack */
		if (left < n - left) {
			sort_items(a, left, cd);
			a += left;
			n -= left;
		} else {
			sort_items(a + left, n - left, cd);
			n = left;
		}
	}
	insertion_sort(a, n, cd);
}

/* Put the k first (in priority order) of a[0..n) into a[0..k), in no order: quickselect, O(n)
 * expected, falling back to a full sort when partitions keep coming out lopsided. */
static void select_items(struct sort_item *a, size_t n, size_t k, const struct cand *cd)
{
	unsigned int depth = depth_limit(n);

	while (n > 16 && k > 0 && k < n) {
		size_t j, left;

		if (!depth--) {
			sort_items(a, n, cd);
			return;
		}
		j = partition(a, n, cd);
		left = j + 1;
		if (k == left)
			return;
		if (k < left) {
			n = left;
		} else {
			a += left;
			n -= left;
			k -= left;
		}
	}
	if (k > 0 && k < n)
		insertion_sort(a, n, cd);
}

static int add_move(struct ctx *c, const struct cand *x, uint32_t npages)
{
	struct pagemig_plan *plan = c->plan;
	struct pagemig_plan_move *mv;

	if (plan->n_moves == plan->cap &&
	    grow((void **)&plan->moves, &plan->cap, plan->n_moves + 1, sizeof(*plan->moves)))
		return -ENOMEM;
	mv = &plan->moves[plan->n_moves++];
	memset(mv, 0, sizeof(*mv)); /* padding too: plans compare byte for byte */
	mv->tgid = (pid_t)x->tgid;
	mv->npages = npages;
	mv->page = x->page;
	mv->from = x->from;
	mv->to = x->to;
	mv->reason = x->reason;
	mv->follows = x->follows;
	mv->rule = x->rule;
	mv->score = x->score;
	plan->bytes += (uint64_t)npages * c->ps;
	plan->by_reason[x->reason] += npages;
	plan->planned_to[x->to] += (uint64_t)npages * c->ps;
	plan->procs[x->proc].planned += npages;
	return 0;
}

static int schedule(struct ctx *c)
{
	struct pagemig_policy_scratch *sc = c->sc;
	struct pagemig_plan *plan = c->plan;
	const struct cand *cd = sc->cand;
	size_t n = sc->n_cand, done = 0, chunk;
	bool limited = c->cfg->rate_bytes_per_s > 0;
	uint64_t left = UINT64_MAX, demoted[MAX_NODES] = {0};

	if (limited) {
		/* rate x the budget's time, without overflowing for absurd rates */
		uint64_t ms = c->in->budget_ms ? c->in->budget_ms : c->in->interval_ms;
		unsigned __int128 b = (unsigned __int128)c->cfg->rate_bytes_per_s * ms / 1000;

		left = b > UINT64_MAX ? UINT64_MAX : (uint64_t)b;
		plan->budget_bytes = left;
	}
	if (!n)
		return 0;
	if (grow((void **)&sc->items, &sc->cap_items, n, sizeof(*sc->items)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sc->items[i] = (struct sort_item){.key = sort_key(&cd[i]), .idx = (uint32_t)i};

	/* what the budget can take, and some: watermarks may refuse a few */
	chunk = limited ? (size_t)(left / c->ps) + 256 : n;
	while (done < n) {
		size_t rest = n - done, k = chunk < rest ? chunk : rest;
		struct sort_item *it = sc->items + done;

		if (limited && left < c->ps)
			break;
		if (k < rest)
			select_items(it, rest, k, cd);
		sort_items(it, k, cd);
		for (size_t i = 0; i < k; i++) {
			const struct cand *x = &cd[it[i].idx];
			uint64_t room = c->v.room[x->to] - plan->planned_to[x->to];
			uint64_t grant = x->npages;
			int err;

			/* planned_to never exceeds room: the subtraction cannot wrap */
			if (x->cls == CLS_URGENT && demoted[x->from] >= c->v.need[x->from])
				continue; /* the node is back at its watermark: not needed */
			if (grant > left / c->ps)
				grant = left / c->ps;
			if (!grant) {
				count_skip(c, x->proc, PAGEMIG_SKIP_RATE);
				continue;
			}
			if (grant > room / c->ps)
				grant = room / c->ps;
			if (!grant) {
				count_skip(c, x->proc, PAGEMIG_SKIP_WATERMARK);
				continue;
			}
			err = add_move(c, x, (uint32_t)grant);
			if (err)
				return err;
			if (limited)
				left -= grant * c->ps;
			if (x->cls == CLS_URGENT)
				demoted[x->from] += grant * c->ps;
		}
		done += k;
		chunk = chunk > SIZE_MAX / 2 ? SIZE_MAX : chunk * 2;
	}
	/* the budget ran out: the rest are rate skips, unless no longer needed */
	for (size_t i = done; i < n; i++) {
		const struct cand *x = &cd[sc->items[i].idx];

		if (x->cls == CLS_URGENT && demoted[x->from] >= c->v.need[x->from])
			continue;
		count_skip(c, x->proc, PAGEMIG_SKIP_RATE);
	}
	return 0;
}

/* ---- entry point --------------------------------------------------------------------------- */

static void plan_reset(struct pagemig_plan *plan)
{
	plan->n_moves = 0;
	plan->bytes = 0;
	plan->candidates = 0;
	plan->budget_bytes = 0;
	plan->other_moved = 0;
	plan->n_procs = 0;
	memset(plan->skipped, 0, sizeof(plan->skipped));
	memset(plan->by_reason, 0, sizeof(plan->by_reason));
	memset(plan->planned_to, 0, sizeof(plan->planned_to));
	if (plan->scratch)
		plan->scratch->n_cand = 0;
}

/* Phase 1 for every process: its history record (created for a managed process). */
static int resolve_procs(struct ctx *c)
{
	const struct pagemig_policy_input *in = c->in;
	struct pagemig_policy_scratch *sc = c->sc;

	if (grow((void **)&sc->hp, &sc->cap_hp, in->n_procs, sizeof(*sc->hp)))
		return -ENOMEM;
	for (size_t i = 0; i < in->n_procs; i++) {
		const struct pagemig_policy_proc *pr = &in->procs[i];
		bool managed = pr->rule >= 0 && (size_t)pr->rule < in->cfg->n_rules &&
			       in->cfg->rules[pr->rule].type != PAGEMIG_POLICY_IGNORE;

		sc->hp[i] = NULL;
		if (!c->h || pr->tgid <= 0)
			continue;
		sc->hp[i] = policy_hist_proc(c->h, (uint32_t)pr->tgid, managed);
		if (managed && !sc->hp[i])
			return -ENOMEM;
	}
	return 0;
}

int pagemig_policy_plan(const struct pagemig_policy_input *in, struct pagemig_plan *plan)
{
	struct ctx c;
	int err;

	if (!plan)
		return -EINVAL;
	plan_reset(plan);
	if (!in || !in->topo || !in->cfg || (in->n_procs && !in->procs) ||
	    (in->cfg->n_rules && !in->cfg->rules))
		return -EINVAL;
	if (!plan->scratch && !(plan->scratch = calloc(1, sizeof(*plan->scratch))))
		return -ENOMEM;
	if (grow((void **)&plan->procs, &plan->procs_cap, in->n_procs, sizeof(*plan->procs)))
		return -ENOMEM;

	memset(&c, 0, sizeof(c));
	c.in = in;
	c.cfg = in->cfg;
	c.plan = plan;
	c.sc = plan->scratch;
	c.h = in->history;
	c.ps = in->page_size ? in->page_size : PAGEMIG_POLICY_DEF_PAGE_SIZE;
	c.cooldown = in->cfg->cooldown_ms;
	c.freeze = in->cfg->freeze_ms ? in->cfg->freeze_ms : PAGEMIG_POLICY_DEF_FREEZE_MS;
	c.window = (uint64_t)in->cfg->pingpong_intervals * in->interval_ms;
	build_view(&c);

	err = resolve_procs(&c);
	plan->n_procs = in->n_procs;
	for (size_t i = 0; !err && i < in->n_procs; i++)
		err = plan_proc(&c, i);
	if (!err)
		err = schedule(&c);
	if (err) {
		plan->n_moves = 0;
		plan->bytes = 0;
	}
	return err;
}
