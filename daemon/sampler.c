// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sampler's loader and drain: puts the BPF sources the running kernel supports in place,
 * says per source what it got, and turns the kernel's maps into snapshots.
 *
 * Three BPF objects (bpf/sampler_access, sampler_sched, sampler_audit), each loaded on its own
 * so that a kernel refusing one keeps the others. They share two maps the sampler creates first
 * and hands to each object with bpf_map__reuse_fd(): the managed-tgid filter and cpu -> node.
 * Each object goes open -> configure (map sizes, rodata, autoload off for what this kernel
 * lacks) -> load -> attach; whatever fails is recorded in the source's status and undone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sampler_internal.h"
#include "sampler_access.skel.h"
#include "sampler_audit.skel.h"
#include "sampler_sched.skel.h"

#define NSEC_PER_MSEC UINT64_C(1000000)
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define DRAIN_BATCH   4096u /* entries per lookup_and_delete_batch call */

/* The audit's programs and their tracepoints. AP_SWITCH writes the steps a thread staged when it
 * leaves the CPU, in case sampler_sched (whose sched_switch program does it too) is not loaded.
 * The PMD pair is optional (THP migration). */
enum audit_prog {
	AP_START,
	AP_END,
	AP_SET_PTE,
	AP_REMOVE_PTE,
	AP_SWITCH,
	AP_SET_PMD,
	AP_REMOVE_PMD,
	AP__N
};
static const char *const audit_tp[AP__N] = {
	"mm_migrate_pages_start", "mm_migrate_pages",  "set_migration_pte",    "remove_migration_pte",
	"sched_switch",		  "set_migration_pmd", "remove_migration_pmd",
};

/*
 * A managed process. tgid first: the array is searched with cmp_u32. A process whose placement
 * has settled is re-armed every rearm_ms << backoff: write faults cost the workload a trap each,
 * and a process with nothing to move gains nothing from them. backoff grows by one per re-arm
 * while it stays settled, to at least SETTLED_MIN_BACKOFF and on until the period reaches
 * SETTLED_PERIOD_MS, the longest the kernel's NUMA balancing waits between two scans of a task
 * (numa_balancing_scan_period_max_ms, 60 s by default). With an 8-period cap a settled 256 MiB
 * process re-armed every second lost 0.3-0.7 s of its work every 8-9 s under emulation (the
 * lab's static case, 2026-11-27). What ends a settled process's backoff does not need samples:
 * a new home node (on-CPU time) unsettles it at once, and re-arms it at the next drain.
 * The first period once settled is already settled_first_ms (SETTLED_FIRST_MS) or more:
 * climbing to it one doubling at a time from a 1 s re-arm (1, 2, 4 s) cost the static case's
 * writer three re-arms of its 256 MiB in the first 7 s after its set was local (its time in
 * the kernel 2.0-2.3 s of 60 with them, 1.3-1.4 s without, 100% local as soon: 2026-11-28).
 * The shipped 10 s re-arm starts at 10 s, as before. Below SETTLED_PERIOD_MS the caller may
 * skip a settled re-arm (rearm_settled); the minute's are always done.
 */
#define SETTLED_MIN_BACKOFF 3
#define SETTLED_FIRST_MS    8000
#define SETTLED_PERIOD_MS   60000
#define REARM_MAX_BACKOFF   20
/*
 * A page first touched after a process's last re-arm is born soft-dirty: its writes do not
 * fault, and so are not sampled, until the next re-arm, a whole period later (10 s at the
 * defaults, a minute or more once settled). A process that allocated a good part of its memory
 * since (GROWN_MIN_PAGES and an eighth of its sampled pages) is re-armed at the first drain
 * that sees no first touch of it: when its allocation is over, not in the middle of it. With
 * the shipped settings the static case's writer, managed while it filled its 256 MiB, had 13%
 * of them unsampled for a period that way (2026-11-27). A process that keeps allocating a little
 * never reaches the share and keeps its period.
 */
#define GROWN_MIN_PAGES 256
struct sampler_managed {
	uint32_t tgid;
	uint8_t backoff;
	bool settled;
	bool held;	   /* pagemig_sampler_hold */
	bool touching;	   /* first touches of it in the latest drain */
	uint32_t unarmed;  /* pages first touched since its last re-arm (saturating) */
	uint32_t sampled;  /* its page entries in the latest snapshot */
	uint64_t last_rearm_ns;
};

struct pagemig_sampler {
	struct pagemig_sampler_config cfg; /* with defaults filled in */
	struct pagemig_source_status status[PAGEMIG_SOURCE__COUNT];
	struct pagemig_topo topo;
	struct btf *btf; /* the kernel's, to see which tracepoints exist (during load only) */
	int ncpus;	 /* possible CPUs, as libbpf sizes per-CPU values */

	int managed_fd;	 /* shared: bitmap of managed tgids */
	int cpu_node_fd; /* shared: cpu -> node */
	/* shared by sampler_audit and sampler_sched (sampler_audit_stage.bpf.h): the audit's ring,
	 * its counters, and the steps staged per CPU that sched_switch writes to the ring */
	int audit_events_fd, audit_stats_fd, audit_staged_fd;

	struct sampler_access_bpf *access;
	struct bpf_link *fault_link;
	struct bpf_link **pmu_links; /* one per online CPU that took the event; NULL holes */
	unsigned int npmu;

	struct sampler_sched_bpf *sched;
	struct bpf_link *sched_link;

	struct sampler_audit_bpf *audit;
	struct bpf_link *audit_links[AP__N];
	struct ring_buffer *rb; /* the access ring and the audit ring, one epoll fd */
	struct pagemig_audit *auditor;

	/* Managed tgids, sorted, for re-arming and for filtering drained samples. */
	struct sampler_managed *managed;
	size_t nmanaged;
	uint32_t *frozen; /* the held ones at a drain (max_tgids): their scores do not decay */

	/* The interval's aggregate of access samples, and the two snapshot buffers. */
	struct pagemig_access_table table;
	struct pagemig_page_score *snap[2];
	double *rank; /* snap_cap scores: where a snapshot over max_snapshot is cut */
	size_t snap_cap;
	struct pagemig_oncpu_score *oncpu[2];
	struct pagemig_oncpu_sample *oncpu_read;
	size_t oncpu_cap;
	int cur; /* which of the two buffers the snapshot shows */
	void *percpu_buf;
	struct pagemig_snapshot snapshot;

	struct pagemig_sampler_stats stats;
	uint64_t loaded_ns;
	uint64_t last_drain_ns;
	uint64_t last_rearm_ns;
	bool softdirty_ok;
	bool flush_warned;	     /* a failed flush was logged (once) */
	bool table_warned;	     /* a full page table was logged (once) */
	uint64_t table_dropped_seen; /* stats.table_dropped at the last drain */

	libbpf_print_fn_t old_print;
};

static bool is_managed(const struct pagemig_sampler *s, uint32_t tgid);

/* libbpf's print hook is process-wide: the most recent sampler receives its messages. */
static const struct pagemig_sampler_config *libbpf_sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void log_line(const struct pagemig_sampler_config *c, int level, char *msg)
{
	size_t len = strlen(msg);

	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (len)
		c->log(level, msg, c->log_ctx);
}

void pagemig_sampler_logf(const struct pagemig_sampler_config *c, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c || !c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(c, level, msg);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	const struct pagemig_sampler_config *c = libbpf_sink;
	char msg[1024];

	if (!c || !c->log)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	switch (level) {
	case LIBBPF_WARN:
		log_line(c, LOG_WARNING, msg);
		break;
	case LIBBPF_INFO:
		log_line(c, LOG_INFO, msg);
		break;
	default:
		log_line(c, LOG_DEBUG, msg);
		break;
	}
	return 0;
}

const char *pagemig_source_name(enum pagemig_source source)
{
	static const char *const names[PAGEMIG_SOURCE__COUNT] = {
		[PAGEMIG_SOURCE_FAULT] = "fault",	  [PAGEMIG_SOURCE_PMU] = "pmu",
		[PAGEMIG_SOURCE_SOFTDIRTY] = "softdirty", [PAGEMIG_SOURCE_NUMA_HINT] = "numa_hint",
		[PAGEMIG_SOURCE_ONCPU] = "oncpu",	  [PAGEMIG_SOURCE_AUDIT] = "audit",
		[PAGEMIG_SOURCE_AUDIT_THP] = "audit_thp",
	};

	return (unsigned int)source < PAGEMIG_SOURCE__COUNT ? names[source] : "?";
}

const char *pagemig_source_state_name(enum pagemig_source_state state)
{
	switch (state) {
	case PAGEMIG_SOURCE_OFF:
		return "off";
	case PAGEMIG_SOURCE_ACTIVE:
		return "active";
	case PAGEMIG_SOURCE_IDLE:
		return "idle";
	case PAGEMIG_SOURCE_UNAVAILABLE:
		return "unavailable";
	case PAGEMIG_SOURCE_FAILED:
		return "failed";
	}
	return "?";
}

