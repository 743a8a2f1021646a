/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy engine: a pure module. It takes what the sampler saw (a snapshot of decayed access
 * scores per page and node, and on-CPU time per node), where those pages are now, the topology,
 * the configured rules and the history of earlier moves, and returns a plan: which pages of which
 * processes go to which node, each with its reason. No syscalls, no clocks, no I/O: everything
 * it needs comes in, so it can be unit-tested with synthetic input and replayed at scale.
 *
 * One interval, as the daemon drives it:
 *
 *   1. drain the sampler; for each managed process, slice its entries out of the snapshot and
 *      ask the kernel where those pages are (resident[]);
 *   2. pagemig_policy_plan() - in the same step as 1, with no moves executed in between: the
 *      engine compares resident[] with the residence the history last saw, and a page that
 *      changed without pagemig moving it was moved by someone else (see PAGEMIG_SKIP_OTHER_MOVER);
 *   3. execute the plan's moves in order; for every page verified on a new node (including the
 *      other base pages of a huge page that moved with it) call pagemig_policy_history_moved();
 *   4. when a managed process exits, pagemig_policy_history_forget().
 *
 * The history is the only state carried between intervals. pagemig_policy_plan() updates it
 * too (residences seen, pages frozen for ping-pong, pages another mover moved), so the plan is
 * a function of (input, history): the same pair always gives the same plan, byte for byte.
 *
 * What each policy does with one sampled page (score = the sum of its entries' scores):
 *
 *   locality  hot (score >= hot_score) pages go to the node that accesses them most, when that
 *             node has at least min_share of the page's score; otherwise the page is shared and
 *             stays put (PAGEMIG_SKIP_SHARED) - unless that node is the process's home node,
 *             holds more than half of the page's score, and was the only node with accesses to
 *             the page in the last interval (their weight; a first touch is none): the page
 *             follows the process home. In a process without a clear home a page moves only
 *             once accesses were sampled in two intervals (one will do with seen_once;
 *             PAGEMIG_SKIP_UNCONFIRMED until then). A CPU node without memory stands for its nearest node
 *             with memory. Hot pages whose accesses carry no node go to the process's home node
 *             (where it runs most, when that holds min_share of its on-CPU time, decayed or
 *             recent: pagemig_policy_home()). A process
 *             with on-CPU data and no sampled page at all gets one whole-process request to its
 *             home node (PAGEMIG_PLAN_WHOLE_PROCESS) if the input allows it.
 *   tiering   hot pages on a far node (memory-only, or a tier above 0) that were accessed in two
 *             intervals or more (one burst of writes is no sign of use; one will do with
 *             seen_once) are promoted to a near node: the one accessing them most, else the
 *             home node, else the nearest near node, as long as the target stays above its
 *             watermark. Cold pages (score < cold_score, not just allocated) on a near node
 *             below its watermark are demoted to the nearest farther node, coldest first, until
 *             the bytes planned away would bring the node back to its watermark. Pages that
 *             left the snapshot are not known and never demoted.
 *   pin       every sampled page outside pin_nodes (whatever its score) goes back: to pin_target,
 *             or to the allowed pin node nearest to where the page is (one with room first).
 *   ignore    nothing is planned and the history does not record the process.
 *
 * Guards, for every policy, in the order they are checked (the first that refuses a move is the
 * skip reason counted):
 *
 *   not allowed  the target is outside mems_allowed, policy_nodes or the nodes with memory;
 *   frozen       the page ping-ponged: left alone for freeze_ms (PAGEMIG_SKIP_PINGPONG);
 *   other mover  another mover changed the page's node: left alone for cooldown_ms; with kernel
 *                NUMA balancing on, never moved back to the node it was taken from while the
 *                history remembers the page (PAGEMIG_SKIP_OTHER_MOVER);
 *   ping-pong    the move would take the page back where pagemig moved it from, within
 *                pingpong_intervals intervals of that move: the page is frozen and counted
 *                (under locality, while the process runs most on the page's wanted node
 *                without holding min_share there, it waits for the cooldown instead);
 *   cooldown     pagemig moved the page less than cooldown_ms ago;
 *   (under locality, a page going to the process's home node once the process has had a new
 *   clear home since the page moved is exempt from ping-pong and cooldown: a new phase; a
 *   home that only fell short of min_share for a while and came back is not new);
 *   refused      the kernel refused the same move less than freeze_ms ago, for a reason that
 *                lasts (see pagemig_policy_history_refused());
 *   then, hottest first (urgent demotions first, coldest first; whole-process requests last,
 *   largest first; ties by target node, tgid, address):
 *   rate         the plan's byte budget (rate_bytes_per_s x budget_ms, by default the
 *                interval) is spent;
 *   watermark    the target would fall below its watermark: mem_free - planned >=
 *                watermark_pct x mem_total must hold after the move. Bytes planned away from a
 *                node are not credited to it (the moves may fail).
 *
 * Cost: one sequential pass over each process's entries merged with its history records, then
 * selection of the budget's worth of candidates and a sort of those only. O(n) for n entries
 * plus O(k log k) for the k moves planned (O(n log n) without a rate limit). No allocation per
 * page: arrays in the plan and history grow and are reused.
 */
