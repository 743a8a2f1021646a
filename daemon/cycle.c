// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One policy cycle: refresh the topology, find the processes the rules manage, drain the
 * sampler, ask where the sampled pages are, let the policy engine plan, hand the plan to the
 * executor. Everything here may fail for one process without stopping the others.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pagemigd.h"
#include "procs.h"
#include "clock.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

bool pagemigd_observing(const struct pagemigd *d)
{
	return d->force_observe || d->cfg.mode == PAGEMIG_MODE_OBSERVE;
}

/* ---- topology ------------------------------------------------------------------------------ */

/* CPUs or memory went on- or offline: the lists in sysfs changed. */
static bool online_changed(struct pagemigd *d)
{
	static const char *const files[] = {"/sys/devices/system/node/has_memory",
					    "/sys/devices/system/cpu/online"};
	char sig[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		if (fgets(sig + used, (int)(sizeof(sig) - used), f))
			used = strlen(sig);
		fclose(f);
	}
	if (!strcmp(sig, d->online_sig))
		return false;
	snprintf(d->online_sig, sizeof(d->online_sig), "%s", sig);
	return true;
}

static void refresh_topology(struct pagemigd *d)
{
	int err;

	if (online_changed(d) && d->cycles) {
		struct pagemig_topology t;

		err = pagemig_topology_load(&t);
		if (err)
			log_errno(LOG_WARNING, err,
				  "CPUs or memory went on- or offline, but "
				  "reading the topology again failed");
		else {
			t.generation = d->topo.generation + 1;
			d->topo = t;
			log_notice("CPUs or memory went on- or offline: %d nodes, %d with memory",
				   t.nr_nodes, t.nr_memory);
		}
		return;
	}
	err = pagemig_topology_refresh_free(&d->topo);
	if (err)
		log_errno(LOG_DEBUG, err, "reading free memory per node");
}

/* ---- managed processes --------------------------------------------------------------------- */

/* Binary search among the first n entries, which are sorted by pid (a scan appends the
 * processes it adopts unsorted after them: searching those too could miss a pid and adopt it a
 * second time). */