__attribute__((format(printf, 5, 6))) static void set_status(struct pagemig_sampler *s,
							     enum pagemig_source src,
							     enum pagemig_source_state state,
							     int err, const char *fmt, ...)
{
	struct pagemig_source_status *st = &s->status[src];
	va_list ap;
	int level;

	st->source = src;
	st->state = state;
	st->err = err;
	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
	va_end(ap);
	/* Said once, at the level it deserves: a failure warns, a missing feature notes. */
	level = state == PAGEMIG_SOURCE_FAILED ? LOG_WARNING : LOG_INFO;
	if (state == PAGEMIG_SOURCE_UNAVAILABLE)
		level = LOG_NOTICE;
	pagemig_sampler_logf(&s->cfg, level, "source %s: %s: %s", pagemig_source_name(src),
			     pagemig_source_state_name(state), st->detail);
}

static bool wanted(const struct pagemig_sampler *s, enum pagemig_source src)
{
	return s->cfg.sources & PAGEMIG_SOURCE_BIT(src);
}

/* Why a BPF operation failed, for a status line. */
static const char *why(int err)
{
	if (err == -EPERM || err == -EACCES)
		return geteuid() ? "not permitted (needs CAP_BPF and CAP_PERFMON, or root)"
				 : "not permitted by the kernel or an LSM";
	return strerror(-err);
}

/* Does the kernel have this tracepoint? Every tracepoint has a btf_trace_<name> typedef. */
static bool tp_exists(const struct pagemig_sampler *s, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return s->btf && btf__find_by_name_kind(s->btf, name, BTF_KIND_TYPEDEF) > 0;
}

/* ---- configuration ----------------------------------------------------------------------- */

static unsigned int ring_size(unsigned int want)
{
	unsigned int rb = (unsigned int)sysconf(_SC_PAGESIZE);

	while (rb < want)
		rb <<= 1;
	return rb;
}

static int resolve_config(const struct pagemig_sampler_config *in, struct pagemig_sampler_config *c)
{
	memset(c, 0, sizeof(*c));
	if (in) {
		if (in->sz < offsetof(struct pagemig_sampler_config, sources) + sizeof(in->sources))
			return -EINVAL;
		memcpy(c, in, in->sz < sizeof(*c) ? in->sz : sizeof(*c));
	}
	c->sz = sizeof(*c);
	if (!c->sources)
		c->sources = PAGEMIG_SOURCES_ALL;
	if (c->sources & ~PAGEMIG_SOURCES_ALL)
		return -EINVAL;
	if (!c->max_pages)
		c->max_pages = PAGEMIG_SAMPLER_DEF_PAGES;
	if (!c->max_tgids)
		c->max_tgids = PAGEMIG_SAMPLER_DEF_TGIDS;
	if (!c->max_movers)
		c->max_movers = PAGEMIG_SAMPLER_DEF_MOVERS;
	if (!c->ringbuf_bytes)
		c->ringbuf_bytes = PAGEMIG_SAMPLER_DEF_RINGBUF;
	if (!c->access_ring_bytes)
		c->access_ring_bytes = PAGEMIG_SAMPLER_DEF_ACCESS_RING;
	if (!c->max_snapshot)
		c->max_snapshot = c->max_pages;
	if (!c->half_life_ms)
		c->half_life_ms = PAGEMIG_SAMPLER_DEF_HALF_LIFE_MS;
	if (!(c->min_score > 0))
		c->min_score = PAGEMIG_SAMPLER_DEF_MIN_SCORE;
	if (!c->pmu_period)
		c->pmu_period = PAGEMIG_SAMPLER_DEF_PMU_PERIOD;
	if (!c->audit_pages)
		c->audit_pages = PAGEMIG_SAMPLER_DEF_AUDIT_PAGES;
	if (!c->sysfs_root)
		c->sysfs_root = "/sys";
	if (!c->proc_root)
		c->proc_root = "/proc";
	if (!c->settled_first_ms)
		c->settled_first_ms = SETTLED_FIRST_MS;
	/* Ring buffers are a power of two of at least one page. */
	if (c->ringbuf_bytes > (1u << 30) || c->access_ring_bytes > (1u << 30))
		return -EINVAL;
	c->ringbuf_bytes = ring_size(c->ringbuf_bytes);
	c->access_ring_bytes = ring_size(c->access_ring_bytes);
	if (c->max_pages > (1u << 26) || c->max_tgids > (1u << 20) || c->max_snapshot > (1u << 26))
		return -EINVAL;
	return 0;
}

/* ---- shared maps ------------------------------------------------------------------------- */

static int create_shared_maps(struct pagemig_sampler *s)
{
	int err;

	s->managed_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pm_managed", sizeof(__u32),
				       sizeof(__u64), PAGEMIG_SAMPLER_TGID_WORDS, NULL);
	if (s->managed_fd < 0)
		return s->managed_fd;
	s->cpu_node_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pm_cpu_node", sizeof(__u32),
					sizeof(__u32), s->topo.ncpus, NULL);
	if (s->cpu_node_fd < 0)
		return s->cpu_node_fd;
	for (__u32 cpu = 0; cpu < s->topo.ncpus; cpu++) {
		int node = s->topo.cpu_node[cpu];
		__u32 v = node < 0 ? PAGEMIG_SAMPLER_NODE_UNKNOWN : (__u32)node;

		err = bpf_map_update_elem(s->cpu_node_fd, &cpu, &v, BPF_ANY);
		if (err)
			return err;
	}
	/* The audit's: its ring as configured when the audit is wanted, else the smallest (the
	 * on-CPU program refers to it all the same, and finds nothing staged). */
	s->audit_events_fd = bpf_map_create(
		BPF_MAP_TYPE_RINGBUF, "pm_audit_events", 0, 0,
		wanted(s, PAGEMIG_SOURCE_AUDIT) ? s->cfg.ringbuf_bytes : ring_size(1), NULL);
	if (s->audit_events_fd < 0)
		return s->audit_events_fd;
	s->audit_stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pm_audit_stats",
					   sizeof(__u32), sizeof(struct pagemig_audit_stats), 1,
					   NULL);
	if (s->audit_stats_fd < 0)
		return s->audit_stats_fd;
	s->audit_staged_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pm_audit_staged",
					    sizeof(__u32), sizeof(struct pagemig_mig_steps), 1,
					    NULL);
	return s->audit_staged_fd < 0 ? s->audit_staged_fd : 0;
}

static int reuse_shared(struct pagemig_sampler *s, struct bpf_map *managed,
			struct bpf_map *cpu_node)
{
	int err = bpf_map__reuse_fd(managed, s->managed_fd);

	return err ? err : bpf_map__reuse_fd(cpu_node, s->cpu_node_fd);
}

static int reuse_audit_shared(struct pagemig_sampler *s, struct bpf_map *events,
			      struct bpf_map *stats, struct bpf_map *staged)
{
	int err = bpf_map__reuse_fd(events, s->audit_events_fd);

	if (!err)
		err = bpf_map__reuse_fd(stats, s->audit_stats_fd);
	return err ? err : bpf_map__reuse_fd(staged, s->audit_staged_fd);
}

/* ---- access sources: fault and pmu -------------------------------------------------------- */

static int cpu_online_cb(unsigned int cpu, void *ctx)
{
	struct pagemig_sampler *s = ((void **)ctx)[0];
	const struct perf_event_attr *attr = ((void **)ctx)[1];
	int *first_err = ((void **)ctx)[2];
	struct bpf_link *link;
	int fd;

	if (cpu >= s->topo.ncpus)
		return 0;
	fd = (int)syscall(__NR_perf_event_open, attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		if (!*first_err)
			*first_err = -errno;
		return 0;
	}
	link = bpf_program__attach_perf_event(s->access->progs.on_sample, fd);
	if (!link) {
		if (!*first_err)
			*first_err = -errno;
		close(fd);
		return 0;
	}
	s->pmu_links[cpu] = link; /* the link owns fd from now on */
	s->npmu++;
	return 0;
}

/* One sampling event per online CPU, each running on_sample. Returns the CPUs attached. */
static int attach_pmu(struct pagemig_sampler *s, const struct perf_event_attr *attr, int *first_err)
{
	char path[PATH_MAX], buf[4096];
	void *ctx[3] = {s, (void *)attr, first_err};
	FILE *f;

	s->pmu_links = calloc(s->topo.ncpus, sizeof(*s->pmu_links));
	if (!s->pmu_links)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/devices/system/cpu/online", s->cfg.sysfs_root);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -errno ? -errno : -EIO;
	}
	fclose(f);
	pagemig_parse_list(buf, cpu_online_cb, ctx);
	return (int)s->npmu;
}