#ifndef PAGEMIG_DAEMON_POLICY_H
#define PAGEMIG_DAEMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampler.h"
#include "topology.h"

/* Defaults the engine uses for parameters left at 0. */
#define PAGEMIG_POLICY_DEF_HOT_SCORE	 1.0
#define PAGEMIG_POLICY_DEF_COLD_SCORE	 0.25
#define PAGEMIG_POLICY_DEF_MIN_SHARE	 0.75
#define PAGEMIG_POLICY_DEF_FREEZE_MS	 300000 /* 5 min, numad's re-evaluation period */
#define PAGEMIG_POLICY_DEF_PAGE_SIZE	 4096
#define PAGEMIG_POLICY_DEF_HISTORY_PAGES 131072 /* twice the sampler's default snapshot */

/* ---- rules (filled by the configuration parser) ------------------------------------------- */

enum pagemig_policy_type {
	PAGEMIG_POLICY_LOCALITY = 0, /* hot pages to the node that accesses them (or home node) */
	PAGEMIG_POLICY_TIERING,	     /* promote hot far pages, demote cold near pages */
	PAGEMIG_POLICY_PIN,	     /* keep memory on the given nodes */
	PAGEMIG_POLICY_IGNORE,	     /* never touch */
	PAGEMIG_POLICY__COUNT
};

#define PAGEMIG_RULE_NAME_MAX 64
#define PAGEMIG_RULE_PATH_MAX 256

/* One [policy NAME] section. A process is governed by the first rule (in file order) whose
 * every given criterion matches. */
struct pagemig_policy_rule {
	char name[PAGEMIG_RULE_NAME_MAX];
	/* match: unset criteria (0 / empty) match everything */
	pid_t match_pid;
	char match_comm[16];			  /* fnmatch(3) pattern on /proc/PID/comm */
	char match_exe[PAGEMIG_RULE_PATH_MAX];	  /* fnmatch(3) pattern on /proc/PID/exe */
	char match_cgroup[PAGEMIG_RULE_PATH_MAX]; /* cgroup v2 path; matches it and below */
	uint64_t match_min_rss;			  /* bytes resident at least */
	enum pagemig_policy_type type;
	/* parameters; 0 means the default named in the comment */
	double hot_score;   /* locality, tiering: a page is hot from this decayed score (1.0) */
	double cold_score;  /* tiering: a known page is cold below this score (0.25) */
	double min_share;   /* locality: share of a page's accesses its top node needs, else the
			       page is shared and stays put (0.75); also the share of on-CPU time
			       the home node needs */
	uint64_t pin_nodes; /* pin: allowed nodes (bit per node id), required; none = no moves */
	int pin_target;	    /* pin: where strays go; -1 = nearest allowed node with room */
};