static struct managed *find_proc(const struct pagemigd *d, size_t n, pid_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->procs[mid].pid == pid)
			return &d->procs[mid];
		if (d->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void release(struct pagemigd *d, struct managed *m)
{
	if (d->sampler)
		pagemig_sampler_unmanage(d->sampler, m->pid);
	pagemig_policy_history_forget(d->history, m->pid);
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pidfd = -1;
}

void pagemigd_unmanage_all(struct pagemigd *d)
{
	for (size_t i = 0; i < d->n_procs; i++)
		release(d, &d->procs[i]);
	d->n_procs = 0;
}

struct managed *pagemigd_find_proc(const struct pagemigd *d, pid_t pid)
{
	return find_proc(d, d->n_procs, pid);
}

static int cmp_pid(const void *a, const void *b)
{
	const struct managed *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Start managing p under rule; appended unsorted, sorted after the scan. */
static void adopt(struct pagemigd *d, const struct proc_info *p, int rule)
{
	struct managed *m;
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);

	if (fd < 0) {
		/* ESRCH: gone already. Anything else (EMFILE: one pidfd per managed process
		 * against RLIMIT_NOFILE; ENOSYS) leaves it unmanaged: say so, once per cause. */
		static int said;

		if (errno != ESRCH && errno != said) {
			said = errno;
			log_errno(LOG_WARNING, errno, "cannot manage process %d (%s): pidfd_open",
				  (int)p->pid, p->comm);
		}
		return;
	}
	if (d->n_procs == d->cap_procs) {
		size_t cap = d->cap_procs ? d->cap_procs * 2 : 64;
		struct managed *n = realloc(d->procs, cap * sizeof(*n));

		if (!n) {
			close(fd);
			return;
		}
		d->procs = n;
		d->cap_procs = cap;
	}
	m = &d->procs[d->n_procs++];
	memset(m, 0, sizeof(*m));
	m->pid = p->pid;
	m->pidfd = fd;
	m->start_time = p->start_time;
	m->rule = rule;
	m->seen = true;
	m->home_node = -1;
	m->left_said = -1;
	m->departed = -1;
	m->moved_to = -1;
	m->settled_home = PAGEMIGD_NOT_SETTLED;
	m->off_home_settled = UINT64_MAX;
	m->since_ms = mono_ms();
	snprintf(m->comm, sizeof(m->comm), "%s", p->comm);
	m->mems_allowed = p->mems_allowed & pagemig_topology_memory_mask(&d->topo);
	m->policy_nodes =
		procs_policy_nodes("/proc", p->pid, pagemig_topology_memory_mask(&d->topo));
	m->rss_pages = p->rss_bytes / (uint64_t)sysconf(_SC_PAGESIZE);
	if (d->sampler) {
		int err = pagemig_sampler_manage(d->sampler, p->pid);

		if (err)
			log_errno(LOG_WARNING, err, "sampling process %d (%s)", (int)p->pid,
				  p->comm);
	}
	log_msg(LOG_INFO,
		&(struct log_fields){
			.policy = d->cfg.rules[rule].name, .pid = p->pid, .node = -1, .pages = -1},
		"managing process %d (%s) with policy '%s' (%s)", (int)p->pid, p->comm,
		d->cfg.rules[rule].name, pagemig_policy_type_name(d->cfg.rules[rule].type));
}

/* How long what a full read of /proc/PID found (executable, cgroup, cpuset nodes) is taken
 * as it was while the process's stat shows it unchanged (procs_cache_read()): the scan read
 * six files of every process at every cycle, half of the daemon's CPU time with 1000 managed
 * processes (bench/field/observations.md, case 4). */
#define PROCS_REFRESH_MS 10000

/* Find the processes the rules manage; drop those gone or no longer matched. */
static void scan_processes(struct pagemigd *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	size_t known = d->n_procs;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < d->n_procs; i++)
		d->procs[i].seen = false;
	while (dir && (de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct proc_info p;
		struct managed *m;
		int rule;

		if (*end || pid <= 0 || pid == self)
			continue;
		if (procs_cache_read(&d->proc_cache, "/proc", (pid_t)pid, now, PROCS_REFRESH_MS,
				     &p))
			continue;
		rule = procs_match(d->cfg.rules, d->cfg.n_rules, &p);
		if (rule >= 0 && d->cfg.rules[rule].type == PAGEMIG_POLICY_IGNORE)
			rule = -1;
		m = known ? find_proc(d, known, (pid_t)pid) : NULL;
		if (m && m->pidfd >= 0 && (m->start_time != p.start_time || m->rule != rule)) {
			/* a new process under that pid, or another rule: start over */
			log_msg(LOG_INFO,
				&(struct log_fields){.pid = m->pid, .node = -1, .pages = -1},
				m->start_time != p.start_time
					? "process %d (%s) exited, and its pid names another "
					  "process"
					: "process %d (%s) no longer matches its policy",
				(int)m->pid, m->comm);
			release(d, m);
		}
		if (m && m->pidfd >= 0) {
			m->seen = true;
			m->rss_pages = p.rss_bytes / (uint64_t)sysconf(_SC_PAGESIZE);
			m->mems_allowed = p.mems_allowed & pagemig_topology_memory_mask(&d->topo);
			continue;
		}
		if (rule >= 0)
			adopt(d, &p, rule);
	}
	if (dir)
		closedir(dir);
	procs_cache_end_scan(&d->proc_cache);

	/* drop what was not seen (exited) or released above */
	size_t w = 0;
	for (size_t i = 0; i < d->n_procs; i++) {
		struct managed *m = &d->procs[i];

		if (!m->seen || m->pidfd < 0) {
			if (m->pidfd >= 0) {
				log_msg(LOG_INFO,
					&(struct log_fields){
						.pid = m->pid, .node = -1, .pages = -1},
					"process %d (%s) exited", (int)m->pid, m->comm);
				release(d, m);
			}
			continue;
		}
		d->procs[w++] = *m;
	}
	d->n_procs = w;
	if (d->n_procs)
		qsort(d->procs, d->n_procs, sizeof(*d->procs), cmp_pid);
}

/* ---- residence of sampled pages ------------------------------------------------------------ */

static int grow_resident(struct pagemigd *d, size_t n)
{
	int16_t *r;

	if (n <= d->cap_resident)
		return 0;
	r = realloc(d->resident, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	d->resident = r;
	d->cap_resident = n;
	return 0;
}

/* Ask where the distinct pages of one process's snapshot entries are; counted into m's
 * residence (pages_on, pages_known) unless m is NULL. */
static void query_residence(pid_t pid, const struct pagemig_page_score *pages, size_t n,
			    int16_t *out, struct managed *m)
{
	enum { CHUNK = 1024 };
	void *addr[CHUNK];
	int st[CHUNK];
	size_t first[CHUNK];
	size_t i = 0;

	if (m) {
		memset(m->pages_on, 0, sizeof(m->pages_on));
		m->pages_known = 0;
	}
	while (i < n) {
		size_t k = 0;

		/* entries of one page are adjacent (sorted by page, then node) */
		while (i < n && k < CHUNK) {
			first[k] = i;
			addr[k++] = (void *)(uintptr_t)pages[i].page;
			uint64_t pg = pages[i].page;
			while (i < n && pages[i].page == pg)
				i++;
		}
		if (pagemig_query(pid, k, addr, st) < 0)
			for (size_t j = 0; j < k; j++)
				st[j] = -1;
		for (size_t j = 0; j < k; j++) {
			size_t end = j + 1 < k ? first[j + 1] : i;
			int16_t node =
				st[j] >= 0 && st[j] < PAGEMIG_TOPO_MAX_NODES ? (int16_t)st[j] : -1;

			for (size_t e = first[j]; e < end; e++)
				out[e] = node;
			if (node >= 0 && m) {
				m->pages_on[node]++;
				m->pages_known++;
			}
		}
	}
}

/* Local-access share of a process from its snapshot entries and their residence. */
static void summarise(struct managed *m, const struct pagemig_page_score *pages, size_t n,
		      const int16_t *res)
{
	double local = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		if (res[i] < 0 || pages[i].node == PAGEMIG_SAMPLER_NODE_UNKNOWN)
			continue;
		total += pages[i].score;
		if (pages[i].node == (uint16_t)res[i])
			local += pages[i].score;
	}
	m->local_share = total > 0 ? local / total : -1;
}

/* Where a process runs, as the policy engine sees it (pagemig_policy_home); -1 unknown. Sets
 * m->home_clear. */
static int home_node(const struct pagemigd *d, struct managed *m,
		     const struct pagemig_oncpu_score *oncpu, size_t n_oncpu)
{
	double min_share = d->cfg.rules[m->rule].min_share, share = 0;
	int home = pagemig_policy_home(oncpu, n_oncpu, min_share,
				       PAGEMIG_POLICY_RECENT_NS(d->cfg.interval_ms), &share);

	m->home_clear = home >= 0 && share >= (min_share > 0 ? min_share
							     : PAGEMIG_POLICY_DEF_MIN_SHARE);
	return home;
}

/* Whether some of these entries were sampled as an access for the first time this interval. */
static bool has_newly_hot(const struct pagemig_page_score *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pages[i].weight && pages[i].seen == 1)
			return true;
	return false;
}