static void detach_pmu(struct pagemig_sampler *s)
{
	if (!s->pmu_links)
		return;
	for (unsigned int i = 0; i < s->topo.ncpus; i++)
		bpf_link__destroy(s->pmu_links[i]);
	free(s->pmu_links);
	s->pmu_links = NULL;
	s->npmu = 0;
}

/* One ring record: 1 to PAGEMIG_ACCESS_BATCH samples taken on one CPU (sampler_records.h). */
static int on_access_record(void *ctx, void *data, size_t len)
{
	const struct pagemig_access_record *r = data;
	struct pagemig_sampler *s = ctx;
	size_t n = len / sizeof(*r);

	for (size_t i = 0; i < n; i++, r++) {
		s->stats.records++;
		if (r->source < PAGEMIG_SAMPLE__COUNT)
			s->stats.samples[r->source]++;
		/* A process unmanaged since the sample was taken: not its business any more. */
		if (!is_managed(s, r->tgid)) {
			s->stats.unmanaged++;
			continue;
		}
		if (r->source == PAGEMIG_SAMPLE_FAULT && !r->present)
			s->stats.not_present[s->table.allocs_count]++;
		if (!pagemig_access_table_add(&s->table, r))
			s->stats.table_dropped++;
	}
	return 0;
}

static void load_access(struct pagemig_sampler *s)
{
	bool fault = wanted(s, PAGEMIG_SOURCE_FAULT), pmu = wanted(s, PAGEMIG_SOURCE_PMU);
	struct perf_event_attr attr;
	char pmu_what[200] = "";
	int err, first_err = 0;

	if (fault && !tp_exists(s, "page_fault_user")) {
		set_status(s, PAGEMIG_SOURCE_FAULT, PAGEMIG_SOURCE_UNAVAILABLE, -ENOENT,
			   "not available: no exceptions:page_fault_user tracepoint in this kernel "
			   "(it exists on x86 only)");
		fault = false;
	}
	if (pmu) {
		if (s->cfg.pmu_attr) {
			attr = *s->cfg.pmu_attr;
			snprintf(pmu_what, sizeof(pmu_what),
				 "configured event type %u config %#llx", attr.type,
				 (unsigned long long)attr.config);
		} else if (pagemig_pmu_detect(s->cfg.sysfs_root, s->cfg.pmu_period, &attr, pmu_what,
					      sizeof(pmu_what))) {
			set_status(s, PAGEMIG_SOURCE_PMU, PAGEMIG_SOURCE_UNAVAILABLE, -ENODEV, "%s",
				   pmu_what);
			pmu = false;
		}
	}
	if (!fault && !pmu)
		return;

	s->access = sampler_access_bpf__open();
	if (!s->access) {
		err = -errno;
		goto err_report;
	}
	err = bpf_map__set_max_entries(s->access->maps.samples, s->cfg.access_ring_bytes);
	if (!err)
		err = reuse_shared(s, s->access->maps.managed, s->access->maps.cpu_node);
	if (err)
		goto err_destroy_skel;
	s->access->rodata->wakeup_bytes = s->cfg.access_ring_bytes / 2;
	bpf_program__set_autoload(s->access->progs.on_fault, fault);
	bpf_program__set_autoload(s->access->progs.flush_staged, fault);
	bpf_program__set_autoload(s->access->progs.on_sample, pmu);
	err = sampler_access_bpf__load(s->access);
	if (err)
		goto err_destroy_skel;
	err = pagemig_access_table_init(&s->table, s->cfg.max_pages);
	if (err)
		goto err_destroy_skel;
	s->rb = ring_buffer__new(bpf_map__fd(s->access->maps.samples), on_access_record, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto err_free_table;
	}

	if (fault) {
		s->fault_link = bpf_program__attach(s->access->progs.on_fault);
		if (!s->fault_link) {
			err = -errno;
			set_status(s, PAGEMIG_SOURCE_FAULT, PAGEMIG_SOURCE_FAILED, err,
				   "attach raw_tp/page_fault_user: %s", why(err));
		} else {
			set_status(s, PAGEMIG_SOURCE_FAULT, PAGEMIG_SOURCE_ACTIVE, 0,
				   "raw_tp/page_fault_user, ring %u KiB, %u pages per interval",
				   s->cfg.access_ring_bytes / 1024, s->cfg.max_pages);
		}
	}
	if (pmu) {
		err = attach_pmu(s, &attr, &first_err);
		if (err > 0) {
			set_status(s, PAGEMIG_SOURCE_PMU, PAGEMIG_SOURCE_ACTIVE, 0,
				   "%s on %d CPUs%s", pmu_what, err,
				   first_err ? " (refused on some)" : "");
		} else {
			enum pagemig_source_state state = PAGEMIG_SOURCE_FAILED;

			if (!err)
				err = first_err ? first_err : -ENODEV;
			detach_pmu(s);
			/* The event opened nowhere: the PMU is not usable here, which is not a
			 * failure of the sampler. */
			if (err == -ENOENT || err == -EOPNOTSUPP || err == -ENODEV)
				state = PAGEMIG_SOURCE_UNAVAILABLE;
			set_status(s, PAGEMIG_SOURCE_PMU, state, err,
				   "not available: perf_event_open of %s: %s", pmu_what, why(err));
		}
	}
	if (!s->fault_link && !s->npmu) {
		ring_buffer__free(s->rb);
		s->rb = NULL;
		pagemig_access_table_free(&s->table);
		sampler_access_bpf__destroy(s->access);
		s->access = NULL;
	}
	return;

err_free_table:
	pagemig_access_table_free(&s->table);
err_destroy_skel:
	sampler_access_bpf__destroy(s->access);
	s->access = NULL;
err_report:
	if (fault)
		set_status(s, PAGEMIG_SOURCE_FAULT, PAGEMIG_SOURCE_FAILED, err,
			   "load sampler_access: %s", why(err));
	if (pmu)
		set_status(s, PAGEMIG_SOURCE_PMU, PAGEMIG_SOURCE_FAILED, err,
			   "load sampler_access: %s", why(err));
}

/* ---- oncpu ------------------------------------------------------------------------------- */

static void load_sched(struct pagemig_sampler *s)
{
	int err;

	if (!wanted(s, PAGEMIG_SOURCE_ONCPU))
		return;
	if (!tp_exists(s, "sched_switch")) {
		set_status(s, PAGEMIG_SOURCE_ONCPU, PAGEMIG_SOURCE_UNAVAILABLE, -ENOENT,
			   "not available: no sched:sched_switch tracepoint");
		return;
	}
	s->sched = sampler_sched_bpf__open();
	if (!s->sched) {
		err = -errno;
		goto err_report;
	}
	err = bpf_map__set_max_entries(s->sched->maps.oncpu, s->cfg.max_oncpu);
	if (!err)
		err = reuse_shared(s, s->sched->maps.managed, s->sched->maps.cpu_node);
	if (!err)
		err = reuse_audit_shared(s, s->sched->maps.events, s->sched->maps.audit_stats,
					 s->sched->maps.staged);
	if (!err)
		err = sampler_sched_bpf__load(s->sched);
	if (err)
		goto err_destroy_skel;
	s->sched_link = bpf_program__attach(s->sched->progs.on_switch);
	if (!s->sched_link) {
		err = -errno;
		goto err_destroy_skel;
	}
	set_status(s, PAGEMIG_SOURCE_ONCPU, PAGEMIG_SOURCE_ACTIVE, 0,
		   "raw_tp/sched_switch, %u (tgid, node) entries", s->cfg.max_oncpu);
	return;

err_destroy_skel:
	sampler_sched_bpf__destroy(s->sched);
	s->sched = NULL;
err_report:
	set_status(s, PAGEMIG_SOURCE_ONCPU, PAGEMIG_SOURCE_FAILED, err, "sampler_sched: %s",
		   why(err));
}

/* ---- audit ------------------------------------------------------------------------------- */

/* The steps of a PAGEMIG_MIG_STEPS record, each fed as the record of its own it stands for. */
static void feed_steps(struct pagemig_sampler *s, const struct pagemig_mig_steps *r, size_t len)
{
	size_t n = r->n;

	if (n > PAGEMIG_AUDIT_BATCH ||
	    len < offsetof(struct pagemig_mig_steps, s) + n * sizeof(r->s[0]))
		return;
	for (size_t i = 0; i < n; i++) {
		struct pagemig_mig_event e = {
			.ts = r->ts,
			.tid = r->tid,
			.tgid = r->tgid,
			.type = r->s[i].type,
			.order = r->s[i].order,
			.cpu = r->cpu,
			.pte = {.addr = r->s[i].addr, .entry = r->s[i].entry},
		};

		s->stats.audit_events++;
		if (s->auditor)
			pagemig_audit_feed(s->auditor, &e);
	}
}