/* Guards and limits that apply to every rule (the [migrate] section and friends). */
struct pagemig_policy_config {
	const struct pagemig_policy_rule *rules;
	size_t n_rules;
	uint64_t rate_bytes_per_s;	 /* move at most this much per second (0 = no limit) */
	uint64_t cooldown_ms;		 /* a page moved is left alone this long */
	unsigned int pingpong_intervals; /* moved back within this many intervals: frozen
					    (0 = no ping-pong detection) */
	double watermark_pct[PAGEMIG_TOPO_MAX_NODES]; /* keep this % of each node free */
	uint64_t freeze_ms; /* a frozen page is left alone this long (0 = 5 min) */
};

/* ---- input ------------------------------------------------------------------------------- */

/* One managed process, as the daemon found it this interval. */
struct pagemig_policy_proc {
	pid_t tgid;
	int rule;	       /* index into rules; the daemon matched it (out of range: ignored) */
	uint64_t mems_allowed; /* nodes its cpuset allows (0 = not known: no restriction) */
	uint64_t policy_nodes; /* nodes its memory policy allows (all if none binds it;
				  0 = not known: no restriction) */
	uint64_t rss_pages;    /* resident pages (sizes whole-process requests) */
	/* the snapshot's entries for this process, sorted by (page, node, source); the engine
	 * refuses (-EINVAL) entries whose pages go backwards */
	const struct pagemig_page_score *pages;
	size_t n_pages;
	/* where each of those entries' page is now (a node, or -1 when not resident / unknown);
	 * the engine reads the value of each page's first entry */
	const int16_t *resident;
	const struct pagemig_oncpu_score *oncpu; /* sorted by node */
	size_t n_oncpu;
	/* pages holds only some of the process's sampled pages, those whose samples changed
	 * since an earlier plan (a top-up while that plan's moves run): the records of the pages
	 * left out are kept as they are, guards or not, and no whole-process request is made;
	 * the plan's counts for the process cover the pages given */
	bool partial;
	/* under locality, when moved is set: the node (with CPUs) the process was seen to move
	 * to since its last clear home, by a watch shorter than an interval (the daemon's
	 * departure watch). It is the process's home for this plan, and a page accessed in the
	 * last interval from there follows it whatever its older scores say: right after a move
	 * its decayed on-CPU time and the scores of its pages still point to where it was, and
	 * the interval that saw the move has samples from both nodes (the watch has the process
	 * on moved_to for nine tenths of its time and more) */
	bool moved;
	int moved_to;
};

/*
 * What the policy remembers between intervals, owned by the caller; pure (no syscalls) like the
 * engine. Per page of a process: the node it was last seen on, and the last thing that happened
 * to it (moved by pagemig from -> to, moved by another mover, frozen) with its time. Per process:
 * whole-process requests done, and counts of pages frozen and moved by others.
 *
 * Per process, records sorted by page address (24 bytes each), which the plan merges with the
 * process's snapshot entries in one sequential pass: O(1) a page, without the cache and TLB miss
 * per page a hash table costs. A record is kept while its page is sampled, or while its last
 * event still guards it (cooldown, freeze, another mover's move); the others are dropped.
 *
 * Bounded: at most max_pages records; sampled pages beyond that get none (counted in evicted;
 * they are planned like pages never seen, without other-mover detection). Moves reported between
 * two plans wait in a per-process list, O(1) each, at most max_pages of them. Size the
 * history at least as large as the sampler's snapshot (max_snapshot). Forgetting a process frees
 * its records at once.
 */
struct pagemig_policy_history;