/* Whether any of these entries scores: a page seen only by its first touch scores 0. */
static bool has_score(const struct pagemig_page_score *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pages[i].score > 0)
			return true;
	return false;
}

#define SETTLED_RECHECK_MS 60000

/*
 * Whether the accesses sampled of a settled process all went to pages on the accessing node
 * when its last plan looked (pagemig_policy_history_fresh_local), and that full plan is recent
 * (8 re-arm periods or a minute, whichever is longer): then it is not planned again. Every
 * re-arm of a settled process that writes its whole set brings every page back as a fresh
 * sample; planning it again asked where each is and found nothing to do, 330-470 ms a time for
 * a 256 MiB set under emulation (the static case, once local). A page another mover took away
 * meanwhile waits for the recheck.
 */
static bool settled_accesses_local(const struct pagemigd *d, const struct managed *m,
				   const struct pagemig_page_score *pages, size_t n)
{
	uint64_t recheck = 8ull * d->cfg.sampler.rearm_ms;

	if (recheck < SETTLED_RECHECK_MS)
		recheck = SETTLED_RECHECK_MS;
	return mono_ms() < m->full_plan_ms + recheck &&
	       pagemig_policy_history_fresh_local(d->history, m->pid, pages, n);
}

/* Whether an access of any of these entries was sampled in the last interval. */
static bool has_access(const struct pagemig_page_score *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pages[i].weight)
			return true;
	return false;
}

/*
 * Whether m is planned this cycle. Not when every sampled page of it was only first touched
 * (a process filling its memory): no such page can be a candidate, and asking the kernel where
 * each is cost up to half a second a cycle while a 1 GiB set was being allocated under
 * emulation. Its local share stays unknown, so it does not settle on them. Not while its
 * re-arming is held, it runs where it ran when the hold began (or where most of its pending
 * moves go) and no page of it was found hot for the first time (the write faults of its last
 * re-arm can come over several intervals): its pages have not been sampled since (their
 * scores wait, see pagemig_sampler_hold), so a new plan for it could only repeat the moves
 * still pending - at the cost of asking the kernel where each of its pages is, a second or more
 * for a 1 GiB set under emulation, every PLAN_MAX_AGE intervals. Its pending moves stand
 * (keeps_pending()). Nor when it had settled (its last plan had nothing for it
 * and it runs where it ran), that plan deferred no candidate (cooldown, rate limit, watermark)
 * and no access of it was sampled since (first touches of new pages are no accesses: see
 * pagemig_page_score.weight): its entries only decayed, and asking the kernel where
 * each of its pages is - most of a cycle's work for a big settled process - would give the same
 * plan, but for guards that expired meanwhile (a refusal, a freeze, another mover's move).
 * Those are looked at again with its next samples, at the latest 8 rearm periods or about a
 * minute later, whichever is longer. Its samples do not plan it again either while they are
 * all of pages on the accessing node when its last full plan looked
 * (settled_accesses_local()).
 * A tiering process is planned whenever a near node is short of free memory (near_short:
 * free memory alone makes it demote), and otherwise like a locality process but for the
 * last rule: a settled one is left alone until an access of it is sampled (a far page may be
 * hot again) or its last plan deferred a candidate. Planned every cycle, a settled 320 MiB
 * tiering process cost the daemon twice the CPU of the locality one of the same size (the
 * lab's tiering case against its static case, fast settings, 2026-11-28). Pin policies are
 * planned every cycle.
 */
static bool needs_plan(const struct pagemigd *d, const struct managed *m,
		       const struct pagemig_page_score *pages, size_t n, bool near_short)
{
	enum pagemig_policy_type type = d->cfg.rules[m->rule].type;

	if (!d->sampler)
		return true;
	if (type == PAGEMIG_POLICY_TIERING)
		return near_short || !pagemigd_settled(m) || m->deferred || has_access(pages, n);
	if (type != PAGEMIG_POLICY_LOCALITY)
		return true;
	if (n && !has_score(pages, n))
		return false; /* first touches only: see above */
	if (m->held && (m->home_node == m->held_home || m->home_node == m->pending_to) &&
	    !has_newly_hot(pages, n))
		return false; /* held: see above */
	if (!pagemigd_settled(m) || m->deferred)
		return true;
	return has_access(pages, n) && !settled_accesses_local(d, m, pages, n);
}

/*
 * A top-up's entries for one process (pagemig_policy_proc.partial): every entry of each page
 * first found hot (its first access sampled) in the last drains drains, copied to out; returns
 * how many. The plan before has seen the others hot: they are moved or pending, or it left them
 * for a reason (a guard, the rate, shared) that the next full plan looks at again. Not pages
 * merely accessed since: soft-dirty re-arming samples a busy process's every written page each
 * period, nearly all of its set.
 */