static int on_audit_record(void *ctx, void *data, size_t len)
{
	struct pagemig_sampler *s = ctx;
	const struct pagemig_mig_event *e = data;

	if (len >= offsetof(struct pagemig_mig_steps, s) && e->type == PAGEMIG_MIG_STEPS) {
		feed_steps(s, data, len);
		return 0;
	}
	if (len < sizeof(struct pagemig_mig_event))
		return 0;
	s->stats.audit_events++;
	if (s->auditor)
		pagemig_audit_feed(s->auditor, data);
	return 0;
}

static int pfn_node(uint64_t pfn, void *ctx)
{
	return pagemig_topo_pfn_node(ctx, pfn);
}

static struct bpf_program *audit_prog(struct sampler_audit_bpf *skel, enum audit_prog p)
{
	switch (p) {
	case AP_START:
		return skel->progs.on_migrate_start;
	case AP_END:
		return skel->progs.on_migrate_end;
	case AP_SET_PTE:
		return skel->progs.on_set_pte;
	case AP_REMOVE_PTE:
		return skel->progs.on_remove_pte;
	case AP_SET_PMD:
		return skel->progs.on_set_pmd;
	case AP_REMOVE_PMD:
		return skel->progs.on_remove_pmd;
	case AP_SWITCH:
		return skel->progs.on_switch;
	case AP__N:
		break;
	}
	return NULL;
}

/* Whether audit program p is loaded and attached. */
static bool audit_prog_used(const struct pagemig_sampler *s, enum audit_prog p, const bool *have,
			    bool want_thp)
{
	if (!have[p])
		return false;
	if (p == AP_SWITCH)
		return !s->sched; /* sampler_sched's program writes the staged steps */
	return p < AP_SET_PMD || want_thp;
}

static void load_audit(struct pagemig_sampler *s)
{
	bool want_thp = wanted(s, PAGEMIG_SOURCE_AUDIT_THP), have[AP__N];
	char missing[160] = "";
	int err;

	if (!wanted(s, PAGEMIG_SOURCE_AUDIT)) {
		if (want_thp)
			set_status(s, PAGEMIG_SOURCE_AUDIT_THP, PAGEMIG_SOURCE_UNAVAILABLE, -EINVAL,
				   "needs the audit source, which is off");
		return;
	}
	for (int p = 0; p < AP__N; p++) {
		have[p] = tp_exists(s, audit_tp[p]);
		if (!have[p] && p < AP_SET_PMD)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 " %s", audit_tp[p]);
	}
	if ((!have[AP_END] && !have[AP_SET_PTE]) || !have[AP_SWITCH]) {
		set_status(s, PAGEMIG_SOURCE_AUDIT, PAGEMIG_SOURCE_UNAVAILABLE, -ENOENT,
			   "not available: tracepoints missing:%s", missing);
		want_thp = false;
		goto thp_status;
	}
	if (want_thp && !have[AP_SET_PMD]) {
		set_status(
			s, PAGEMIG_SOURCE_AUDIT_THP, PAGEMIG_SOURCE_UNAVAILABLE, -ENOENT,
			"not available: no thp:set_migration_pmd (kernel without THP migration)");
		want_thp = false;
	}

	s->audit = sampler_audit_bpf__open();
	if (!s->audit) {
		err = -errno;
		goto err_report;
	}
	s->audit->rodata->audit_all = s->cfg.audit_all;
	err = bpf_map__set_max_entries(s->audit->maps.movers, s->cfg.max_movers);
	if (!err)
		err = reuse_audit_shared(s, s->audit->maps.events, s->audit->maps.audit_stats,
					 s->audit->maps.staged);
	if (err)
		goto err_destroy_skel;
	for (int p = 0; p < AP__N; p++)
		bpf_program__set_autoload(audit_prog(s->audit, p), audit_prog_used(s, p, have,
										   want_thp));
	err = sampler_audit_bpf__load(s->audit);
	if (err)
		goto err_destroy_skel;
	for (int p = 0; p < AP__N; p++) {
		if (!audit_prog_used(s, p, have, want_thp))
			continue;
		s->audit_links[p] = bpf_program__attach(audit_prog(s->audit, p));
		if (!s->audit_links[p]) {
			err = -errno;
			goto err_detach_links;
		}
	}
	err = pagemig_audit_new(s->cfg.audit_pages, pfn_node, &s->topo, &s->auditor);
	if (err)
		goto err_detach_links;
	/* Last, as a ring cannot be taken out of the manager again: one epoll fd for both. */
	if (s->rb) {
		err = ring_buffer__add(s->rb, bpf_map__fd(s->audit->maps.events), on_audit_record,
				       s);
	} else {
		s->rb = ring_buffer__new(bpf_map__fd(s->audit->maps.events), on_audit_record, s,
					 NULL);
		err = s->rb ? 0 : -errno;
	}
	if (err)
		goto err_free_auditor;
	set_status(s, PAGEMIG_SOURCE_AUDIT, PAGEMIG_SOURCE_ACTIVE, 0,
		   "raw_tp migrate:*, ring buffer %u KiB, %s%s%s", s->cfg.ringbuf_bytes / 1024,
		   s->cfg.audit_all ? "every mover" : "audited movers page by page",
		   *missing ? "; missing:" : "", missing);
	if (want_thp)
		set_status(s, PAGEMIG_SOURCE_AUDIT_THP, PAGEMIG_SOURCE_ACTIVE, 0,
			   "raw_tp thp:set/remove_migration_pmd");
	return;

err_free_auditor:
	pagemig_audit_free(s->auditor);
	s->auditor = NULL;
err_detach_links:
	for (int p = 0; p < AP__N; p++) {
		bpf_link__destroy(s->audit_links[p]);
		s->audit_links[p] = NULL;
	}
err_destroy_skel:
	sampler_audit_bpf__destroy(s->audit);
	s->audit = NULL;
err_report:
	set_status(s, PAGEMIG_SOURCE_AUDIT, PAGEMIG_SOURCE_FAILED, err, "sampler_audit: %s",
		   why(err));
thp_status:
	if (wanted(s, PAGEMIG_SOURCE_AUDIT_THP) &&
	    s->status[PAGEMIG_SOURCE_AUDIT_THP].state == PAGEMIG_SOURCE_OFF)
		set_status(s, PAGEMIG_SOURCE_AUDIT_THP, PAGEMIG_SOURCE_UNAVAILABLE, -ENODEV,
			   "needs the audit source, which did not load");
}

/* ---- softdirty and numa_hint --------------------------------------------------------------- */

static void probe_softdirty(struct pagemig_sampler *s)
{
	char reason[160];
	int err;

	if (!wanted(s, PAGEMIG_SOURCE_SOFTDIRTY))
		return;
	err = pagemig_softdirty_probe(s->cfg.proc_root, reason, sizeof(reason));
	if (err) {
		set_status(s, PAGEMIG_SOURCE_SOFTDIRTY, PAGEMIG_SOURCE_UNAVAILABLE, err, "%s",
			   reason);
		return;
	}
	s->softdirty_ok = true;
	if (s->status[PAGEMIG_SOURCE_FAULT].state != PAGEMIG_SOURCE_ACTIVE)
		set_status(s, PAGEMIG_SOURCE_SOFTDIRTY, PAGEMIG_SOURCE_IDLE, 0,
			   "%s, but the fault source is not active to see the faults", reason);
	else if (s->cfg.rearm_ms)
		set_status(s, PAGEMIG_SOURCE_SOFTDIRTY, PAGEMIG_SOURCE_ACTIVE, 0, "%s; every %u ms",
			   reason, s->cfg.rearm_ms);
	else
		set_status(s, PAGEMIG_SOURCE_SOFTDIRTY, PAGEMIG_SOURCE_ACTIVE, 0,
			   "%s; at every drain", reason);
}