/* max_pages 0 means PAGEMIG_POLICY_DEF_HISTORY_PAGES. NULL when out of memory. */
struct pagemig_policy_history *pagemig_policy_history_new(size_t max_pages);
/* NULL is fine. */
void pagemig_policy_history_free(struct pagemig_policy_history *h);
/* The executor moved (tgid, page) from -> to at now_ms (same clock as the input's now_ms; the
 * daemon uses CLOCK_MONOTONIC). page PAGEMIG_PLAN_WHOLE_PROCESS: a whole-process request to to
 * completed. h NULL is fine. */
void pagemig_policy_history_moved(struct pagemig_policy_history *h, pid_t tgid, uint64_t page,
				  int from, int to, uint64_t now_ms);
/* The kernel refused to move page of tgid to `to` for a reason that lasts (the page is mapped by
 * other processes, not migratable, not present): the same move is not planned again for
 * freeze_ms (PAGEMIG_SKIP_REFUSED), so one such page does not come back in every plan (and keep
 * its process from settling). now_ms as for
 * pagemig_policy_history_moved(). h NULL is fine. */
void pagemig_policy_history_refused(struct pagemig_policy_history *h, pid_t tgid, uint64_t page,
				    int to, uint64_t now_ms);
/* Forget a process (it exited): call it before a new process can be planned under the same
 * tgid, or the new one inherits the old one's cooldowns. h NULL is fine. */
void pagemig_policy_history_forget(struct pagemig_policy_history *h, pid_t tgid);

/*
 * Whether every access sampled in the last interval among a process's entries (weight > 0, a
 * known accessing node; pages sorted as in pagemig_policy_proc.pages) was to a page that the
 * last plan saw on the accessing node, or that is refused or frozen (its move is not asked for
 * until the freeze ends), and no move of the process was reported since. For a
 * process whose last plan had nothing for it, a new plan would then most likely have nothing
 * either - but for a page another mover moved since, which only a plan asking where the pages
 * are would see. False without a record of the process or of any such page. Pure, O(n + its
 * records).
 */
bool pagemig_policy_history_fresh_local(const struct pagemig_policy_history *h, pid_t tgid,
					const struct pagemig_page_score *pages, size_t n);

struct pagemig_policy_history_stats {
	size_t pages;	   /* page records and pending moves held */
	size_t max_pages;  /* the bound on records */
	size_t procs;	   /* processes remembered */
	uint64_t inserted; /* page records ever created */
	uint64_t evicted;  /* records and moves not kept because of the bounds */
	size_t bytes;	   /* memory held by the history */
};

void pagemig_policy_history_stats(const struct pagemig_policy_history *h,
				  struct pagemig_policy_history_stats *ret);

struct pagemig_policy_input {
	const struct pagemig_topology *topo;
	const struct pagemig_policy_config *cfg;
	const struct pagemig_policy_proc *procs;
	size_t n_procs;
	struct pagemig_policy_history *history; /* updated by the plan (see above); NULL: no
						   history-based guards */
	uint64_t now_ms;
	uint64_t interval_ms;
	uint64_t budget_ms;  /* the time a plan's byte budget covers: rate_bytes_per_s x budget_ms
				(0 = interval_ms; see rate below) */
	bool numa_balancing; /* kernel NUMA balancing is on: its moves are never undone */
	uint32_t page_size;  /* bytes in a base page (0 = 4096) */
	bool whole_process;  /* the executor expands PAGEMIG_PLAN_WHOLE_PROCESS moves: plan them */
	bool seen_once;	     /* the sampler sees a page at most once (no soft-dirty re-arming, no
				hardware samples, no hinting faults): one interval with accesses
				is all a page can have, and tiering promotes on it */
};

/* ---- output ------------------------------------------------------------------------------ */

