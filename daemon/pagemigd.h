/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagemigd's state, shared by its main loop (pagemigd.c), its cycle (cycle.c) and its control
 * commands (commands.c). */
#ifndef PAGEMIG_DAEMON_PAGEMIGD_H
#define PAGEMIG_DAEMON_PAGEMIGD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "control.h"
#include "executor.h"
#include "left_node.h"
#include "policy.h"
#include "procs.h"
#include "sampler.h"
#include "topology.h"

/* A process the daemon manages: matched by a rule that is not "ignore". */
struct managed {
	pid_t pid;
	int pidfd;	     /* held while managed: moves are refused once it names another process */
	uint64_t start_time; /* from /proc/PID/stat: a new process under an old pid is a new entry */
	int rule;
	char comm[16];
	uint64_t mems_allowed;
	uint64_t policy_nodes;
	uint64_t rss_pages;
	uint64_t since_ms;
	bool seen; /* found by the latest scan */
	/* from the latest cycle */
	uint64_t pages_known;	 /* sampled pages with a known residence */
	uint64_t pages_on[PAGEMIG_TOPO_MAX_NODES]; /* sampled pages resident per node */
	double local_share;	 /* access score on the node holding the page / all score */
	int home_node;		 /* where it ran most (-1 unknown) */
	bool home_clear;	 /* home_node has min_share of its on-CPU time */
	int settled_home;	 /* pagemigd_place() when the last plan had nothing for it, else
				    PAGEMIGD_NOT_SETTLED */
	bool planned;		 /* the latest plan has moves for it */
	uint64_t deferred;	 /* candidates its latest plan deferred (cooldown, rate, watermark) */
	uint64_t unconfirmed;	 /* hot far pages its latest plan waits to sample again (tiering) */
	uint64_t pending;	 /* its moves the executor still has to run (at the latest drain) */
	int pending_to;		 /* the node most of those moves go to (-1: none) */
	bool held;		 /* its re-arming is held: more pending than an interval does */
	int held_home;		 /* home_node when the hold began */
	bool replanned;		 /* in the latest plan's input (not left out as held or settled) */
	bool topped_up;		 /* ... with only its pages first hot since the plan before */
	uint64_t full_plan_ms;	 /* when it was last planned with all of its sampled pages */
	struct left_node_window left; /* where it ran lately (executor's wanted check) */
	int left_said;		      /* the node it was last logged to have left (-1: none) */
	int departed;		      /* the home the watch last saw it leave (-1: none) */
	bool moved;		      /* the watch saw it move to moved_to since its last clear
					 home (pagemig_policy_proc.moved_to) */
	int moved_to;
	uint64_t moved_ms;	      /* when the watch saw it move (mono_ms) */
	uint64_t off_home_settled;    /* its anonymous pages off settled_home when it settled
					 (all of them when spread; settled_rearm.c);
					 UINT64_MAX: not known */
	/* since managed: pages moved onto their target / not (commands.c accounts them) */
	uint64_t pages_moved, pages_failed;
};

#define PAGEMIGD_NOT_SETTLED (-2)
#define PAGEMIGD_PLACE_SPREAD (-3)

/*
 * Where a process runs, as far as settling goes: its home node when that is clear (min_share of
 * its on-CPU time), PAGEMIGD_PLACE_SPREAD when its threads share several nodes with none clear,
 * -1 without on-CPU time. A spread process whose busiest node changes from one interval to the
 * next has not moved: threads on two nodes take turns at being the busiest under load.
 */
static inline int pagemigd_place(const struct managed *m)
{
	return m->home_node < 0 ? -1 : m->home_clear ? m->home_node : PAGEMIGD_PLACE_SPREAD;
}

/* Whether m has settled: the last plan had nothing for it and it runs where it ran then. */
static inline bool pagemigd_settled(const struct managed *m)
{
	return m->settled_home != PAGEMIGD_NOT_SETTLED && m->settled_home == pagemigd_place(m);
}

struct pagemigd {
	/* configuration */
	char config_path[4096];
	const char *socket_override;
	bool force_observe;
	bool foreground;
	struct pagemig_config cfg;
	/* machine */
	struct pagemig_topology topo;
	char online_sig[256]; /* /sys node and CPU online lists: a change reloads the topology */
	/* parts */
	struct pagemig_sampler *sampler;
	struct pagemig_policy_history *history;
	struct executor *exec;
	struct control_server *ctl;
	struct commands_state *cmds; /* manual moves, accounting, metrics outputs (commands.c) */
	int epfd, sigfd, timerfd, watchdogfd;
	/* managed processes, sorted by pid */
	struct managed *procs;
	size_t n_procs, cap_procs;
	struct procs_cache proc_cache; /* what the scans read of every process (procs.h) */
	/* the cycle */
	struct pagemig_plan plan;
	struct pagemig_policy_proc *pin;   /* policy input, one per process planned this cycle */
	size_t *pin_proc;		   /* index in procs[] of each pin[] entry */
	size_t n_pin;
	int16_t *resident;		   /* residence of each snapshot entry */
	size_t cap_resident;
	struct pagemig_page_score *subset; /* a top-up's entries (pagemig_policy_proc.partial) */
	size_t cap_subset;
	uint64_t planned_seq; /* the snapshot (pagemig_snapshot.seq) the latest plan was made from */
	uint64_t full_plan_ms; /* when the latest plan that was no top-up was made */
	uint64_t cycles;
	uint64_t plans_skipped; /* processes not planned in a cycle: settled or held, nothing new */
	uint64_t plans_topped_up; /* processes planned with their newly accessed pages only */
	uint64_t departures;	  /* processes the watch saw leave their home */
	uint64_t cycles_soon;	  /* cycles brought forward (pagemigd_cycle_soon) */
	bool soon_pending;	  /* the timer is set for a cycle brought forward */
	unsigned int soon_run;	  /* cycles brought forward in a row, up to the latest */
	uint64_t first_seen_since_plan; /* pages newly hot (snapshot n_first_seen) since the plan */
	uint64_t last_cycle_ns;
	uint64_t start_ms;
	bool paused;
	bool stopping;
	double local_share; /* over every managed process */
	bool reload_failed; /* the latest reload was refused: the status line says so */
	char status_line[512];
};