/* kernel.numa_balancing: -1 when the kernel has no NUMA balancing, else its value. */
static int numa_balancing(const struct pagemig_sampler *s)
{
	char path[PATH_MAX];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/kernel/numa_balancing", s->cfg.proc_root);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Checked at load and at every drain: balancing may be switched on and off at run time. */
static void update_numa_hint(struct pagemig_sampler *s)
{
	struct pagemig_source_status *st = &s->status[PAGEMIG_SOURCE_NUMA_HINT];
	enum pagemig_source_state old = st->state;
	int nb;

	if (!wanted(s, PAGEMIG_SOURCE_NUMA_HINT))
		return;
	nb = numa_balancing(s);
	s->snapshot.numa_balancing = nb > 0;
	if (nb < 0) {
		if (old != PAGEMIG_SOURCE_UNAVAILABLE)
			set_status(s, PAGEMIG_SOURCE_NUMA_HINT, PAGEMIG_SOURCE_UNAVAILABLE, -ENOENT,
				   "not available: kernel without NUMA balancing");
	} else if (s->status[PAGEMIG_SOURCE_FAULT].state != PAGEMIG_SOURCE_ACTIVE) {
		if (old != PAGEMIG_SOURCE_UNAVAILABLE)
			set_status(s, PAGEMIG_SOURCE_NUMA_HINT, PAGEMIG_SOURCE_UNAVAILABLE, -ENODEV,
				   "needs the fault source, which is not active");
	} else if (nb == 0) {
		if (old != PAGEMIG_SOURCE_IDLE)
			set_status(s, PAGEMIG_SOURCE_NUMA_HINT, PAGEMIG_SOURCE_IDLE, 0,
				   "kernel NUMA balancing is off: no hinting faults to observe");
	} else if (old != PAGEMIG_SOURCE_ACTIVE) {
		set_status(s, PAGEMIG_SOURCE_NUMA_HINT, PAGEMIG_SOURCE_ACTIVE, 0,
			   "observing hinting faults through the fault source (numa_balancing=%d)",
			   nb);
	}
}

/*
 * Whether first touches count as accesses (pagemig_access_table.allocs_count): only where
 * nothing better comes - without soft-dirty re-arming they are all the fault source sees - or
 * where they cannot be told apart from NUMA balancing's hinting faults.
 */
static void update_alloc_weight(struct pagemig_sampler *s)
{
	s->table.allocs_count =
		s->status[PAGEMIG_SOURCE_SOFTDIRTY].state != PAGEMIG_SOURCE_ACTIVE ||
		s->snapshot.numa_balancing;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int alloc_buffers(struct pagemig_sampler *s)
{
	/* Room for the largest per-CPU value user space reads (the fault staging area). */
	size_t pc =
		(size_t)s->ncpus *
		MAX(MAX(MAX(sizeof(struct pagemig_access_stats),
			    sizeof(struct pagemig_sched_stats)),
			MAX(sizeof(struct pagemig_mig_counts), sizeof(struct pagemig_audit_stats))),
		    sizeof(struct pagemig_access_stage));

	/* zeroed: valgrind's model of bpf(2) marks one value written by a lookup in a per-CPU
	 * map, where the kernel writes one per possible CPU */
	s->percpu_buf = calloc(1, pc);
	if (!s->percpu_buf)
		return -ENOMEM;
	if (s->access) {
		s->snap_cap = (size_t)s->cfg.max_snapshot + s->table.cap;
		s->snap[0] = malloc(s->snap_cap * sizeof(*s->snap[0]));
		s->snap[1] = malloc(s->snap_cap * sizeof(*s->snap[1]));
		s->rank = malloc(s->snap_cap * sizeof(*s->rank));
		if (!s->snap[0] || !s->snap[1] || !s->rank)
			return -ENOMEM;
	}
	if (s->sched) {
		s->oncpu_cap = s->cfg.max_oncpu;
		s->oncpu[0] = malloc(s->oncpu_cap * sizeof(*s->oncpu[0]));
		s->oncpu[1] = malloc(s->oncpu_cap * sizeof(*s->oncpu[1]));
		s->oncpu_read = malloc(s->oncpu_cap * sizeof(*s->oncpu_read));
		if (!s->oncpu[0] || !s->oncpu[1] || !s->oncpu_read)
			return -ENOMEM;
	}
	s->snapshot.pages = s->snap[0];
	s->snapshot.oncpu = s->oncpu[0];
	return 0;
}

int pagemig_sampler_new(const struct pagemig_sampler_config *config, struct pagemig_sampler **ret)
{
	struct pagemig_sampler *s;
	int err;

	if (!ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->managed_fd = s->cpu_node_fd = -1;
	s->audit_events_fd = s->audit_stats_fd = s->audit_staged_fd = -1;
	err = resolve_config(config, &s->cfg);
	if (err)
		goto err_free;
	for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++)
		s->status[i].source = i;

	s->managed = calloc(s->cfg.max_tgids, sizeof(*s->managed));
	s->frozen = calloc(s->cfg.max_tgids, sizeof(*s->frozen));
	if (!s->managed || !s->frozen) {
		err = -ENOMEM;
		goto err_free;
	}
	err = pagemig_topo_load(s->cfg.sysfs_root, &s->topo);
	if (err) {
		pagemig_sampler_logf(&s->cfg, LOG_ERR, "cannot read the topology under '%s': %s",
				     s->cfg.sysfs_root, strerror(-err));
		goto err_free;
	}
	if (!s->cfg.max_oncpu)
		s->cfg.max_oncpu = s->cfg.max_tgids * (s->topo.nnodes + 1);
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		err = s->ncpus ? s->ncpus : -EINVAL;
		goto err_free_topo;
	}

	libbpf_sink = &s->cfg;
	s->old_print = libbpf_set_print(libbpf_print);

	s->btf = btf__load_vmlinux_btf();
	if (!s->btf) {
		err = -errno;
		for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++)
			if (i != PAGEMIG_SOURCE_SOFTDIRTY && i != PAGEMIG_SOURCE_NUMA_HINT &&
			    wanted(s, i))
				set_status(s, i, PAGEMIG_SOURCE_UNAVAILABLE, err,
					   "not available: kernel without BTF (%s); the CO-RE "
					   "programs need it",
					   strerror(-err));
	} else {
		err = create_shared_maps(s);
		if (err) {
			for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++)
				if (i != PAGEMIG_SOURCE_SOFTDIRTY &&
				    i != PAGEMIG_SOURCE_NUMA_HINT && wanted(s, i))
					set_status(s, i, PAGEMIG_SOURCE_FAILED, err,
						   "creating BPF maps: %s", why(err));
		} else {
			load_access(s);
			load_sched(s);
			load_audit(s);
		}
	}
	/* The kernel's BTF was only needed to see which tracepoints exist: several MiB parsed. */
	btf__free(s->btf);
	s->btf = NULL;
	probe_softdirty(s);
	update_numa_hint(s);
	update_alloc_weight(s);

	err = alloc_buffers(s);
	if (err)
		goto err_unload;
	s->loaded_ns = s->last_rearm_ns = now_ns();
	*ret = s;
	return 0;

err_unload:
	pagemig_sampler_free(s);
	return err;
err_free_topo:
	pagemig_topo_free(&s->topo);
err_free:
	free(s->managed);
	free(s->frozen);
	free(s);
	return err;
}

void pagemig_sampler_free(struct pagemig_sampler *s)
{
	if (!s)
		return;
	pagemig_audit_free(s->auditor);
	ring_buffer__free(s->rb);
	for (int p = 0; p < AP__N; p++)
		bpf_link__destroy(s->audit_links[p]);
	sampler_audit_bpf__destroy(s->audit);
	bpf_link__destroy(s->sched_link);
	sampler_sched_bpf__destroy(s->sched);
	detach_pmu(s);
	bpf_link__destroy(s->fault_link);
	sampler_access_bpf__destroy(s->access);
	if (s->cpu_node_fd >= 0)
		close(s->cpu_node_fd);
	if (s->audit_events_fd >= 0)
		close(s->audit_events_fd);
	if (s->audit_stats_fd >= 0)
		close(s->audit_stats_fd);
	if (s->audit_staged_fd >= 0)
		close(s->audit_staged_fd);
	if (s->managed_fd >= 0)
		close(s->managed_fd);
	btf__free(s->btf);
	if (libbpf_sink == &s->cfg) {
		libbpf_set_print(s->old_print);
		libbpf_sink = NULL;
	}
	pagemig_topo_free(&s->topo);
	free(s->percpu_buf);
	pagemig_access_table_free(&s->table);
	free(s->snap[0]);
	free(s->snap[1]);
	free(s->rank);
	free(s->oncpu[0]);
	free(s->oncpu[1]);
	free(s->oncpu_read);
	free(s->managed);
	free(s->frozen);
	free(s);
}

const struct pagemig_source_status *pagemig_sampler_sources(const struct pagemig_sampler *s)
{
	return s->status;
}

bool pagemig_sampler_any_active(const struct pagemig_sampler *s)
{
	return s->fault_link || s->npmu || s->sched_link || s->rb;
}

/* ---- managed processes ------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool is_managed(const struct pagemig_sampler *s, uint32_t tgid)
{
	return bsearch(&tgid, s->managed, s->nmanaged, sizeof(*s->managed), cmp_u32) != NULL;
}

/* Set or clear tgid's bit in the kernel's bitmap (only this thread writes it). */
static int set_managed_bit(struct pagemig_sampler *s, uint32_t tgid, bool on)
{
	__u32 word = tgid / 64;
	__u64 bits = 0;
	int err;

	if (s->managed_fd < 0)
		return 0;
	err = bpf_map_lookup_elem(s->managed_fd, &word, &bits);
	if (err)
		return err;
	if (on)
		bits |= 1ull << (tgid % 64);
	else
		bits &= ~(1ull << (tgid % 64));
	return bpf_map_update_elem(s->managed_fd, &word, &bits, BPF_ANY);
}