enum pagemig_move_reason {
	PAGEMIG_REASON_LOCAL_PAGE = 0, /* locality: the node that accesses the page most */
	PAGEMIG_REASON_HOME_NODE,      /* locality: where the process runs most (no page data) */
	PAGEMIG_REASON_PROMOTE,	       /* tiering: hot page up from a far node */
	PAGEMIG_REASON_DEMOTE,	       /* tiering: cold page down to a far node */
	PAGEMIG_REASON_PIN,	       /* pin: stray page back to an allowed node */
	PAGEMIG_REASON__COUNT
};

/* Why a candidate move was not planned. */
enum pagemig_policy_skip {
	PAGEMIG_SKIP_COOLDOWN = 0, /* moved too recently */
	PAGEMIG_SKIP_PINGPONG,	   /* would move back where it came from: frozen */
	PAGEMIG_SKIP_SHARED,	   /* accessed from several nodes */
	PAGEMIG_SKIP_RATE,	   /* over the interval's byte budget */
	PAGEMIG_SKIP_WATERMARK,	   /* target node below its free-memory watermark */
	PAGEMIG_SKIP_NOT_ALLOWED,  /* target outside mems_allowed or the memory policy */
	PAGEMIG_SKIP_OTHER_MOVER,  /* another mover (e.g. NUMA balancing) moved it: left alone */
	PAGEMIG_SKIP_REFUSED,	   /* the kernel refused to move it lately (shared, not migratable) */
	PAGEMIG_SKIP_UNCONFIRMED,  /* seen used in one interval only: a hot far page (tiering), a
				      page of a process without a clear home (locality) */
	PAGEMIG_SKIP__COUNT
};

/*
 * A move's page is PAGEMIG_PLAN_WHOLE_PROCESS (never a page address: not page aligned) for a
 * whole-process request: move up to npages of the process's resident pages that are not on to
 * (from is -1), like pagemig_move_process() stopped after npages. Planned only when the input's
 * whole_process is set; report completion with pagemig_policy_history_moved(..., to) so the
 * request is not repeated.
 */
#define PAGEMIG_PLAN_WHOLE_PROCESS UINT64_MAX

struct pagemig_plan_move {
	pid_t tgid;
	uint32_t npages; /* 1; for a whole-process request, the most pages it may move */
	uint64_t page;
	int16_t from;
	int16_t to;
	uint8_t reason; /* enum pagemig_move_reason */
	/* 1: the move takes the page to where the process ran when it was planned (locality, its
	 * home): it loses its point once the process has left that node. 0: any other target, a
	 * page written from another node by a thread of the process included */
	uint8_t follows;
	uint16_t rule;	/* index into rules */
	double score;	/* the page's score (priority: hottest first); for a whole-process request
			   the process's resident pages */
};

/* What the engine saw of one input process this interval (for pagemigctl procs). */
struct pagemig_plan_proc {
	pid_t tgid;
	int rule;	      /* as in the input */
	uint8_t type;	      /* enum pagemig_policy_type applied (IGNORE for a bad rule index) */
	int8_t home;	      /* node it ran on most (on-CPU score); -1 without on-CPU data */
	double home_share;    /* home's share of its on-CPU score (0 without) */
	double local_share;   /* score on the node where each page resides / total score, over pages
				 with a known node and accesses from known nodes; -1 without such */
	uint64_t pages;	      /* distinct sampled pages */
	uint64_t resident;    /* of those, pages with a known node */
	uint64_t hot;	      /* score >= hot_score */
	uint64_t cold;	      /* score < cold_score */
	uint64_t shared;      /* hot pages without a node holding min_share of their score */
	uint64_t planned;     /* pages planned to move this interval */
	uint64_t skipped;     /* candidate moves not planned this interval */
	uint64_t deferred;    /* of those, skipped for cooldown, rate or watermark: a later plan
				 may take them with no new sample */
	uint64_t unconfirmed; /* of the skipped, PAGEMIG_SKIP_UNCONFIRMED: sampling the process
				 again soon (pagemig_sampler_rearm_early) settles them sooner */
	uint64_t frozen;      /* pages frozen for ping-pong since the history knows the process */
	uint64_t other_moved; /* pages other movers moved since the history knows the process */
};