static size_t pick_newly_hot(const struct pagemig_page_score *pages, size_t n, uint64_t drains,
			     struct pagemig_page_score *out)
{
	size_t k = 0;

	for (size_t i = 0, end; i < n; i = end) {
		bool fresh = false;

		/* entries of one page are adjacent (sorted by page, then node) */
		for (end = i; end < n && pages[end].page == pages[i].page; end++)
			if (pages[end].first_access_age < drains)
				fresh = true;
		if (fresh) {
			memcpy(out + k, pages + i, (end - i) * sizeof(*out));
			k += end - i;
		}
	}
	return k;
}

/* Room for a top-up's entries and a second residence array after the snapshot's. */
static int grow_subset(struct pagemigd *d, size_t n)
{
	struct pagemig_page_score *v;
	int err = grow_resident(d, 2 * n);

	if (err || n <= d->cap_subset)
		return err;
	v = realloc(d->subset, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->subset = v;
	d->cap_subset = n;
	return 0;
}

/* One process's policy input, for its entries pages[0..n) and their residence res. */
static struct pagemig_policy_proc policy_proc(const struct managed *m,
					      const struct pagemig_page_score *pages, size_t n,
					      const int16_t *res,
					      const struct pagemig_oncpu_score *oncpu, size_t n_oncpu)
{
	return (struct pagemig_policy_proc){
		.tgid = m->pid,
		.rule = m->rule,
		.mems_allowed = m->mems_allowed,
		.policy_nodes = m->policy_nodes,
		.rss_pages = m->rss_pages,
		.pages = pages,
		.n_pages = n,
		.resident = res,
		.oncpu = oncpu,
		.n_oncpu = n_oncpu,
		.moved = m->moved,
		.moved_to = m->moved_to,
	};
}

/*
 * Whether the node the departure watch saw m move to stops being its home for the plans: when
 * the cycles' estimate agrees (it is then the home the watch follows), or when MOVED_INTERVALS
 * intervals after the move the estimate still finds no clear home - by then the time before the
 * move weighs little in it (the recent on-CPU time halves every interval: 1/16 of the weight),
 * so the process spreads over nodes, or hardly runs. Not sooner: one half-second window after a
 * move often has it under 90% on the new node (its other threads, the moves' own faults), and
 * dropping the new home at that (tried) left the lab's phase set stuck behind the cooldown.
 */
#define MOVED_INTERVALS 4
static bool moved_expired(const struct pagemigd *d, const struct managed *m)
{
	if (!m->moved)
		return false;
	if (m->home_clear)
		return m->home_node == m->moved_to;
	return mono_ms() - m->moved_ms >= MOVED_INTERVALS * d->cfg.interval_ms;
}

/* Build the policy input: one entry per managed process that needs a plan, with its slice of
 * the snapshot and where those pages are. A top-up (topup drains since the plan before, else
 * 0) gives locality processes only their pages first found hot since: asking the kernel where
 * every sampled page is, and planning them all again, cost a quarter to half a second a cycle
 * for a 256 MiB set under emulation while the moves waited (the static case), to find the
 * 12 000 pages the plan before had not seen. */
static int build_input(struct pagemigd *d, const struct pagemig_snapshot *snap, uint64_t topup)
{
	size_t p = 0, o = 0, k = 0, sub = 0, n_snap = snap ? snap->n_pages + 1 : 1;
	double local = 0, total = 0;
	struct pagemig_policy_proc *pin = realloc(d->pin, (d->n_procs + 1) * sizeof(*pin));
	struct pagemig_policy_config pc;
	size_t *pin_proc;
	bool near_short;
	int err;

	if (!pin)
		return -ENOMEM;
	d->pin = pin;
	pin_proc = realloc(d->pin_proc, (d->n_procs + 1) * sizeof(*pin_proc));
	if (!pin_proc)
		return -ENOMEM;
	d->pin_proc = pin_proc;
	err = topup ? grow_subset(d, n_snap) : grow_resident(d, n_snap);
	if (err)
		return err;
	pagemig_config_policy(&d->cfg, &pc);
	near_short = pagemig_policy_near_short(&d->topo, &pc);
	for (size_t i = 0; i < d->n_procs; i++) {
		struct managed *m = &d->procs[i];
		const struct pagemig_page_score *pages = snap ? snap->pages : NULL;
		const struct pagemig_oncpu_score *oncpu = snap ? snap->oncpu : NULL;
		size_t p0, o0;

		/* the snapshot is sorted by tgid; so are the managed processes */
		while (snap && p < snap->n_pages && snap->pages[p].tgid < (uint32_t)m->pid)
			p++;
		p0 = p;
		while (snap && p < snap->n_pages && snap->pages[p].tgid == (uint32_t)m->pid)
			p++;
		while (snap && o < snap->n_oncpu && snap->oncpu[o].tgid < (uint32_t)m->pid)
			o++;
		o0 = o;
		while (snap && o < snap->n_oncpu && snap->oncpu[o].tgid == (uint32_t)m->pid)
			o++;
		m->home_node = snap ? home_node(d, m, oncpu + o0, o - o0) : -1;
		if (moved_expired(d, m)) {
			m->moved = false;
			if (!m->home_clear)
				log_msg(LOG_INFO,
					&(struct log_fields){.policy = d->cfg.rules[m->rule].name,
							     .pid = m->pid,
							     .node = m->moved_to,
							     .pages = -1},
					"process %d (%s) runs on no one node since it moved to node "
					"%d: its home is what its on-CPU time says again",
					(int)m->pid, m->comm, m->moved_to);
		}
		m->replanned = needs_plan(d, m, pages ? pages + p0 : NULL, p - p0, near_short);
		m->topped_up = m->replanned && topup && snap &&
			       d->cfg.rules[m->rule].type == PAGEMIG_POLICY_LOCALITY;
		if (m->topped_up) {
			size_t n = pick_newly_hot(pages + p0, p - p0, topup, d->subset + sub);
			int16_t *res = d->resident + n_snap + sub;

			m->replanned = n > 0;
			if (!m->replanned) {
				d->plans_skipped++; /* nothing newly hot since the plan before */
				continue;
			}
			pin[k] = policy_proc(m, d->subset + sub, n, res, oncpu + o0, o - o0);
			pin[k].partial = true;
			/* its residence counts and local share: as the full plan saw them */
			query_residence(m->pid, pin[k].pages, n, res, NULL);
			sub += n;
			pin_proc[k++] = i;
			d->plans_topped_up++;
		} else if (m->replanned) {
			pin[k] = policy_proc(m, pages ? pages + p0 : NULL, p - p0, d->resident + p0,
					     oncpu ? oncpu + o0 : NULL, o - o0);
			query_residence(m->pid, pin[k].pages, pin[k].n_pages, d->resident + p0, m);
			m->full_plan_ms = mono_ms();
			summarise(m, pin[k].pages, pin[k].n_pages, pin[k].resident);
			pin_proc[k++] = i;
		} else {
			d->plans_skipped++; /* local share, residence counts: as last seen */
		}
	}
	for (size_t i = 0; i < d->n_procs; i++) {
		const struct managed *m = &d->procs[i];

		if (m->local_share >= 0) {
			local += m->local_share * (double)m->pages_known;
			total += (double)m->pages_known;
		}
	}
	d->n_pin = k;
	d->local_share = total > 0 ? local / total : -1;
	return 0;
}

/*
 * Whether this cycle leaves the executor's pending plan alone. A new plan costs a residence
 * query and a planning pass that compete with the moves for the same thread, so a plan runs on
 * unless it has grown old - after PLAN_MAX_AGE intervals the workload may have moved on (a
 * thread changed node) and a fresh plan replaces it - or it will be done within this interval
 * anyway: then a new plan takes what was sampled since (the rest of a large hot set, whose
 * faults come over several intervals) now rather than one interval later, and the old plan's
 * last moves stay behind it (plan_is_young). Such a plan is a top-up (topup_drains()).
 */
#define PLAN_MAX_AGE 4
static bool plan_is_young(const struct pagemigd *d, uint64_t now)
{
	return executor_pending(d->exec) &&
	       executor_pending_age_ms(d->exec, now) < PLAN_MAX_AGE * d->cfg.interval_ms;
}

/*
 * For a plan made while the last one is young (plan_is_young(): its pending moves stay, and
 * this plan's go first), the drains since the last plan: locality processes are then topped up
 * with their pages first found hot since (build_input()), not planned whole again. 0 for a
 * full plan: when the last plan has run out or grown old, or is too far back to tell, or the
 * last full plan is PLAN_MAX_AGE intervals old (what only a full plan sees: guards that expired, pages
 * another mover moved, a new home for pages without an accessing node).
 */
static uint64_t topup_drains(const struct pagemigd *d, const struct pagemig_snapshot *snap)
{
	uint64_t drains, now = mono_ms();

	if (!snap || d->paused || !plan_is_young(d, now) || snap->seq <= d->planned_seq ||
	    now >= d->full_plan_ms + PLAN_MAX_AGE * d->cfg.interval_ms)
		return 0;
	drains = snap->seq - d->planned_seq;
	return drains < UINT16_MAX ? drains : 0;
}

/* For an old plan's successor: the pending moves of the processes this cycle left out (held,
 * see needs_plan()) stay; the others' are replaced by the new plan. */
static bool keeps_pending(void *ctx, uint32_t tgid)
{
	struct pagemigd *d = ctx;
	const struct managed *m = find_proc(d, d->n_procs, (pid_t)tgid);

	return m && !m->replanned;
}

/*
 * Unless the sampler found many pages hot for the first time since the plan was made: then
 * the plan saw only the start of something (a large set whose write faults come over several
 * intervals), and the rest would wait for the plan to age. Many: half the moves still pending.
 */
static bool executor_keeps_plan(const struct pagemigd *d)
{
	uint64_t now = mono_ms();

	return !d->paused && plan_is_young(d, now) &&
	       executor_pending_ms(d->exec, now) > d->cfg.interval_ms &&
	       d->first_seen_since_plan < executor_pending(d->exec) / 2;
}

/* For the log: where a process runs (pagemigd_place()). */
static const char *place_str(int place, char *buf, size_t size)
{
	if (place >= 0)
		snprintf(buf, size, "on node %d", place);
	else
		snprintf(buf, size, "spread over nodes");
	return buf;
}

/*
 * Tell the sampler which processes have settled: the plan has nothing for them, not even pages
 * waiting for a second sample, and they still run where they ran when it last had nothing.
 * Their write faults are re-armed less often (and, under locality, not at all for a while if
 * nothing more of them turns up off their home: pagemigd_note_settled()). A process with such
 * waiting pages is re-armed at once: its next interval then decides them, not the one after
 * its next period. Returns how many hot far pages wait for a second sample of a process
 * re-armed early for them.
 */
static uint64_t settle_processes(struct pagemigd *d)
{
	char was[32], now[32];
	uint64_t waiting = 0;

	for (size_t i = 0; i < d->n_procs; i++) {
		d->procs[i].planned = false;
		d->procs[i].unconfirmed = 0;
	}
	for (size_t j = 0; j < d->plan.n_moves; j++) {
		struct managed *m = find_proc(d, d->n_procs, d->plan.moves[j].tgid);

		if (m)
			m->planned = true;
	}
	for (size_t k = 0; k < d->plan.n_procs && k < d->n_pin; k++) {
		struct managed *m = &d->procs[d->pin_proc[k]];

		/* a top-up's count adds to what the full plan before deferred */
		m->deferred = (m->topped_up ? m->deferred : 0) + d->plan.procs[k].deferred;
		m->unconfirmed = d->plan.procs[k].unconfirmed;
	}
	for (size_t i = 0; i < d->n_procs; i++) {
		struct managed *m = &d->procs[i];
		/* moves still pending (a plan that left it out, or kept from the last) are
		 * work to do as much as a plan's */
		int place = pagemigd_place(m), settled_on = m->settled_home;
		bool quiet = !m->planned && !m->pending && !m->unconfirmed &&
			     m->local_share >= 0 && place != -1;
		/* it had settled and now runs elsewhere (another clear home, or spread over
		 * nodes, or gathered on one): a new phase, whose pages only fresh samples can
		 * show; re-armed now rather than at the next drain, which saves an interval
		 * before they can follow */
		bool moved_on = settled_on != PAGEMIGD_NOT_SETTLED && place != -1 &&
				place != settled_on;

		pagemig_sampler_settle(d->sampler, m->pid, quiet && settled_on == place);
		m->settled_home = quiet ? place : PAGEMIGD_NOT_SETTLED;
		pagemigd_note_settled(d, m, quiet && settled_on == place);
		if (m->unconfirmed && !d->paused &&
		    pagemig_sampler_rearm_early(d->sampler, m->pid) > 0) {
			waiting += m->unconfirmed;
			log_debug("pid %d re-armed early: %" PRIu64
				  " hot far pages wait for a second sample",
				  (int)m->pid, m->unconfirmed);
		} else if (moved_on && !d->paused &&
			   pagemig_sampler_rearm_early(d->sampler, m->pid) > 0) {
			log_debug("pid %d re-armed early: it settled %s and runs %s now",
				  (int)m->pid, place_str(settled_on, was, sizeof(was)),
				  place_str(place, now, sizeof(now)));
		}
	}
	return waiting;
}

/* Whether a page can be sampled again after its first touch: soft-dirty re-arming, hardware
 * samples or NUMA balancing's hinting faults. */
static bool sampler_sees_pages_again(const struct pagemig_sampler *s,
				     const struct pagemig_snapshot *snap)
{
	const struct pagemig_source_status *st = pagemig_sampler_sources(s);

	return st[PAGEMIG_SOURCE_SOFTDIRTY].state == PAGEMIG_SOURCE_ACTIVE ||
	       st[PAGEMIG_SOURCE_PMU].state == PAGEMIG_SOURCE_ACTIVE ||
	       (snap && snap->numa_balancing);
}

/*
 * Before the drain re-arms anyone: hold the re-arming of each process with more pending moves
 * than HOLD_INTERVALS intervals will do at the executor's pace (pagemig_sampler_hold says
 * why). A plan of 200 000 pages of a process writing all of them made it fault on every write
 * each interval (85% of its time in the kernel under TCG) and kept the daemon busy reading the
 * samples, at the cost of the moves themselves. Released a few intervals before the end, so
 * that the pages the plan does not know (touched first after the last re-arm) are sampled by
 * then: released only at the end, the static case's moves stopped for 2-3 s between plans.
 * Also released for one drain when the process has moved to another node since the hold
 * began: its scores do not decay while held, and only fresh samples tell which pages moved with
 * it - unless that node is where most of its pending moves go.
 */
#define HOLD_INTERVALS 3
static void hold_busy_processes(struct pagemigd *d)
{
	uint64_t all_ms = executor_pending_ms(d->exec, mono_ms());
	size_t total;
	const struct pagemig_plan_move *mv = executor_pending_moves(d->exec, &total);

	for (size_t i = 0; i < d->n_procs; i++) {
		d->procs[i].pending = 0;
		d->procs[i].pending_to = -1;
	}
	/* the executor keeps a process's moves together: one lookup per run of them, not per
	 * move (a plan for a 1 GiB set has 260 000) */
	for (size_t j = 0, end; j < total; j = end) {
		struct managed *m = find_proc(d, d->n_procs, (pid_t)mv[j].tgid);
		uint64_t to[PAGEMIG_TOPO_MAX_NODES] = {0}, most = 0;

		for (end = j; end < total && mv[end].tgid == mv[j].tgid; end++)
			if (mv[end].to >= 0 && mv[end].to < PAGEMIG_TOPO_MAX_NODES)
				to[mv[end].to]++;
		if (!m)
			continue;
		m->pending += end - j;
		for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			if (to[n] > most) {
				most = to[n];
				m->pending_to = n;
			}
	}
	for (size_t i = 0; i < d->n_procs; i++) {
		struct managed *m = &d->procs[i];
		/* this process's share of the pending time; all of it before any progress */
		uint64_t ms = !m->pending || all_ms == UINT64_MAX
				      ? (m->pending ? UINT64_MAX : 0)
				      : (uint64_t)((double)all_ms * (double)m->pending / (double)total);
		bool hold = !d->paused && ms / HOLD_INTERVALS > d->cfg.interval_ms;
		bool moved_on = m->held && m->home_node != m->held_home;

		/* it now runs where its pending moves take its pages: it followed them (a hold can
		 * begin while its on-CPU time still points at the node it started on), and fresh
		 * samples would only tell the plan what it knows */
		if (moved_on && m->home_node == m->pending_to) {
			log_debug("pid %d runs on node %d now, where its %" PRIu64
				  " pending moves go: still held",
				  (int)m->pid, m->home_node, m->pending);
			m->held_home = m->home_node;
			moved_on = false;
		}
		if (moved_on)
			hold = false;
		if (hold != m->held)
			log_debug("pid %d: re-arming %s (%" PRIu64 " moves pending%s)", (int)m->pid,
				  hold ? "held" : "released", m->pending,
				  moved_on ? ", it runs on another node now" : "");
		if (hold && !m->held)
			m->held_home = m->home_node;
		m->held = hold;
		pagemig_sampler_hold(d->sampler, m->pid, hold);
	}
}

/* For the debug log: what a top-up planned (build_input()). */
static const char *topup_detail(const struct pagemigd *d, uint64_t drains, char *buf,
				size_t size)
{
	size_t procs = 0, entries = 0;

	if (!drains)
		return "";
	for (size_t k = 0; k < d->n_pin; k++)
		if (d->pin[k].partial) {
			procs++;
			entries += d->pin[k].n_pages;
		}
	snprintf(buf, size, "; top-up: %zu processes, %zu entries first hot in the last %" PRIu64
		 " drains", procs, entries, drains);
	return buf;
}

/* For the debug log: where the latest drain went (pagemig_sampler_stats.drain_*). */
static const char *drain_detail(struct pagemigd *d, char *buf, size_t size)
{
	struct pagemig_sampler_stats st;

	if (!d->sampler || log_get_level() < LOG_DEBUG)
		return "";
	pagemig_sampler_stats(d->sampler, &st);
	snprintf(buf, size, " [read %.1f, merge %.1f, other %.1f, re-arm %.1f]",
		 (double)st.drain_read_ns / 1e6, (double)st.drain_merge_ns / 1e6,
		 (double)st.drain_other_ns / 1e6, (double)st.drain_rearm_ns / 1e6);
	return buf;
}

/*
 * For the debug log: what the engine saw of each process it planned, and why the plan has what
 * it has - a plan with nothing for a process that should move (its thread changed node) is
 * otherwise silent. Candidates the guards held back are counted for the whole plan by reason.
 */
static void log_plan_detail(const struct pagemigd *d)
{
	char skipped[256] = "";
	size_t used = 0;

	if (log_get_level() < LOG_DEBUG)
		return;
	for (size_t k = 0; k < d->plan.n_procs; k++) {
		const struct pagemig_plan_proc *pp = &d->plan.procs[k];

		log_debug("pid %d: home %d (%.0f%% of its CPU), local %.0f%%, %" PRIu64
			  " pages sampled, %" PRIu64 " with a known node, %" PRIu64 " hot, %" PRIu64
			  " shared, %" PRIu64 " planned, %" PRIu64 " skipped",
			  (int)pp->tgid, pp->home, pp->home_share * 100,
			  pp->local_share < 0 ? -1 : pp->local_share * 100, pp->pages, pp->resident,
			  pp->hot, pp->shared, pp->planned, pp->skipped);
	}
	for (int s = 0; s < PAGEMIG_SKIP__COUNT && used < sizeof(skipped); s++)
		if (d->plan.skipped[s])
			used += (size_t)snprintf(skipped + used, sizeof(skipped) - used, " %s %" PRIu64,
						 pagemig_policy_skip_name((enum pagemig_policy_skip)s),
						 d->plan.skipped[s]);
	if (d->plan.candidates)
		log_debug("plan: %" PRIu64 " candidates, %zu moves%s%s", d->plan.candidates,
			  d->plan.n_moves, used ? "; held back:" : "", skipped);
}

/*
 * How long a plan's byte budget lasts (pagemig_policy_input.budget_ms): until the next re-arm,
 * if that is further off than the next interval. A page is sampled once per re-arm; a hot page
 * the rate left out of one plan has, by the next, decayed below hot_score (one sample is a
 * score of 1.0) and waits for a fresh sample, a whole re-arm period. With the shipped settings
 * (5 s interval, 10 s re-arm, 32 MiB/s) the static case's 256 MiB set stopped at 62% for 5 to
 * 10 s that way. The executor paces the moves at the rate all the same.
 */
static uint64_t plan_budget_ms(const struct pagemigd *d)
{
	uint64_t rearm = d->cfg.sampler.rearm_ms;

	if (!d->sampler || rearm <= d->cfg.interval_ms ||
	    pagemig_sampler_sources(d->sampler)[PAGEMIG_SOURCE_SOFTDIRTY].state !=
		    PAGEMIG_SOURCE_ACTIVE)
		return d->cfg.interval_ms;
	return rearm;
}

/* Processes whose memory the sampler has armed for the first time, in all: new ones and those
 * grown by pages not armed (counted at their re-arms in the drain). */
static uint64_t first_arms(struct pagemig_sampler *s)
{
	struct pagemig_sampler_stats st;

	pagemig_sampler_stats(s, &st);
	return st.rearms_first + st.rearms_grown;
}

int pagemigd_cycle(struct pagemigd *d)
{
	char detail[96], tdetail[96];
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_policy_config pc;
	struct pagemig_policy_input in;
	uint64_t t0 = mono_ns();
	int err;

	uint64_t t_scan, t_drain, t_input, t_plan, topup;

	uint64_t full_reads = d->proc_cache.full_reads, stat_reads = d->proc_cache.stat_reads;
	uint64_t armed_new = 0, waiting = 0;

	pagemigd_cycle_started(d);
	refresh_topology(d);
	scan_processes(d);
	t_scan = mono_ns();
	full_reads = d->proc_cache.full_reads - full_reads;
	stat_reads = d->proc_cache.stat_reads - stat_reads;
	if (d->sampler) {
		armed_new = first_arms(d->sampler);
		hold_busy_processes(d);
		err = pagemig_sampler_drain(d->sampler, &snap);
		if (err)
			log_errno(LOG_WARNING, err, "draining the sampler");
		armed_new = first_arms(d->sampler) - armed_new;
	}
	t_drain = mono_ns();
	if (snap)
		d->first_seen_since_plan += snap->n_first_seen;
	if (executor_keeps_plan(d)) {
		d->cycles++;
		d->last_cycle_ns = mono_ns() - t0;
		log_debug("cycle %llu: the last plan still runs (%llu pages pending): sampler "
			  "drained in %.1f ms%s, no new plan",
			  (unsigned long long)d->cycles,
			  (unsigned long long)executor_pending(d->exec),
			  (double)(t_drain - t_scan) / 1e6,
			  drain_detail(d, detail, sizeof(detail)));
		pagemigd_cycle_soon_for_pages(d, armed_new, 0);
		return 0;
	}
	if (executor_pending(d->exec) &&
	    d->first_seen_since_plan >= executor_pending(d->exec) / 2 && plan_is_young(d, mono_ms()))
		log_debug("cycle %llu: %" PRIu64 " pages newly hot since the last plan, %llu moves "
			  "pending: planning anew",
			  (unsigned long long)d->cycles + 1, d->first_seen_since_plan,
			  (unsigned long long)executor_pending(d->exec));
	d->first_seen_since_plan = 0;
	topup = topup_drains(d, snap);
	err = build_input(d, snap, topup);
	if (err)
		return log_errno(LOG_ERR, err, "preparing the policy input");
	t_input = mono_ns();

	pagemig_config_policy(&d->cfg, &pc);
	in = (struct pagemig_policy_input){
		.topo = &d->topo,
		.cfg = &pc,
		.procs = d->pin,
		.n_procs = d->n_pin,
		.history = d->history,
		.now_ms = mono_ms(),
		.interval_ms = d->cfg.interval_ms,
		.budget_ms = plan_budget_ms(d),
		.numa_balancing = snap && snap->numa_balancing,
		.page_size = (uint32_t)sysconf(_SC_PAGESIZE),
		.seen_once = d->sampler && !sampler_sees_pages_again(d->sampler, snap),
	};
	err = pagemig_policy_plan(&in, &d->plan);
	if (err)
		return log_errno(LOG_ERR, err, "planning");
	if (snap)
		d->planned_seq = snap->seq;
	if (!topup)
		d->full_plan_ms = mono_ms();
	t_plan = mono_ns();
	log_debug("cycle %llu took %.1f ms: processes %.1f (%" PRIu64 " read in full, %" PRIu64
		  " from stat), sampler %.1f (%zu pages)%s, residence %.1f, plan %.1f%s",
		  (unsigned long long)d->cycles + 1, (double)(t_plan - t0) / 1e6,
		  (double)(t_scan - t0) / 1e6, full_reads, stat_reads,
		  (double)(t_drain - t_scan) / 1e6,
		  snap ? snap->n_pages : 0, drain_detail(d, detail, sizeof(detail)),
		  (double)(t_input - t_drain) / 1e6, (double)(t_plan - t_input) / 1e6,
		  topup_detail(d, topup, tdetail, sizeof(tdetail)));
	log_plan_detail(d);
	if (d->topo.nr_memory < 2)
		d->plan.n_moves = 0; /* nothing to place; said at start */
	if (d->sampler)
		waiting = settle_processes(d);
	pagemigd_cycle_soon_for_pages(d, armed_new, waiting);
	if (!d->paused) {
		uint64_t now = mono_ms();

		if (plan_is_young(d, now))
			err = executor_submit_keeping(d->exec, &d->plan, pagemigd_observing(d),
						      now);
		else
			err = executor_submit_keeping_if(d->exec, &d->plan, pagemigd_observing(d),
							 now, keeps_pending, d);
	}
	d->cycles++;
	d->last_cycle_ns = mono_ns() - t0;
	if (err)
		return log_errno(LOG_ERR, err, "handing the plan to the executor");
	if (d->plan.n_moves)
		log_msg(LOG_INFO, NULL, "cycle %llu: %zu processes, %zu pages planned%s",
			(unsigned long long)d->cycles, d->n_procs, d->plan.n_moves,
			pagemigd_observing(d) ? " (observe mode: not moved)" : "");
	return 0;
}