int pagemig_sampler_manage(struct pagemig_sampler *s, pid_t tgid)
{
	__u32 key = (__u32)tgid;
	int err;

	if (tgid <= 0)
		return -EINVAL;
	if ((uint32_t)tgid >= PAGEMIG_SAMPLER_TGID_LIMIT)
		return -ERANGE;
	if (is_managed(s, key))
		return 0;
	if (s->nmanaged >= s->cfg.max_tgids)
		return -ENOSPC;
	err = set_managed_bit(s, key, true);
	if (err)
		return err;
	/* re-armed at the next drain: memory it touched before is invisible until then */
	s->managed[s->nmanaged++] = (struct sampler_managed){.tgid = key};
	qsort(s->managed, s->nmanaged, sizeof(*s->managed), cmp_u32);
	return 0;
}

int pagemig_sampler_unmanage(struct pagemig_sampler *s, pid_t tgid)
{
	__u32 key = (__u32)tgid;
	struct sampler_managed *p =
		bsearch(&key, s->managed, s->nmanaged, sizeof(*s->managed), cmp_u32);

	if (!p)
		return -ENOENT;
	memmove(p, p + 1, (size_t)(s->managed + s->nmanaged - (p + 1)) * sizeof(*p));
	s->nmanaged--;
	set_managed_bit(s, key, false);
	if (s->sched) {
		int fd = bpf_map__fd(s->sched->maps.oncpu);
		struct pagemig_oncpu_key k = {.tgid = key, .node = PAGEMIG_SAMPLER_NODE_UNKNOWN};

		bpf_map_delete_elem(fd, &k);
		for (k.node = 0; k.node < s->topo.nnodes; k.node++)
			bpf_map_delete_elem(fd, &k);
	}
	return 0;
}

int pagemig_sampler_oncpu_now(const struct pagemig_sampler *s, pid_t tgid, uint64_t *ns,
			      unsigned int nnodes)
{
	struct pagemig_oncpu_key k = {.tgid = (__u32)tgid};
	struct pagemig_oncpu_val v;
	int fd;

	if (!s->sched)
		return -ENODEV;
	fd = bpf_map__fd(s->sched->maps.oncpu);
	for (k.node = 0; k.node < nnodes; k.node++) {
		if (!bpf_map_lookup_elem(fd, &k, &v))
			ns[k.node] = v.ns;
		else if (errno == ENOENT)
			ns[k.node] = 0;
		else
			return -errno;
	}
	return 0;
}

int pagemig_sampler_audit_mover(struct pagemig_sampler *s, pid_t tgid, bool on)
{
	__u32 key = (__u32)tgid;
	__u8 one = 1;
	int err;

	if (!s->audit)
		return -ENODEV;
	if (tgid <= 0)
		return -EINVAL;
	if (!on) {
		err = bpf_map__delete_elem(s->audit->maps.movers, &key, sizeof(key), 0);
		return err == -ENOENT ? 0 : err;
	}
	err = bpf_map__update_elem(s->audit->maps.movers, &key, sizeof(key), &one, sizeof(one),
				   BPF_ANY);
	return err == -E2BIG ? -ENOSPC : err;
}

/* Whether a settled process's period, rearm_ms << backoff, is still under the minute. */
static bool settled_below_minute(const struct pagemig_sampler *s, const struct sampler_managed *m)
{
	return ((uint64_t)s->cfg.rearm_ms << m->backoff) < SETTLED_PERIOD_MS;
}

/* A settled process's next period is longer (see struct sampler_managed). */
static void settled_lengthen(const struct pagemig_sampler *s, struct sampler_managed *m)
{
	if (m->settled && m->backoff < REARM_MAX_BACKOFF &&
	    (m->backoff < SETTLED_MIN_BACKOFF || settled_below_minute(s, m)))
		m->backoff++;
}

/* Returns 1 when re-armed, else clear_refs's negative errno (counted in rearm_failed). */
static int rearm_one(struct pagemig_sampler *s, struct sampler_managed *m, uint64_t now)
{
	int err;

	m->last_rearm_ns = now;
	m->unarmed = 0;
	settled_lengthen(s, m);
	err = pagemig_softdirty_clear(s->cfg.proc_root, (pid_t)m->tgid);
	if (err) {
		s->stats.rearm_failed++;
		return err;
	}
	s->stats.rearms++;
	return 1;
}

static struct sampler_managed *find_managed(struct pagemig_sampler *s, pid_t tgid)
{
	__u32 key = (__u32)tgid;

	return bsearch(&key, s->managed, s->nmanaged, sizeof(*s->managed), cmp_u32);
}

/* The early re-arms: force also clears a process re-armed at the last drain or since. */
static int rearm_before_period(struct pagemig_sampler *s, pid_t tgid, bool force)
{
	struct sampler_managed *m = find_managed(s, tgid);

	if (!m)
		return -ENOENT;
	if (!s->softdirty_ok)
		return -EOPNOTSUPP;
	if (m->held)
		return 0;
	if (!force && s->last_drain_ns && m->last_rearm_ns >= s->last_drain_ns)
		return 0; /* its samples since then are still to come */
	s->stats.rearms_early++;
	return rearm_one(s, m, now_ns());
}

int pagemig_sampler_rearm_early(struct pagemig_sampler *s, pid_t tgid)
{
	return rearm_before_period(s, tgid, false);
}

int pagemig_sampler_rearm_now(struct pagemig_sampler *s, pid_t tgid)
{
	return rearm_before_period(s, tgid, true);
}

int pagemig_sampler_rearm(struct pagemig_sampler *s)
{
	uint64_t now = now_ns();
	int done = 0;

	if (!s->softdirty_ok)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < s->nmanaged; i++)
		done += rearm_one(s, &s->managed[i], now) > 0;
	s->last_rearm_ns = now;
	return done;
}

/* Whether m grew by pages that are not armed and has stopped growing (GROWN_MIN_PAGES). */
static bool grown_unarmed(const struct sampler_managed *m)
{
	return !m->touching && m->unarmed >= GROWN_MIN_PAGES &&
	       (uint64_t)m->unarmed * 8 >= m->sampled;
}

/* Whether the caller skips this due re-arm of m (rearm_settled); if so its next period, doubled
 * as after a re-arm, starts now. Not with rearm_ms 0: re-armed at every drain, as asked. */
static bool settled_skip(struct pagemig_sampler *s, struct sampler_managed *m, uint64_t now)
{
	if (!m->settled || !m->last_rearm_ns || !s->cfg.rearm_settled || !s->cfg.rearm_ms ||
	    !settled_below_minute(s, m) || s->cfg.rearm_settled(s->cfg.rearm_ctx, (pid_t)m->tgid))
		return false;
	m->last_rearm_ns = now;
	settled_lengthen(s, m);
	s->stats.rearms_skipped++;
	return true;
}

/* Re-arm the processes whose period (rearm_ms, longer for settled ones) has passed, and those
 * that have just grown (grown_unarmed). */
static void rearm_due(struct pagemig_sampler *s, uint64_t now)
{
	for (size_t i = 0; i < s->nmanaged; i++) {
		struct sampler_managed *m = &s->managed[i];
		uint64_t period = (uint64_t)s->cfg.rearm_ms * NSEC_PER_MSEC << m->backoff;

		if (m->held)
			continue;
		/* never re-armed (new, or unsettled): due whatever the clock says */
		if (!s->cfg.rearm_ms || !m->last_rearm_ns || now - m->last_rearm_ns >= period) {
			s->stats.rearms_first += !m->last_rearm_ns;
			if (!settled_skip(s, m, now))
				rearm_one(s, m, now);
		} else if (grown_unarmed(m)) {
			s->stats.rearms_grown++;
			rearm_one(s, m, now);
		}
	}
	s->last_rearm_ns = now;
}

/*
 * Per managed process: whether the interval's samples (sorted by tgid) hold first touches of
 * it, how many pages it first touched since its last re-arm, and how many page entries it has
 * in the new snapshot (sorted by tgid too).
 */
static void count_growth(struct pagemig_sampler *s, const struct pagemig_access_sample *v,
			 size_t n, const struct pagemig_page_score *pages, size_t npages)
{
	size_t j = 0, k = 0;

	for (size_t i = 0; i < s->nmanaged; i++) {
		struct sampler_managed *m = &s->managed[i];
		uint32_t touched = 0;

		while (j < n && v[j].key.tgid < m->tgid)
			j++;
		for (; j < n && v[j].key.tgid == m->tgid; j++)
			touched += v[j].val.allocs > 0;
		m->touching = touched > 0;
		m->unarmed = m->unarmed + touched < m->unarmed ? UINT32_MAX : m->unarmed + touched;
		m->sampled = 0;
		while (k < npages && pages[k].tgid < m->tgid)
			k++;
		for (; k < npages && pages[k].tgid == m->tgid; k++)
			m->sampled++;
	}
}

int pagemig_sampler_hold(struct pagemig_sampler *s, pid_t tgid, bool hold)
{
	struct sampler_managed *m = find_managed(s, tgid);

	if (!m)
		return -ENOENT;
	if (hold != m->held)
		s->stats.holds += hold;
	m->held = hold;
	return 0;
}