/* The engine's reusable work arrays (candidates, sort keys), kept in the plan between calls. */
struct pagemig_policy_scratch;

/* Zero-initialise before the first pagemig_policy_plan(); reuse it every interval. */
struct pagemig_plan {
	struct pagemig_plan_move *moves; /* in priority order: execute front to back */
	size_t n_moves;
	size_t cap;
	uint64_t bytes;				     /* planned */
	uint64_t skipped[PAGEMIG_SKIP__COUNT];	     /* candidates not planned, by why */
	uint64_t by_reason[PAGEMIG_REASON__COUNT];   /* pages planned, by reason */
	uint64_t candidates;			     /* moves wanted before any guard */
	uint64_t budget_bytes;			     /* the interval's budget (0 = no limit) */
	uint64_t other_moved;			     /* pages seen moved by another mover now */
	uint64_t planned_to[PAGEMIG_TOPO_MAX_NODES]; /* bytes planned onto each node */
	struct pagemig_plan_proc *procs;	     /* one per input process, input order */
	size_t n_procs;
	size_t procs_cap;
	struct pagemig_policy_scratch *scratch;
};

/*
 * Where a process runs, from its on-CPU entries (sorted by node): the node with the most decayed
 * on-CPU time (pagemig_oncpu_score.score), unless one node has min_share (0: the default) of its
 * recent time (.recent, halved every interval) and that time adds up to min_recent_ns at least:
 * then that one. *share is the returned node's share (of the recent time in the second case, or
 * of the decayed time if that is larger); it is a clear home when *share >= min_share. Returns
 * -1 without on-CPU time.
 *
 * Why both: when all of a process's threads move to another node (a new phase), the decayed
 * score takes two half-lives to give the new node min_share = 0.75 (8 s at a 4 s half-life, 20 s
 * at the default 10 s), the recent time two intervals; one interval elsewhere (1/2) is not
 * enough. Threads spread over nodes give neither measure min_share, as before. The floor keeps
 * a mostly idle process on its decayed home: after a long sleep the recent time is its last
 * wake-up alone, wherever the scheduler put it (PAGEMIG_POLICY_RECENT_NS: a quarter of one CPU
 * on average, the recent time of one busy CPU being twice the interval).
 */
int pagemig_policy_home(const struct pagemig_oncpu_score *oncpu, size_t n, double min_share,
			double min_recent_ns, double *share);
#define PAGEMIG_POLICY_RECENT_NS(interval_ms) ((double)(interval_ms) * 1e6 / 2)

/*
 * Whether some near node (not memory-only, not a farther tier) has less free memory now than
 * its watermark_pct keeps: tiering has cold pages to demote off it, whatever was sampled. The
 * daemon replans a settled tiering process without new samples only then.
 */
bool pagemig_policy_near_short(const struct pagemig_topology *t,
			       const struct pagemig_policy_config *cfg);

/* Names for logs and pagemigctl: "local_page", "cooldown", "locality", ...; "?" out of range. */
const char *pagemig_move_reason_name(enum pagemig_move_reason r);
const char *pagemig_policy_skip_name(enum pagemig_policy_skip s);
const char *pagemig_policy_type_name(enum pagemig_policy_type t);

/* Compute the plan for one interval into plan (reset first; its arrays grow as needed and are
 * kept). Returns 0; -EINVAL for a malformed input (NULL topology or config, entries of a
 * process out of order), -ENOMEM; on error the plan holds no moves. */
int pagemig_policy_plan(const struct pagemig_policy_input *in, struct pagemig_plan *plan);

/* Bytes the plan's arrays hold (moves, summaries, scratch). */
size_t pagemig_plan_memory(const struct pagemig_plan *plan);

/* Free the plan's arrays and zero it; NULL is fine. */
void pagemig_plan_free(struct pagemig_plan *plan);

#endif