/* The mode in force: observe when configured or forced on the command line. */
bool pagemigd_observing(const struct pagemigd *d);

/* One policy cycle: topology, process scan, sampler drain, residence, plan, submit. */
int pagemigd_cycle(struct pagemigd *d);

/* The managed process with this pid, or NULL: a binary search, the table being sorted by pid
 * outside a scan (cycle.c). */
struct managed *pagemigd_find_proc(const struct pagemigd *d, pid_t pid);

/*
 * The executor's wanted check (exec_wanted_fn, ctx the daemon): whether process tgid still runs
 * on node to, from its on-CPU time in the last half second or so (left_node.h), when to is
 * where it ran (its home at the last cycle, the home the departure watch saw it leave, or
 * where the watch saw it go). The
 * kernel's counters are read only when a window can close. Without the on-CPU source, for a
 * node without CPUs, or for a move to another node (a page written by a thread there), always
 * yes. The first no for a node is logged and re-arms the process.
 */
bool pagemigd_exec_wanted(void *ctx, pid_t tgid, int to);

/*
 * The departure watch, called from the loop at the time it returned last (0 at first): a
 * locality-managed process that the last cycle found on a clear home and that has left it
 * (left_node()) is re-armed at once, and the next cycle comes a second later instead of at
 * the end of its interval; logged, counted in departures, once per departure. The node it
 * runs on now, if one, is its home for the plans until the cycles' own estimate agrees
 * (managed.moved_to), and then the node watched; or until that estimate, four intervals after
 * the move, finds no clear home (cycle.c, moved_expired()). With the
 * shipped 5 s interval, the cycles took two intervals to see that a process had changed node,
 * and a workload switching every 20 s had its pages local for a second of each phase. Returns
 * when to call it again (LEFT_NODE_WINDOW_MS on).
 */
uint64_t pagemigd_watch_departures(struct pagemigd *d, uint64_t now);

/*
 * Cycles brought forward (cycle_soon.c). pagemigd_cycle_soon() makes the next cycle come in a
 * second (then every interval from there), for a process whose writes were just re-armed: not
 * sooner, even when one was due sooner, or the drain would come before the writes. A cycle
 * already brought forward stays where it is, so that these calls cannot put the cycles off for
 * good. Returns whether it set the timer. pagemigd_cycle_started() is called as a cycle begins.
 * pagemigd_cycle_soon_for_pages() brings the next cycle forward after a drain that armed memory
 * of a process for the first time (armed_new re-arms: a new process, or one that grew), or when
 * unconfirmed hot far pages wait for their second sample: only where the interval is longer
 * than that second, at most two such cycles in a row, with two memory nodes or more, not paused.
 */
bool pagemigd_cycle_soon(struct pagemigd *d);
void pagemigd_cycle_started(struct pagemigd *d);
void pagemigd_cycle_soon_for_pages(struct pagemigd *d, uint64_t armed_new, uint64_t unconfirmed);

/*
 * Settled re-arms (settled_rearm.c). pagemigd_note_settled() is told, cycle by cycle, whether m
 * has settled; a locality process settled on a clear home has its anonymous memory off that
 * node read (/proc/PID/numa_maps) as it settles, one settled spread over nodes all of its
 * anonymous memory. pagemigd_rearm_settled() is the sampler's rearm_settled (ctx the daemon):
 * false, skipping a due re-arm of a settled process, when such a process has no more of that
 * memory than then; true otherwise, and for every other process or policy.
 */
void pagemigd_note_settled(const struct pagemigd *d, struct managed *m, bool settled);
bool pagemigd_rearm_settled(void *ctx, pid_t tgid);

/* Stop managing every process (on exit or when the sampler goes away). */
void pagemigd_unmanage_all(struct pagemigd *d);

/* Reload the configuration file (SIGHUP, pagemigctl reload). Returns 0, or -errno when the file
 * has errors or cannot be read: the running configuration then stays. */
int pagemigd_reload(struct pagemigd *d);

/* The control commands (status, ...), NULL-terminated. */
extern const struct control_command pagemigd_commands[];

#endif