int pagemig_sampler_settle(struct pagemig_sampler *s, pid_t tgid, bool settled)
{
	struct sampler_managed *m = find_managed(s, tgid);

	if (!m)
		return -ENOENT;
	if (!settled && m->backoff)
		m->last_rearm_ns = 0; /* it was left alone for a while: re-arm at the next drain */
	if (!settled)
		m->backoff = 0;
	else if (!m->settled) /* settled_first_ms */
		while (m->backoff < REARM_MAX_BACKOFF &&
		       ((uint64_t)s->cfg.rearm_ms << m->backoff) < s->cfg.settled_first_ms)
			m->backoff++;
	m->settled = settled;
	return 0;
}

/* ---- drain ------------------------------------------------------------------------------- */

/* Sum a per-CPU array entry made of u64 counters into sum (nwords of them). */
static int read_percpu(struct pagemig_sampler *s, int fd, __u32 idx, __u64 *sum, size_t nwords)
{
	const __u64 *v = s->percpu_buf;
	int err = bpf_map_lookup_elem(fd, &idx, s->percpu_buf);

	memset(sum, 0, nwords * sizeof(*sum));
	if (err)
		return err;
	for (int cpu = 0; cpu < s->ncpus; cpu++)
		for (size_t w = 0; w < nwords; w++)
			sum[w] += v[(size_t)cpu * nwords + w];
	return 0;
}

/* Run flush_staged on cpu. Returns what it returned (samples moved, or
 * PAGEMIG_ACCESS_FLUSH_BUSY) or -errno. */
static long long flush_cpu(int prog_fd, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	return err ? err : (long long)opts.retval;
}

/*
 * Move the fault samples each CPU has staged (below a full batch) into the access ring, so that
 * the interval holds every fault taken before the drain. One lookup of the per-CPU staging map
 * says which CPUs hold any; only those are flushed (an IPI each, when not this CPU). A CPU caught
 * in the middle of staging (busy) is tried once more; if it is still busy, or cannot be reached
 * (offline), its samples stay staged and come with a later drain: counted in flush_missed.
 */
static void flush_staged(struct pagemig_sampler *s)
{
	const struct pagemig_access_stage *st = s->percpu_buf;
	int prog_fd = bpf_program__fd(s->access->progs.flush_staged);
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(s->access->maps.staging), &zero, s->percpu_buf))
		st = NULL; /* cannot tell: flush every CPU */
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		long long ret;

		if (st && !st[cpu].n)
			continue;
		ret = flush_cpu(prog_fd, cpu);
		if (ret == PAGEMIG_ACCESS_FLUSH_BUSY)
			ret = flush_cpu(prog_fd, cpu);
		if (ret >= 0 && ret != PAGEMIG_ACCESS_FLUSH_BUSY)
			continue;
		/* offline CPUs are expected when the map could not be read */
		if (ret == -ENXIO && !st)
			continue;
		s->stats.flush_missed++;
		if (ret < 0 && !s->flush_warned) {
			s->flush_warned = true;
			pagemig_sampler_logf(
				&s->cfg, LOG_WARNING,
				"flushing the fault samples staged on CPU %d: %s; they "
				"wait for a later drain (said once)",
				cpu, why((int)ret));
		}
	}
}

static void drain_access(struct pagemig_sampler *s, double factor)
{
	struct pagemig_page_score *prev = s->snap[s->cur], *next = s->snap[!s->cur];
	struct pagemig_access_stats st;
	struct pagemig_decay_result r;
	size_t nfrozen = 0;

	if (!read_percpu(s, bpf_map__fd(s->access->maps.access_stats), 0, (__u64 *)&st,
			 sizeof(st) / sizeof(__u64))) {
		s->stats.ring_dropped = st.ring_full;
		s->stats.no_node = st.no_node;
		s->stats.pmu_no_addr = st.no_addr;
		s->stats.wakeups = st.wakeups;
		s->stats.flush_busy = st.flush_busy;
	}
	/* The ring was consumed by the caller: the table holds the whole interval. */
	if (s->stats.table_dropped > s->table_dropped_seen && !s->table_warned) {
		/* what is not sampled is not placed: the operator should hear of it */
		s->table_warned = true;
		pagemig_sampler_logf(
			&s->cfg, LOG_NOTICE,
			"%llu samples dropped in one interval: the managed processes "
			"touched more than max_pages = %u pages; those are not seen "
			"(raise max_pages, about 200 bytes per entry; said once)",
			(unsigned long long)(s->stats.table_dropped - s->table_dropped_seen),
			s->cfg.max_pages);
	}
	s->table_dropped_seen = s->stats.table_dropped;
	pagemig_access_sort(s->table.v, s->table.n);
	/* a held process is not re-armed: that its pages were not sampled says nothing of them,
	 * and decayed they would drop out of the next plan, moves pending included */
	for (size_t i = 0; i < s->nmanaged; i++)
		if (s->managed[i].held)
			s->frozen[nfrozen++] = s->managed[i].tgid;
	r = pagemig_decay_pages(prev, s->snapshot.n_pages, s->table.v, s->table.n, factor,
				s->frozen, nfrozen, s->cfg.min_score, s->cfg.max_snapshot, next,
				s->rank);
	if (s->softdirty_ok) /* growth only matters to re-arming */
		count_growth(s, s->table.v, s->table.n, next, r.n);
	pagemig_access_table_reset(&s->table);
	s->stats.snapshot_dropped += r.dropped;
	s->snapshot.pages = next;
	s->snapshot.n_pages = r.n;
	s->snapshot.n_first_seen = r.first_seen;
}

static void drain_oncpu(struct pagemig_sampler *s, double factor)
{
	struct pagemig_oncpu_score *prev = s->oncpu[s->cur], *next = s->oncpu[!s->cur];
	int fd = bpf_map__fd(s->sched->maps.oncpu);
	struct pagemig_oncpu_key key, nkey;
	struct pagemig_sched_stats st;
	size_t n = 0;
	bool has;

	if (!read_percpu(s, bpf_map__fd(s->sched->maps.sched_stats), 0, (__u64 *)&st,
			 sizeof(st) / sizeof(__u64))) {
		s->stats.switches = st.switches;
		s->stats.slices = st.slices;
		s->stats.oncpu_failed = st.update_failed;
	}
	/* Cumulative values, read without deleting: no increment is lost between reads. */
	has = !bpf_map_get_next_key(fd, NULL, &key);
	while (has && n < s->oncpu_cap) {
		has = !bpf_map_get_next_key(fd, &key, &nkey);
		if (!bpf_map_lookup_elem(fd, &key, &s->oncpu_read[n].val)) {
			s->oncpu_read[n].key = key;
			n++;
		}
		key = nkey;
	}
	pagemig_oncpu_sort(s->oncpu_read, n);
	s->snapshot.n_oncpu =
		pagemig_decay_oncpu(prev, s->snapshot.n_oncpu, s->oncpu_read, n, factor, next);
	s->snapshot.oncpu = next;
}

static void drain_reasons(struct pagemig_sampler *s)
{
	int fd = bpf_map__fd(s->audit->maps.by_reason);
	struct pagemig_audit_stats st;

	for (__u32 r = 0; r < PAGEMIG_MR__COUNT; r++) {
		struct pagemig_mig_counts now, *tot = &s->snapshot.migrations_total[r];
		__u64 *a = (__u64 *)&now, *t = (__u64 *)tot,
		      *d = (__u64 *)&s->snapshot.migrations[r];

		if (read_percpu(s, fd, r, a, sizeof(now) / sizeof(__u64)))
			continue;
		for (size_t w = 0; w < sizeof(now) / sizeof(__u64); w++)
			d[w] = a[w] - t[w];
		*tot = now;
	}
	if (!read_percpu(s, bpf_map__fd(s->audit->maps.audit_stats), 0, (__u64 *)&st,
			 sizeof(st) / sizeof(__u64)))
		s->stats.audit_dropped = st.dropped;
}

int pagemig_sampler_drain(struct pagemig_sampler *s, const struct pagemig_snapshot **ret)
{
	uint64_t now = now_ns(), since = s->last_drain_ns ? s->last_drain_ns : s->loaded_ns;
	double factor = pagemig_decay_factor(now - since, s->cfg.half_life_ms * NSEC_PER_MSEC);

	uint64_t t_read, t_merge, t_other;

	/* What the CPUs staged goes into the ring first, then the ring into this interval. */
	if (s->fault_link)
		flush_staged(s);
	if (s->rb)
		pagemig_sampler_poll(s, 0);
	t_read = now_ns();
	if (s->access)
		drain_access(s, factor);
	t_merge = now_ns();
	if (s->sched)
		drain_oncpu(s, factor);
	if (s->audit)
		drain_reasons(s);
	s->cur = !s->cur;
	update_numa_hint(s);
	update_alloc_weight(s);
	t_other = now_ns();
	s->stats.drain_read_ns = t_read - now;
	s->stats.drain_merge_ns = t_merge - t_read;
	s->stats.drain_other_ns = t_other - t_merge;

	s->snapshot.seq++;
	s->snapshot.time_ns = now;
	s->snapshot.interval_ns = now - since;
	s->snapshot.factor = factor;
	s->last_drain_ns = now;

	/* Re-arm after draining, so the faults it causes land in the next interval. */
	if (s->softdirty_ok && s->nmanaged)
		rearm_due(s, now);
	s->stats.drain_rearm_ns = now_ns() - t_other;
	if (ret)
		*ret = &s->snapshot;
	return 0;
}

const struct pagemig_snapshot *pagemig_sampler_snapshot(const struct pagemig_sampler *s)
{
	return &s->snapshot;
}

int pagemig_sampler_fd(const struct pagemig_sampler *s)
{
	return s->rb ? ring_buffer__epoll_fd(s->rb) : -ENODEV;
}

int pagemig_sampler_poll(struct pagemig_sampler *s, int timeout_ms)
{
	int n;

	if (!s->rb)
		return -ENODEV;
	n = timeout_ms ? ring_buffer__poll(s->rb, timeout_ms) : ring_buffer__consume(s->rb);
	return n == -EINTR ? 0 : n;
}

int pagemig_sampler_audit_fd(const struct pagemig_sampler *s)
{
	return pagemig_sampler_fd(s);
}

int pagemig_sampler_audit_poll(struct pagemig_sampler *s, int timeout_ms)
{
	return pagemig_sampler_poll(s, timeout_ms);
}

struct pagemig_audit *pagemig_sampler_audit(struct pagemig_sampler *s)
{
	return s->auditor;
}

void pagemig_sampler_stats(struct pagemig_sampler *s, struct pagemig_sampler_stats *ret)
{
	*ret = s->stats;
}

/* ---- memory ------------------------------------------------------------------------------ */

/* What the kernel charges for a map (fdinfo "memlock"). */
static uint64_t map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static uint64_t htab_bytes(uint64_t entries, uint64_t key, uint64_t value, bool lru,
			   unsigned int ncpus);

/*
 * A map's memory: what the kernel charges for it, or what its layout needs when that is more.
 * Kernels before 6.4 charge only round_up(key + value) * max_entries, which is 0 for a ring
 * buffer and leaves out the element headers of a hash map.
 */
static uint64_t map_bytes(const struct bpf_map *map, unsigned int ncpus)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), n = bpf_map__max_entries(map);
	uint64_t k = bpf_map__key_size(map), v = bpf_map__value_size(map), est;
	uint64_t charged = map_memlock(bpf_map__fd(map));

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_RINGBUF:
		est = n + 2 * page;
		break;
	case BPF_MAP_TYPE_HASH:
		est = htab_bytes(n, k, v, false, ncpus);
		break;
	case BPF_MAP_TYPE_LRU_HASH:
		est = htab_bytes(n, k, v, true, ncpus);
		break;
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		est = n * ((v + 7) & ~7ull) * ncpus;
		break;
	default:
		est = n * ((v + 7) & ~7ull);
		break;
	}
	return charged > est ? charged : est;
}

/* The maps of one object, by part; with_audit_shared: the audit's maps shared with sampler_sched
 * too (each counted with one object only). */
static void obj_memory(struct bpf_object *obj, unsigned int ncpus, bool with_audit_shared,
		       struct pagemig_sampler_memory *m)
{
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);
		uint64_t v;

		if (!strncmp(name, "pm_audit_", 9)) {
			if (with_audit_shared)
				m->kernel_audit += map_bytes(map, ncpus);
			continue;
		}
		/* The other shared maps appear in every object (renamed "pm_*" by reuse_fd):
		 * counted once, below. */
		if (!strncmp(name, "pm_", 3))
			continue;
		v = map_bytes(map, ncpus);
		if (!strcmp(name, "samples") || !strcmp(name, "staging"))
			m->kernel_access += v;
		else if (!strcmp(name, "oncpu") || !strcmp(name, "current_slice"))
			m->kernel_oncpu += v;
		else if (!strcmp(name, "movers") || !strcmp(name, "by_reason"))
			m->kernel_audit += v;
		else
			m->kernel_other += v;
	}
}

int pagemig_sampler_memory(const struct pagemig_sampler *s, struct pagemig_sampler_memory *m)
{
	unsigned int ncpus = (unsigned int)s->ncpus;

	memset(m, 0, sizeof(*m));
	if (s->access)
		obj_memory(s->access->obj, ncpus, false, m);
	if (s->sched)
		obj_memory(s->sched->obj, ncpus, !s->audit, m);
	if (s->audit)
		obj_memory(s->audit->obj, ncpus, true, m);
	if (s->managed_fd >= 0) {
		uint64_t est = PAGEMIG_SAMPLER_TGID_WORDS * sizeof(__u64);
		uint64_t charged = map_memlock(s->managed_fd);

		m->kernel_other += (charged > est ? charged : est) + map_memlock(s->cpu_node_fd);
	}
	m->user_drain = s->table.cap ? pagemig_access_table_footprint(s->table.cap) : 0;
	m->user_snapshot = s->snap_cap * (2 * sizeof(*s->snap[0]) + sizeof(*s->rank)) +
			   s->oncpu_cap * (2 * sizeof(*s->oncpu[0]) + sizeof(*s->oncpu_read));
	m->user_audit = s->auditor ? pagemig_audit_footprint(s->cfg.audit_pages) : 0;
	m->total = m->kernel_access + m->kernel_oncpu + m->kernel_audit + m->kernel_other +
		   m->user_drain + m->user_snapshot + m->user_audit;
	return 0;
}

/*
 * The kernel's layouts (6.1 to 6.18, x86-64): a hash element is a 48-byte header (list node, LRU
 * node, hash) followed by key and value, each rounded up to 8 bytes; every element is
 * preallocated (LRU: max_entries; plain hash: max_entries + one per CPU); buckets are 16 bytes,
 * a power of two of them. A ring buffer is its data pages plus two control pages.
 */
static uint64_t htab_bytes(uint64_t entries, uint64_t key, uint64_t value, bool lru,
			   unsigned int ncpus)
{
	uint64_t elems = lru ? entries : entries + ncpus, buckets = 1;

	while (buckets < entries)
		buckets <<= 1;
	return elems * (48 + ((key + 7) & ~7ull) + ((value + 7) & ~7ull)) + buckets * 16;
}

void pagemig_sampler_estimate(const struct pagemig_sampler_config *config, unsigned int nodes,
			      unsigned int ncpus, struct pagemig_sampler_memory *m)
{
	struct pagemig_sampler_config c;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	memset(m, 0, sizeof(*m));
	if (resolve_config(config, &c))
		return;
	if (!c.max_oncpu)
		c.max_oncpu = c.max_tgids * (nodes + 1);
	m->kernel_access = c.access_ring_bytes + 2 * page +
			   (uint64_t)ncpus * ((sizeof(struct pagemig_access_stage) + 7) & ~7ull);
	m->kernel_oncpu = htab_bytes(c.max_oncpu, sizeof(struct pagemig_oncpu_key),
				     sizeof(struct pagemig_oncpu_val), false, ncpus) +
			  (uint64_t)ncpus * 16;
	m->kernel_audit = c.ringbuf_bytes + 2 * page +
			  htab_bytes(c.max_movers, sizeof(__u32), sizeof(__u8), false, ncpus) +
			  (uint64_t)ncpus * PAGEMIG_MR__COUNT * sizeof(struct pagemig_mig_counts) +
			  (uint64_t)ncpus * ((sizeof(struct pagemig_mig_steps) + 7) & ~7ull) +
			  (uint64_t)ncpus * sizeof(struct pagemig_audit_stats);
	/* Filter, cpu_node, the per-CPU counters and the audit's .rodata (a page-rounded
	 * mmapable array). */
	m->kernel_other =
		PAGEMIG_SAMPLER_TGID_WORDS * sizeof(__u64) + (uint64_t)ncpus * 4 + 2 * page +
		(uint64_t)ncpus *
			(sizeof(struct pagemig_access_stats) + sizeof(struct pagemig_sched_stats));
	m->user_drain = pagemig_access_table_footprint(c.max_pages);
	m->user_snapshot =
		2 * ((uint64_t)c.max_snapshot + c.max_pages) * sizeof(struct pagemig_page_score) +
		(uint64_t)c.max_oncpu * (2 * sizeof(struct pagemig_oncpu_score) +
					 sizeof(struct pagemig_oncpu_sample));
	m->user_audit = pagemig_audit_footprint(c.audit_pages);
	m->total = m->kernel_access + m->kernel_oncpu + m->kernel_audit + m->kernel_other +
		   m->user_drain + m->user_snapshot + m->user_audit;
}
