// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The /etc/pagemig.conf parser (syntax and value forms: config.h).
 *
 * Everything about a key lives in one row of keys[]: its section, name, default, documentation
 * and (in struct key_impl) how its value is parsed, range-checked, stored, compared and
 * rendered. The defaults are applied by parsing the rows' default strings, so the documented
 * default and the built-in one cannot drift apart.
 *
 * The parser reads the whole text line by line, reports every problem it finds with its line
 * and keeps going; checks that involve several keys run at the end with the lines where those
 * keys were set. A parse that found errors leaves the caller's configuration untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sections and value kinds ------------------------------------------------------------- */

enum sect {
	SECT_NONE = 0, /* before the first header */
	SECT_DAEMON,
	SECT_SAMPLER,
	SECT_MIGRATE,
	SECT_POLICY,
	SECT__COUNT,
	SECT_SKIP, /* after a header that could not be used: its keys are not checked */
};

static const char *const sect_names[SECT__COUNT] = {
	[SECT_DAEMON] = "daemon",
	[SECT_SAMPLER] = "sampler",
	[SECT_MIGRATE] = "migrate",
	[SECT_POLICY] = "policy",
};

enum vtype {
	V_DURATION, /* uint, in units of res_us microseconds */
	V_SIZE,	    /* uint bytes */
	V_RATE,	    /* uint bytes per second */
	V_NUMBER,   /* uint */
	V_PERCENT,  /* double, 5% = 5.0 */
	V_DECIMAL,  /* double */
	V_BOOL,	    /* bool */
	V_KEYWORD,  /* int (enum) from keywords[] */
	V_STRING,   /* char[width], checked by strkind */
	V_NODES,    /* uint64_t bit mask */
	V_NODE,	    /* int node id, -1 for "nearest" */
	V_SOURCES,  /* unsigned int PAGEMIG_SOURCE_BIT()s */
};

enum strkind {
	STR_SOCKET,
	STR_GROUP,
	STR_METRICS,
	STR_LISTEN,
	STR_COMM,
	STR_EXE,
	STR_CGROUP,
};

struct keyword {
	const char *name;
	int value;
};

#define K_ZERO	    (1u << 0) /* 0 is allowed below min; special says what it means */
#define K_AUTO	    (1u << 1) /* "auto" stores 0 */
#define K_UNLIMITED (1u << 2) /* "unlimited" stores unlimited */
#define K_FAMILY    (1u << 3) /* watermark.node<N>: one key per node */
#define K_MIN_EXCL  (1u << 4) /* the decimal minimum itself is not allowed */

/* How one key is parsed and stored (struct pagemig_config_key.priv). */
struct key_impl {
	enum sect sect;
	enum vtype vt;
	size_t off;   /* in struct pagemig_config, or struct pagemig_policy_rule for policy */
	size_t width; /* bytes of the field (the buffer size of a string) */
	unsigned int res_us; /* durations: the stored unit in microseconds */
	unsigned int flags;  /* K_* */
	uint64_t min, max;   /* integers, in stored units */
	uint64_t unlimited;  /* the value stored for "unlimited" */
	double dmin, dmax;   /* decimals and percentages */
	const struct keyword *keywords;
	enum strkind str;
	const char *special; /* what 0 / auto / unlimited means, for messages */
};

static const struct keyword mode_words[] = {
	{"enforce", PAGEMIG_MODE_ENFORCE},
	{"observe", PAGEMIG_MODE_OBSERVE},
	{NULL, 0},
};

static const struct keyword level_words[] = {
	{"err", LOG_ERR},   {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
	{"info", LOG_INFO}, {"debug", LOG_DEBUG},     {NULL, 0},
};

static const struct keyword type_words[] = {
	{"locality", PAGEMIG_POLICY_LOCALITY},
	{"tiering", PAGEMIG_POLICY_TIERING},
	{"pin", PAGEMIG_POLICY_PIN},
	{"ignore", PAGEMIG_POLICY_IGNORE},
	{NULL, 0},
};

static const struct keyword bool_words[] = {
	{"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1},
	{"off", 0}, {"1", 1},  {"0", 0},    {NULL, 0},
};

static const char *const source_names[PAGEMIG_SOURCE__COUNT] = {
	[PAGEMIG_SOURCE_FAULT] = "fault",	  [PAGEMIG_SOURCE_PMU] = "pmu",
	[PAGEMIG_SOURCE_SOFTDIRTY] = "softdirty", [PAGEMIG_SOURCE_NUMA_HINT] = "numa_hint",
	[PAGEMIG_SOURCE_ONCPU] = "oncpu",	  [PAGEMIG_SOURCE_AUDIT] = "audit",
	[PAGEMIG_SOURCE_AUDIT_THP] = "audit_thp",
};

#define CFG(f) \
	.off = offsetof(struct pagemig_config, f), .width = sizeof(((struct pagemig_config *)0)->f)
#define RULE(f)                                         \
	.off = offsetof(struct pagemig_policy_rule, f), \
	.width = sizeof(((struct pagemig_policy_rule *)0)->f)
#define IMPL(...) (&(const struct key_impl){__VA_ARGS__})

#define T_LOC  (1u << PAGEMIG_POLICY_LOCALITY)
#define T_TIER (1u << PAGEMIG_POLICY_TIERING)
#define T_PIN  (1u << PAGEMIG_POLICY_PIN)
#define T_ALL  ((1u << PAGEMIG_POLICY__COUNT) - 1)

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#define MS_PER_H (UINT64_C(3600) * 1000)

static const struct pagemig_config_key keys[] = {
	/* ---- [daemon] ---- */
	{"daemon", "interval", "5s", "duration", "100ms..1h",
	 "How often pagemigd drains the sampler, plans and moves pages. A cycle also comes a "
	 "second after a process leaves its node, after memory of a process is armed for the "
	 "first time, and while pages wait for a second sample (pagemigd(8)).",
	 0,
	 IMPL(.sect = SECT_DAEMON, .vt = V_DURATION, CFG(interval_ms), .res_us = 1000, .min = 100,
	      .max = MS_PER_H)},
	{"daemon", "mode", "enforce", "keyword", "enforce, observe",
	 "enforce moves pages; observe makes and reports the same decisions but never moves a "
	 "page (like --observe).",
	 0, IMPL(.sect = SECT_DAEMON, .vt = V_KEYWORD, CFG(mode), .keywords = mode_words)},
	{"daemon", "socket", "/run/pagemig/pagemigd.sock", "path",
	 "absolute path, at most 107 bytes",
	 "The control socket that pagemigctl talks to (--socket overrides it).", 0,
	 IMPL(.sect = SECT_DAEMON, .vt = V_STRING, CFG(socket_path), .str = STR_SOCKET)},
	{"daemon", "socket_group", "pagemig", "group", "group name or number",
	 "Members of this group may use the read-only commands of the socket (mode 0660); "
	 "changes need root. A group that does not exist leaves the socket to root.",
	 0, IMPL(.sect = SECT_DAEMON, .vt = V_STRING, CFG(socket_group), .str = STR_GROUP)},
	{"daemon", "log_level", "info", "keyword", "err, warning, notice, info, debug",
	 "Messages less important than this syslog level are dropped.", 0,
	 IMPL(.sect = SECT_DAEMON, .vt = V_KEYWORD, CFG(log_level), .keywords = level_words)},
	{"daemon", "metrics_file", "", "path", "absolute path ending in .prom, or empty (off)",
	 "Prometheus metrics are written to this file for node_exporter's textfile collector; "
	 "empty: no file.",
	 0, IMPL(.sect = SECT_DAEMON, .vt = V_STRING, CFG(metrics_file), .str = STR_METRICS)},

	{"daemon", "metrics_listen", "", "address",
	 "HOST:PORT (HOST 127.x.y.z, [::1] or localhost; PORT at most 65535), or empty (off)",
	 "Serve the same metrics over HTTP at http://HOST:PORT/metrics, for Prometheus to scrape; "
	 "loopback only, as there is no authentication; port 0 picks a free port; empty: off.",
	 0, IMPL(.sect = SECT_DAEMON, .vt = V_STRING, CFG(metrics_listen), .str = STR_LISTEN)},

	/* ---- [sampler] ---- */
	{"sampler", "sources", "all", "source list",
	 "fault, pmu, softdirty, numa_hint, oncpu, audit, audit_thp, or all",
	 "The eBPF sources to load; pagemigd reports which ones the kernel accepted.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_SOURCES, CFG(sampler.sources))},
	{"sampler", "max_pages", "524288", "number", "1024..4194304",
	 "(process, page, node) entries pagemigd adds samples up in between two drains (2 GiB of "
	 "4 KiB pages); samples of further entries are dropped (counted, and said once).",
	 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.max_pages), .min = 1024,
	      .max = 4194304)},
	{"sampler", "max_processes", "1024", "number", "1..65536",
	 "Processes sampled at the same time.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.max_tgids), .min = 1,
	      .max = 65536)},
	{"sampler", "max_oncpu", "auto", "number", "auto, or 16..1048576",
	 "(process, node) on-CPU time entries; auto: max_processes x (nodes + 1).", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.max_oncpu), .flags = K_AUTO,
	      .min = 16, .max = 1048576, .special = "auto: max_processes x (nodes + 1)")},
	{"sampler", "max_movers", "64", "number", "1..4096",
	 "Processes whose migrations the audit follows page by page.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.max_movers), .min = 1,
	      .max = 4096)},
	{"sampler", "access_ringbuf", "8MiB", "size", "4KiB..1GiB",
	 "Ring buffer the access samples wait in until pagemigd reads them (24.5 bytes per fault "
	 "sample: each CPU collects 16 before it writes them, the rest are flushed at every "
	 "drain; 32 bytes per PMU sample); rounded up to a power of two.",
	 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_SIZE, CFG(sampler.access_ring_bytes), .min = 4 * KIB,
	      .max = GIB)},
	{"sampler", "ringbuf", "1MiB", "size", "4KiB..1GiB",
	 "Ring buffer of the migration audit (~26 bytes per step, two steps per page moved: "
	 "each CPU collects 16 before it writes them, the rest when the mover leaves the CPU or "
	 "its call ends; 48 bytes per call started or ended); rounded up to a power of two.",
	 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_SIZE, CFG(sampler.ringbuf_bytes), .min = 4 * KIB,
	      .max = GIB)},
	{"sampler", "max_snapshot", "auto", "number", "auto, or 1024..16777216",
	 "Decayed page scores kept from one interval to the next; beyond it the lowest are "
	 "dropped (and counted); auto: max_pages.",
	 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.max_snapshot), .flags = K_AUTO,
	      .min = 1024, .max = 16777216, .special = "auto: max_pages")},
	{"sampler", "half_life", "10s", "duration", "1s..1h",
	 "Without new samples a page's score halves in this time.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_DURATION, CFG(sampler.half_life_ms), .res_us = 1000,
	      .min = 1000, .max = MS_PER_H)},
	{"sampler", "min_score", "0.05", "decimal", "0.001..1000.0",
	 "Scores that decay below this are forgotten.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_DECIMAL, CFG(sampler.min_score), .dmin = 0.001,
	      .dmax = 1000)},
	{"sampler", "rearm", "10s", "duration", "0, or 1s..1h",
	 "The soft-dirty bits of the sampled processes are cleared at most this often, so that "
	 "their next writes fault (and are sampled) again; 0: every interval. Otherwise a process "
	 "with nothing to move that runs where it ran is cleared less and less often, down to "
	 "every 8th period or about once a minute, whichever is rarer (the period doubles, "
	 "from 8 s or more), "
	 "and again at once when that changes; under locality, with a clear home node, it is "
	 "not cleared until that period reaches the minute, unless more of its memory turned up off "
	 "that node; nor, with its threads spread over nodes, unless it has more memory. A process "
	 "with pages seen used in one interval "
	 "only (hot far pages under tiering; under locality any, when its threads have no "
	 "clear home) is cleared at once, for their second sample; one with more planned moves pending than three intervals do "
	 "is not cleared until they are nearly done; one that has just filled more of its memory "
	 "(an eighth or more, since its last clearing) is cleared once it stops; one that leaves "
	 "its home node is cleared at once (the departure watch).",
	 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_DURATION, CFG(sampler.rearm_ms), .res_us = 1000,
	      .flags = K_ZERO, .min = 1000, .max = MS_PER_H, .special = "0: every interval")},
	{"sampler", "pmu_period", "10007", "number", "100..1000000000",
	 "Hardware memory-access events per PMU sample.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.pmu_period), .min = 100,
	      .max = 1000000000)},
	{"sampler", "audit_pages", "65536", "number", "1024..4194304",
	 "Pages the migration audit remembers.", 0,
	 IMPL(.sect = SECT_SAMPLER, .vt = V_NUMBER, CFG(sampler.audit_pages), .min = 1024,
	      .max = 4194304)},
	{"sampler", "audit_all", "no", "boolean", "yes, no",
	 "Audit every mover (NUMA balancing, compaction, ...) page by page, not only pagemigd; "
	 "heavy.",
	 0, IMPL(.sect = SECT_SAMPLER, .vt = V_BOOL, CFG(sampler.audit_all))},

	/* ---- [migrate] ---- */
	{"migrate", "rate", "32MiB/s", "rate", "unlimited (or 0), or 4KiB/s..1TiB/s",
	 "At most this much memory is moved per second, all processes together.", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_RATE, CFG(rate_bytes_per_s),
	      .flags = K_UNLIMITED | K_ZERO, .min = 4 * KIB, .max = TIB, .unlimited = 0,
	      .special = "unlimited or 0: no limit")},
	{"migrate", "pages_per_call", "1024", "number", "1..65536",
	 "At most this many entries go to one move_pages(2) call: 4 KiB pages, or huge pages "
	 "sent as one entry each (call_budget bounds the pages).",
	 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_NUMBER, CFG(pages_per_call), .min = 1, .max = 65536)},
	{"migrate", "call_budget", "20ms", "duration", "100us..10s, or unlimited",
	 "Target time of one move_pages(2) call; batches shrink to meet it.", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_DURATION, CFG(call_budget_us), .res_us = 1,
	      .flags = K_UNLIMITED, .min = 100, .max = 10000000, .unlimited = UINT_MAX,
	      .special = "unlimited: no budget")},
	{"migrate", "threads", "1", "number", "1..64",
	 "Move a group of pages from this many threads at once (from 512 pages on), each with its "
	 "own move_pages(2) calls: faster where a call's fixed cost or copying leaves CPUs idle, "
	 "at the price of that many busy CPUs while pages move.",
	 0, IMPL(.sect = SECT_MIGRATE, .vt = V_NUMBER, CFG(threads), .min = 1, .max = 64)},
	{"migrate", "max_retries", "3", "number", "1..100",
	 "Retries of a page whose failure is transient (busy, locked, no memory yet).", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_NUMBER, CFG(max_retries), .min = 1, .max = 100)},
	{"migrate", "retry_backoff", "200us", "duration", "10us..1s",
	 "Delay before the first retry round; it doubles every round.", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_DURATION, CFG(backoff_us), .res_us = 1, .min = 10,
	      .max = 1000000)},
	{"migrate", "verify", "yes", "boolean", "yes, no",
	 "Ask the kernel where every page is after moving it (catches huge pages and moves the "
	 "kernel did not report).",
	 0, IMPL(.sect = SECT_MIGRATE, .vt = V_BOOL, CFG(verify))},
	{"migrate", "move_shared", "no", "boolean", "yes, no",
	 "Also move pages that other processes map too (MPOL_MF_MOVE_ALL).", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_BOOL, CFG(move_shared))},
	{"migrate", "watermark", "5%", "percent", "0%..90%",
	 "Pages are not moved to a node with less than this share of its memory free; tiering "
	 "demotes cold pages from near nodes below it.",
	 0, IMPL(.sect = SECT_MIGRATE, .vt = V_PERCENT, CFG(watermark_pct), .dmin = 0, .dmax = 90)},
	{"migrate", "watermark.node<N>", "", "percent", "0%..90%, N = 0..63",
	 "watermark for node N only, e.g. watermark.node2 = 10%; empty: watermark.", 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_PERCENT,
	      .off = offsetof(struct pagemig_config, watermark_node_pct), .width = sizeof(double),
	      .flags = K_FAMILY, .dmin = 0, .dmax = 90)},
	{"migrate", "cooldown", "1m", "duration", "0..24h",
	 "A page pagemigd moved is left where it is for this long; under locality it follows its "
	 "process sooner when the process has gone to run on another node since (a new phase).",
	 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_DURATION, CFG(cooldown_ms), .res_us = 1000, .min = 0,
	      .max = 24 * MS_PER_H)},
	{"migrate", "pingpong_intervals", "4", "number", "0 (off), or 1..1000",
	 "A page moved back within this many intervals is frozen where it is (and counted); 0: "
	 "no ping-pong detection. Under the locality policy a page wanted back later is frozen too "
	 "while its process still runs where it ran when the page moved; once it has a new home "
	 "node (a home that only fell short of min_share for a while is not new), the page "
	 "follows at once, and while the process runs mostly where the page is "
	 "wanted (short of a new home) the page waits for the cooldown instead of freezing.",
	 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_NUMBER, CFG(pingpong_intervals), .flags = K_ZERO,
	      .min = 1, .max = 1000, .special = "0: no ping-pong detection")},
	{"migrate", "freeze", "5m", "duration", "1s..24h",
	 "A page frozen for ping-ponging is left alone this long; so is a page the kernel refused "
	 "to move for a lasting reason (another process maps it, it cannot be migrated), as far "
	 "as the same move goes.",
	 0,
	 IMPL(.sect = SECT_MIGRATE, .vt = V_DURATION, CFG(freeze_ms), .res_us = 1000, .min = 1000,
	      .max = 24 * MS_PER_H)},
	{"migrate", "min_rss", "32MiB", "size", "0..1024TiB",
	 "Processes with less resident memory are never sampled or moved, whatever the "
	 "policies say.",
	 0, IMPL(.sect = SECT_MIGRATE, .vt = V_SIZE, CFG(min_rss), .min = 0, .max = 1024 * TIB)},

	/* ---- [policy NAME] ---- */
	{"policy", "pid", "", "number", "1..4194304", "Match this process id only.", T_ALL,
	 IMPL(.sect = SECT_POLICY, .vt = V_NUMBER, RULE(match_pid), .min = 1, .max = 4194304)},
	{"policy", "comm", "", "pattern", "fnmatch(3) pattern, at most 15 bytes",
	 "Match the process name (/proc/PID/comm).", T_ALL,
	 IMPL(.sect = SECT_POLICY, .vt = V_STRING, RULE(match_comm), .str = STR_COMM)},
	{"policy", "exe", "", "pattern",
	 "fnmatch(3) pattern of an absolute path, at most 255 bytes",
	 "Match the executable (/proc/PID/exe); '*' matches '/' too.", T_ALL,
	 IMPL(.sect = SECT_POLICY, .vt = V_STRING, RULE(match_exe), .str = STR_EXE)},
	{"policy", "cgroup", "", "path", "cgroup v2 path from the root, at most 255 bytes",
	 "Match processes in this cgroup or below it.", T_ALL,
	 IMPL(.sect = SECT_POLICY, .vt = V_STRING, RULE(match_cgroup), .str = STR_CGROUP)},
	{"policy", "min_rss", "0", "size", "0..1024TiB",
	 "Match processes with at least this much resident memory.", T_ALL,
	 IMPL(.sect = SECT_POLICY, .vt = V_SIZE, RULE(match_min_rss), .min = 0, .max = 1024 * TIB)},
	{"policy", "type", "", "keyword", "locality, tiering, pin, ignore (required)",
	 "locality: hot pages to the node that uses them; tiering: hot pages up from far "
	 "nodes, cold ones down; pin: memory kept on nodes; ignore: never touched.",
	 T_ALL, IMPL(.sect = SECT_POLICY, .vt = V_KEYWORD, RULE(type), .keywords = type_words)},
	{"policy", "hot_score", "1.0", "decimal", "0.001..1000000.0",
	 "A page is hot (worth moving) from this decayed access score.", T_LOC | T_TIER,
	 IMPL(.sect = SECT_POLICY, .vt = V_DECIMAL, RULE(hot_score), .dmin = 0.001,
	      .dmax = 1000000)},
	{"policy", "min_share", "0.75", "decimal", "above 0.5, at most 1.0",
	 "The share of a page's accesses its top node needs, otherwise the page is shared and "
	 "stays put (unless that node is the process's home, has most of them and alone was "
	 "sampled in the last interval); also the share of on-CPU time a home node needs: of "
	 "the time decayed at half_life, or of the recent time, in which the last interval "
	 "counts half and the one before a quarter (threads that all moved two intervals ago, "
	 "busy on a quarter of a CPU or more, have a new home). In a process without a home, a "
	 "page once seen from two nodes stays shared when its later samples name one, and a "
	 "page moves only once sampled in two intervals.",
	 T_LOC,
	 IMPL(.sect = SECT_POLICY, .vt = V_DECIMAL, RULE(min_share), .flags = K_MIN_EXCL,
	      .dmin = 0.5, .dmax = 1)},
	{"policy", "cold_score", "0.25", "decimal", "0.001..1000000.0, below hot_score",
	 "A page below this score is cold: demoted when its near node is short of memory.", T_TIER,
	 IMPL(.sect = SECT_POLICY, .vt = V_DECIMAL, RULE(cold_score), .dmin = 0.001,
	      .dmax = 1000000)},
	{"policy", "nodes", "", "node list", "node ids 0..63 and ranges, e.g. 0,2-3 (required)",
	 "The nodes the memory is kept on.", T_PIN,
	 IMPL(.sect = SECT_POLICY, .vt = V_NODES, RULE(pin_nodes))},
	{"policy", "target", "nearest", "node", "nearest, or one of nodes",
	 "Where stray pages go; nearest: the nearest of nodes with room.", T_PIN,
	 IMPL(.sect = SECT_POLICY, .vt = V_NODE, RULE(pin_target))},
};

#define N_KEYS ARRAY_SIZE(keys)

static const struct key_impl *impl(const struct pagemig_config_key *k)
{
	return k->priv;
}

static size_t key_index(const struct pagemig_config_key *k)
{
	return (size_t)(k - keys);
}

static const struct pagemig_config_key *find_key(enum sect sect, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (impl(&keys[i])->sect == sect && !strcmp(keys[i].key, name))
			return &keys[i];
	return NULL;
}

static const struct pagemig_config_key *find_key_any(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!(impl(&keys[i])->flags & K_FAMILY) && !strcmp(keys[i].key, name))
			return &keys[i];
	return NULL;
}

const struct pagemig_config_key *pagemig_config_keys(size_t *count)
{
	if (count)
		*count = N_KEYS;
	return keys;
}

const char *pagemig_mode_name(enum pagemig_mode mode)
{
	switch (mode) {
	case PAGEMIG_MODE_ENFORCE:
		return "enforce";
	case PAGEMIG_MODE_OBSERVE:
		return "observe";
	}
	return "?";
}

/* ---- parser state and diagnostics --------------------------------------------------------- */

struct rule_state {
	unsigned int line;	   /* of the [policy NAME] header */
	unsigned int seen[N_KEYS]; /* line where each key was given, 0 = not given */
	unsigned char set[N_KEYS]; /* 1: given a valid value, 2: an invalid one, 0: neither */
	bool dup;		   /* the name was taken: reported, left out of cross-checks */
};

struct parser {
	const char *name;
	struct pagemig_config_diag *diag;
	struct pagemig_config cfg;
	size_t rules_cap;
	struct rule_state *rs;
	enum sect sect;
	size_t rule; /* current rule (SECT_POLICY) */
	unsigned int sect_line[SECT__COUNT];
	unsigned int seen[N_KEYS];
	unsigned char set[N_KEYS];
	unsigned int wm_seen[PAGEMIG_TOPO_MAX_NODES];
	const char *key; /* the key being parsed, as written ("watermark.node2") */
	bool oom;
	struct pagemig_config_diag own_diag; /* when the caller passes none */
};

/* A user value shortened for messages, control characters replaced by '?'. */
struct shown {
	char s[56];
};

static struct shown show(const char *v)
{
	struct shown r;
	size_t n = strlen(v), i;

	for (i = 0; i < n && i < sizeof(r.s) - 1; i++)
		r.s[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	r.s[i] = 0;
	if (n > sizeof(r.s) - 1)
		memcpy(r.s + sizeof(r.s) - 4, "...", 4);
	return r;
}

__attribute__((format(printf, 4, 5))) static void
report(struct parser *p, enum pagemig_config_severity sev, unsigned int line, const char *fmt, ...)
{
	struct pagemig_config_diag *d;
	struct pagemig_config_message *m;
	va_list ap;
	int n;

	if (!p) /* applying built-in defaults: they are valid */
		return;
	d = p->diag;
	if (sev == PAGEMIG_CONFIG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= PAGEMIG_CONFIG_DIAG_MAX)
		return;
	m = &d->msg[d->n++];
	m->severity = sev;
	m->line = line;
	va_start(ap, fmt);
	n = vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(m->text))
		memcpy(m->text + sizeof(m->text) - 4, "...", 4);
}

#define diag_error(p, line, ...) report(p, PAGEMIG_CONFIG_ERROR, line, __VA_ARGS__)
#define diag_warn(p, line, ...)	 report(p, PAGEMIG_CONFIG_WARNING, line, __VA_ARGS__)

int pagemig_config_diag_format(const struct pagemig_config_diag *diag, unsigned int i, char *buf,
			       size_t len)
{
	const struct pagemig_config_message *m;
	const char *sev;

	if (!diag || i >= diag->n || i >= PAGEMIG_CONFIG_DIAG_MAX)
		return -EINVAL;
	m = &diag->msg[i];
	sev = m->severity == PAGEMIG_CONFIG_WARNING ? "warning: " : "";
	if (m->line)
		return snprintf(buf, len, "%s:%u: %s%s", diag->name, m->line, sev, m->text);
	return snprintf(buf, len, "%s: %s%s", diag->name, sev, m->text);
}

void pagemig_config_diag_print(FILE *out, const struct pagemig_config_diag *diag)
{
	char buf[PAGEMIG_CONFIG_MSG_MAX + 300];
	unsigned int errors = 0, warnings = 0;

	for (unsigned int i = 0; i < diag->n; i++) {
		pagemig_config_diag_format(diag, i, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
		if (diag->msg[i].severity == PAGEMIG_CONFIG_ERROR)
			errors++;
		else
			warnings++;
	}
	errors = diag->errors - errors;
	warnings = diag->warnings - warnings;
	if (errors && warnings)
		fprintf(out, "%s: %u more error%s and %u more warning%s not shown\n", diag->name,
			errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	else if (errors || warnings)
		fprintf(out, "%s: %u more %s%s not shown\n", diag->name, errors + warnings,
			errors ? "error" : "warning", errors + warnings == 1 ? "" : "s");
}

/* Messages in line order; the order of discovery within a line. */
static void sort_diag(struct pagemig_config_diag *d)
{
	for (unsigned int i = 1; i < d->n; i++) {
		struct pagemig_config_message m = d->msg[i];
		unsigned int j = i;

		while (j > 0 && d->msg[j - 1].line > m.line) {
			d->msg[j] = d->msg[j - 1];
			j--;
		}
		d->msg[j] = m;
	}
}

/* ---- small helpers ------------------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim blanks at both ends, in place. */
static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		e--;
	*e = 0;
	return s;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* " (comments must be on a line of their own)" when v looks like it carries one. */
static const char *comment_hint(const char *v)
{
	if (strstr(v, " #") || strstr(v, "\t#") || strstr(v, " ;") || strstr(v, "\t;"))
		return " (comments must be on a line of their own)";
	return "";
}

/* Levenshtein distance of short strings, capped at 9. */
static unsigned int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return 9;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] > 9 ? 9 : row[lb];
}

/* A close name: at most 1 edit for names of up to 4 characters, 2 beyond. */
static bool close_to(const char *typed, const char *known)
{
	unsigned int d = distance(typed, known);

	return d <= (strlen(known) <= 4 ? 1u : 2u);
}

/* Leading decimal digits of s into *ret; *end after them. Returns 0, -EINVAL without a digit,
 * -ERANGE when the number does not fit 64 bits (all digits are consumed anyway). */
static int scan_uint(const char *s, uint64_t *ret, const char **end)
{
	uint64_t v = 0;
	bool over = false;

	if (!isdigit((unsigned char)*s)) {
		*end = s;
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int digit = (unsigned int)(*s - '0');

		if (v > (UINT64_MAX - digit) / 10)
			over = true;
		else
			v = v * 10 + digit;
	}
	*end = s;
	*ret = v;
	return over ? -ERANGE : 0;
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit duration_units[] = {
	{"us", 1},
	{"ms", 1000},
	{"s", 1000000},
	{"m", UINT64_C(60000000)},
	{"min", UINT64_C(60000000)},
	{"h", UINT64_C(3600000000)},
};

static const struct unit size_units[] = {
	{"B", 1},
	{"K", KIB},
	{"KiB", KIB},
	{"KB", 1000},
	{"M", MIB},
	{"MiB", MIB},
	{"MB", 1000000},
	{"G", GIB},
	{"GiB", GIB},
	{"GB", UINT64_C(1000000000)},
	{"T", TIB},
	{"TiB", TIB},
	{"TB", UINT64_C(1000000000000)},
};

/* Parse errors beyond -EINVAL (not that kind of value at all) and -ERANGE (too large). */
#define E_NOUNIT   1000 /* a duration without unit */
#define E_FRACTION 1001 /* "1.5s" */
#define E_NEGATIVE 1002
#define E_DECIMALS 1003 /* more than 6 decimal places */
#define E_NOPERSEC 1004 /* a rate without "/s" */
#define E_NOPCT	   1005 /* a percentage without '%' */

/* "<digits> [blanks] <unit>" into *ret (number x unit multiplier). */
static int parse_scaled(const char *v, const struct unit *units, size_t n_units, bool need_unit,
			uint64_t *ret)
{
	const char *end, *u;
	uint64_t num;
	int r;

	if (*v == '-')
		return -E_NEGATIVE;
	r = scan_uint(v, &num, &end);
	if (r == -EINVAL)
		return -EINVAL;
	if (*end == '.' && isdigit((unsigned char)end[1]))
		return -E_FRACTION;
	u = skip_blanks(end);
	if (!*u) {
		if (r)
			return r;
		if (need_unit && num)
			return -E_NOUNIT;
		*ret = num;
		return 0;
	}
	for (size_t i = 0; i < n_units; i++) {
		if (strcmp(u, units[i].name))
			continue;
		if (r)
			return r;
		if (num && units[i].mult > UINT64_MAX / num)
			return -ERANGE;
		*ret = num * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

/* "<digits>[.<1-6 digits>]" exactly. The value is (integer * 10^k + fraction) / 10^k, computed
 * from exact integers so that rendering and parsing again gives the same double. */
static int parse_decimal(const char *v, double *ret)
{
	const char *end;
	uint64_t ip, frac = 0, scale = 1;
	int r;

	if (*v == '-')
		return -E_NEGATIVE;
	r = scan_uint(v, &ip, &end);
	if (r == -EINVAL)
		return -EINVAL;
	if (*end == '.') {
		const char *f = end + 1;

		if (!isdigit((unsigned char)*f))
			return -EINVAL;
		for (; isdigit((unsigned char)*f); f++) {
			if (scale == 1000000)
				return -E_DECIMALS;
			frac = frac * 10 + (uint64_t)(*f - '0');
			scale *= 10;
		}
		end = f;
	}
	if (*end)
		return -EINVAL;
	if (r || ip > UINT64_C(1000000000000))
		return -ERANGE;
	*ret = (double)(ip * scale + frac) / (double)scale;
	return 0;
}

static const struct keyword *find_word(const struct keyword *words, const char *v)
{
	for (; words->name; words++)
		if (!strcasecmp(words->name, v))
			return words;
	return NULL;
}

/* "a, b, c" of the keywords' names. */
static void list_words(const struct keyword *words, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (; words->name && at < len; words++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", words->name);
}

/* ---- rendering of values ------------------------------------------------------------------ */

static void render_duration(char *buf, size_t len, uint64_t v, unsigned int res_us)
{
	static const struct unit order[] = {
		{"h", UINT64_C(3600000000)},
		{"m", UINT64_C(60000000)},
		{"s", 1000000},
		{"ms", 1000},
		{"us", 1},
	};

	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		uint64_t m;

		if (order[i].mult < res_us || order[i].mult % res_us)
			continue;
		m = order[i].mult / res_us;
		if (v % m == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(v / m), order[i].name);
			return;
		}
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)v, res_us == 1 ? "us" : "ms");
}

static void render_size(char *buf, size_t len, uint64_t v)
{
	static const struct unit order[] = {
		{"TiB", TIB},
		{"GiB", GIB},
		{"MiB", MIB},
		{"KiB", KIB},
		{"TB", UINT64_C(1000000000000)},
		{"GB", UINT64_C(1000000000)},
		{"MB", 1000000},
		{"KB", 1000},
	};

	for (size_t i = 0; v && i < ARRAY_SIZE(order); i++)
		if (v % order[i].mult == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(v / order[i].mult),
				 order[i].name);
			return;
		}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* At most 6 decimal places, trailing zeros dropped; keep_point keeps "1.0" for whole values. */
static void render_decimal(char *buf, size_t len, double d, bool keep_point)
{
	char *e;

	snprintf(buf, len, "%.6f", d);
	e = buf + strlen(buf);
	while (e > buf && e[-1] == '0')
		e--;
	if (e > buf && e[-1] == '.')
		e += keep_point ? 1 : -1;
	*e = 0;
}

static void render_nodes(char *buf, size_t len, uint64_t mask)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned int n = 0; n < 64 && at < len; n++) {
		unsigned int last = n;

		if (!(mask & (UINT64_C(1) << n)))
			continue;
		while (last + 1 < 64 && (mask & (UINT64_C(1) << (last + 1))))
			last++;
		if (last == n)
			at += (size_t)snprintf(buf + at, len - at, "%s%u", at ? "," : "", n);
		else
			at += (size_t)snprintf(buf + at, len - at, "%s%u-%u", at ? "," : "", n,
					       last);
		n = last;
	}
}

static void render_sources(char *buf, size_t len, unsigned int bits)
{
	size_t at = 0;

	buf[0] = 0;
	if (bits == PAGEMIG_SOURCES_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	for (unsigned int s = 0; s < PAGEMIG_SOURCE__COUNT && at < len; s++)
		if (bits & PAGEMIG_SOURCE_BIT(s))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
					       source_names[s]);
}

/* A number of a key's kind (duration, size, rate, number) as it is written. */
static void render_uint(const struct key_impl *ki, uint64_t v, char *buf, size_t len)
{
	switch (ki->vt) {
	case V_DURATION:
		render_duration(buf, len, v, ki->res_us);
		break;
	case V_SIZE:
		render_size(buf, len, v);
		break;
	case V_RATE: {
		size_t n;

		render_size(buf, len, v);
		n = strlen(buf);
		snprintf(buf + n, len - n, "/s");
		break;
	}
	default:
		snprintf(buf, len, "%llu", (unsigned long long)v);
		break;
	}
}

static void render_double(const struct key_impl *ki, double d, char *buf, size_t len)
{
	render_decimal(buf, len, d, ki->vt == V_DECIMAL);
	if (ki->vt == V_PERCENT) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "%%");
	}
}

/* ---- field access ------------------------------------------------------------------------- */

static uint64_t get_uint(const void *base, const struct key_impl *ki)
{
	const char *p = (const char *)base + ki->off;
	uint64_t v64;
	uint32_t v32;
	uint8_t v8;

	switch (ki->width) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

static void put_uint(void *base, const struct key_impl *ki, uint64_t v)
{
	char *p = (char *)base + ki->off;
	uint32_t v32 = (uint32_t)v;
	uint8_t v8 = (uint8_t)v;

	switch (ki->width) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static double get_double(const void *base, const struct key_impl *ki, unsigned int node)
{
	double d;

	memcpy(&d, (const char *)base + ki->off + node * sizeof(double), sizeof(d));
	return d;
}

static void put_double(void *base, const struct key_impl *ki, unsigned int node, double d)
{
	memcpy((char *)base + ki->off + node * sizeof(double), &d, sizeof(d));
}

static int get_int(const void *base, const struct key_impl *ki)
{
	int v;

	memcpy(&v, (const char *)base + ki->off, sizeof(v));
	return v;
}

static void put_int(void *base, const struct key_impl *ki, int v)
{
	memcpy((char *)base + ki->off, &v, sizeof(v));
}

static bool get_bool(const void *base, const struct key_impl *ki)
{
	bool v;

	memcpy(&v, (const char *)base + ki->off, sizeof(v));
	return v;
}

/*
 * The value of key k in base (struct pagemig_config or struct pagemig_policy_rule; node for the
 * watermark.node<N> family) as it is written in the file; "" for a key that is unset.
 */
static void render_key(const struct pagemig_config_key *k, const void *base, unsigned int node,
		       char *buf, size_t len)
{
	const struct key_impl *ki = impl(k);
	const struct keyword *w;
	uint64_t u;
	int i;

	buf[0] = 0;
	switch (ki->vt) {
	case V_DURATION:
	case V_SIZE:
	case V_RATE:
	case V_NUMBER:
		u = get_uint(base, ki);
		if ((ki->flags & K_UNLIMITED) && u == ki->unlimited)
			snprintf(buf, len, "unlimited");
		else if ((ki->flags & K_AUTO) && u == 0)
			snprintf(buf, len, "auto");
		else if (u || strcmp(k->def, "") || ki->vt != V_NUMBER)
			render_uint(ki, u, buf, len);
		break;
	case V_PERCENT:
	case V_DECIMAL:
		render_double(ki, get_double(base, ki, node), buf, len);
		break;
	case V_BOOL:
		snprintf(buf, len, "%s", get_bool(base, ki) ? "yes" : "no");
		break;
	case V_KEYWORD:
		i = get_int(base, ki);
		for (w = ki->keywords; w->name; w++)
			if (w->value == i) {
				snprintf(buf, len, "%s", w->name);
				break;
			}
		break;
	case V_STRING: {
		const char *s = (const char *)base + ki->off;
		size_t n = strnlen(s, ki->width);

		/* quoted when the quotes or blanks at its ends would otherwise be lost */
		if (n && (is_blank(s[0]) || is_blank(s[n - 1]) || s[0] == '"' || strstr(s, " #") ||
			  strstr(s, " ;")))
			snprintf(buf, len, "\"%.*s\"", (int)n, s);
		else
			snprintf(buf, len, "%.*s", (int)n, s);
		break;
	}
	case V_NODES:
		render_nodes(buf, len, get_uint(base, ki));
		break;
	case V_NODE:
		i = get_int(base, ki);
		if (i < 0)
			snprintf(buf, len, "nearest");
		else
			snprintf(buf, len, "%d", i);
		break;
	case V_SOURCES:
		render_sources(buf, len, (unsigned int)get_uint(base, ki));
		break;
	}
}

/* ---- value parsers: check, report, store -------------------------------------------------- */

/* The key as written, for messages. */
static const char *kname(const struct parser *p, const struct pagemig_config_key *k)
{
	return p && p->key ? p->key : k->key;
}

/* What a value of this kind looks like, for "is not a ..." messages. */
static const char *kind_hint(const struct key_impl *ki)
{
	switch (ki->vt) {
	case V_DURATION:
		return "write a whole number and a unit (us, ms, s, m, h), e.g. 500ms or 5s";
	case V_SIZE:
		return "write a whole number of bytes with an optional unit: K, KiB, M, MiB, G, "
		       "GiB, T, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)";
	case V_RATE:
		return "write a size per second, e.g. 32MiB/s or 200MB/s";
	default:
		return "write a whole number without sign or unit";
	}
}

static const char *kind_noun(const struct key_impl *ki)
{
	switch (ki->vt) {
	case V_DURATION:
		return "a duration";
	case V_SIZE:
		return "a size";
	case V_RATE:
		return "a rate";
	case V_PERCENT:
		return "a percentage";
	case V_DECIMAL:
		return "a decimal number";
	default:
		return "a whole number";
	}
}

static int range_error_uint(struct parser *p, unsigned int line, const struct pagemig_config_key *k,
			    const char *v, bool above)
{
	const struct key_impl *ki = impl(k);
	char lim[48];

	render_uint(ki, above ? ki->max : ki->min, lim, sizeof(lim));
	diag_error(p, line, "%s: '%s' is %s the %s %s%s%s%s", kname(p, k), show(v).s,
		   above ? "above" : "below", above ? "maximum" : "minimum", lim,
		   ki->special ? " (or " : "", ki->special ? ki->special : "",
		   ki->special ? ")" : "");
	return -EINVAL;
}

static int parse_uint_value(struct parser *p, unsigned int line, const struct pagemig_config_key *k,
			    const char *v, void *base)
{
	const struct key_impl *ki = impl(k);
	char tmp[PAGEMIG_CONFIG_LINE_MAX + 1];
	uint64_t u = 0;
	int r;

	if ((ki->flags & K_UNLIMITED) && !strcasecmp(v, "unlimited")) {
		put_uint(base, ki, ki->unlimited);
		return 0;
	}
	if ((ki->flags & K_AUTO) && !strcasecmp(v, "auto")) {
		put_uint(base, ki, 0);
		return 0;
	}
	switch (ki->vt) {
	case V_DURATION:
		r = parse_scaled(v, duration_units, ARRAY_SIZE(duration_units), true, &u);
		break;
	case V_SIZE:
		r = parse_scaled(v, size_units, ARRAY_SIZE(size_units), false, &u);
		break;
	case V_RATE: {
		size_t n = strlen(v);

		if (!strcmp(v, "0")) {
			r = 0;
		} else if (n >= 2 && !strcmp(v + n - 2, "/s")) {
			snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 2), v);
			r = parse_scaled(trim(tmp), size_units, ARRAY_SIZE(size_units), false, &u);
		} else {
			r = parse_scaled(v, size_units, ARRAY_SIZE(size_units), false, &u);
			if (r == 0 || r == -ERANGE)
				r = -E_NOPERSEC;
		}
		break;
	}
	default:
		r = parse_scaled(v, NULL, 0, false, &u);
		break;
	}

	switch (r) {
	case 0:
		break;
	case -ERANGE:
		return range_error_uint(p, line, k, v, true);
	case -E_NEGATIVE:
		diag_error(p, line, "%s: '%s' is negative; %s", kname(p, k), show(v).s,
			   kind_hint(ki));
		return -EINVAL;
	case -E_NOUNIT:
		diag_error(p, line,
			   "%s: '%s' has no unit; durations need one of us, ms, s, m, h (e.g. 5s)",
			   kname(p, k), show(v).s);
		return -EINVAL;
	case -E_FRACTION:
		if (ki->vt == V_NUMBER)
			goto junk;
		diag_error(p, line, "%s: '%s' is not a whole number; use a smaller unit (%s)",
			   kname(p, k), show(v).s,
			   ki->vt == V_DURATION ? "1500ms, not 1.5s"
			   : ki->vt == V_RATE	? "512KiB/s, not 0.5MiB/s"
						: "1536MiB, not 1.5GiB");
		return -EINVAL;
	case -E_NOPERSEC:
		diag_error(p, line, "%s: '%s' is not a rate; write it per second, e.g. %s/s",
			   kname(p, k), show(v).s, show(v).s);
		return -EINVAL;
	default:
	junk:
		diag_error(p, line, "%s: '%s' is not %s; %s%s", kname(p, k), show(v).s,
			   kind_noun(ki), kind_hint(ki), comment_hint(v));
		return -EINVAL;
	}

	if (ki->vt == V_DURATION) {
		if (u % ki->res_us) {
			diag_error(p, line, "%s: '%s' is not a whole number of milliseconds",
				   kname(p, k), show(v).s);
			return -EINVAL;
		}
		u /= ki->res_us;
	}
	if (!(u == 0 && (ki->flags & K_ZERO))) {
		if (u < ki->min)
			return range_error_uint(p, line, k, v, false);
		if (u > ki->max)
			return range_error_uint(p, line, k, v, true);
	}
	put_uint(base, ki, u);
	return 0;
}

static int parse_double_value(struct parser *p, unsigned int line,
			      const struct pagemig_config_key *k, const char *v, void *base,
			      unsigned int node)
{
	const struct key_impl *ki = impl(k);
	char tmp[PAGEMIG_CONFIG_LINE_MAX + 1], lim[48];
	const char *num = v;
	double d = 0;
	int r;

	if (ki->vt == V_PERCENT) {
		size_t n = strlen(v);

		if (n == 0 || v[n - 1] != '%') {
			r = parse_decimal(v, &d) == 0 ? -E_NOPCT : -EINVAL;
			goto bad;
		}
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 1), v);
		num = trim(tmp);
	}
	r = parse_decimal(num, &d);
	if (r == -ERANGE || (r == 0 && d > ki->dmax)) {
		render_double(ki, ki->dmax, lim, sizeof(lim));
		diag_error(p, line, "%s: '%s' is above the maximum %s", kname(p, k), show(v).s,
			   lim);
		return -EINVAL;
	}
	if (r)
		goto bad;
	if (d < ki->dmin || ((ki->flags & K_MIN_EXCL) && d == ki->dmin)) {
		render_double(ki, ki->dmin, lim, sizeof(lim));
		if (ki->flags & K_MIN_EXCL)
			diag_error(p, line, "%s: '%s' must be above %s", kname(p, k), show(v).s,
				   lim);
		else
			diag_error(p, line, "%s: '%s' is below the minimum %s", kname(p, k),
				   show(v).s, lim);
		return -EINVAL;
	}
	put_double(base, ki, node, d);
	return 0;

bad:
	switch (r) {
	case -E_NOPCT:
		diag_error(p, line, "%s: '%s' has no %% sign; write e.g. %s%%", kname(p, k),
			   show(v).s, show(v).s);
		break;
	case -E_NEGATIVE:
		diag_error(p, line, "%s: '%s' is negative; allowed: %s", kname(p, k), show(v).s,
			   k->range);
		break;
	case -E_DECIMALS:
		diag_error(p, line, "%s: '%s' has more than 6 decimal places", kname(p, k),
			   show(v).s);
		break;
	default:
		diag_error(p, line, "%s: '%s' is not %s; write e.g. %s%s", kname(p, k), show(v).s,
			   kind_noun(ki), ki->vt == V_PERCENT ? "5% or 0.5%" : "0.75",
			   comment_hint(v));
		break;
	}
	return -EINVAL;
}

static int parse_keyword_value(struct parser *p, unsigned int line,
			       const struct pagemig_config_key *k, const char *v, void *base)
{
	const struct key_impl *ki = impl(k);
	const struct keyword *w = find_word(ki->vt == V_BOOL ? bool_words : ki->keywords, v);
	char list[128];

	if (!w) {
		if (ki->vt == V_BOOL) {
			diag_error(p, line,
				   "%s: '%s' is not a boolean; use yes/no, true/false, on/off or "
				   "1/0%s",
				   kname(p, k), show(v).s, comment_hint(v));
		} else {
			list_words(ki->keywords, list, sizeof(list));
			diag_error(p, line, "%s: unknown value '%s'; allowed: %s%s", kname(p, k),
				   show(v).s, list, comment_hint(v));
		}
		return -EINVAL;
	}
	if (ki->vt == V_BOOL) {
		bool b = w->value;

		memcpy((char *)base + ki->off, &b, sizeof(b));
	} else {
		put_int(base, ki, w->value);
	}
	return 0;
}

static bool valid_group(const char *v)
{
	size_t n = strlen(v);

	if (isdigit((unsigned char)v[0])) {
		for (const char *c = v; *c; c++)
			if (!isdigit((unsigned char)*c))
				return false;
		return n <= 10;
	}
	if (n == 0 || n > 32 || !(isalpha((unsigned char)v[0]) || v[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (isalnum(c) || c == '_' || c == '-' || c == '.')
			continue;
		if (c == '$' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

/*
 * "HOST:PORT" with HOST a loopback address: 127.x.y.z, [::1] or localhost (as metrics.c takes
 * it). Returns 0, -EINVAL when malformed, -EADDRNOTAVAIL when HOST is not loopback.
 */
static int check_listen(const char *v)
{
	char host[64];
	const char *port, *close;
	uint64_t n;
	size_t hl;

	if (v[0] == '[') {
		close = strchr(v, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - v - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, v + 1, hl);
		port = close + 2;
	} else {
		close = strrchr(v, ':');
		if (!close || memchr(v, ':', (size_t)(close - v)))
			return -EINVAL;
		hl = (size_t)(close - v);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, v, hl);
		port = close + 1;
	}
	host[hl] = 0;
	if (scan_uint(port, &n, &close) || *close || n > 65535)
		return -EINVAL;
	if (v[0] == '[') {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -EINVAL;
		return memcmp(&a6, &in6addr_loopback, sizeof(a6)) ? -EADDRNOTAVAIL : 0;
	}
	if (!strcasecmp(host, "localhost"))
		return 0;
	{
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) != 1)
			return -EINVAL;
		return (ntohl(a4.s_addr) >> 24) == 127 ? 0 : -EADDRNOTAVAIL;
	}
}

/* A cgroup path: "/" or "/a/b", no empty, "." or ".." components (a trailing '/' is fine). */
static bool valid_cgroup(const char *v)
{
	const char *c = v;

	if (*c != '/')
		return false;
	while (*c) {
		const char *e;
		size_t n;

		c++;
		e = c + strcspn(c, "/");
		n = (size_t)(e - c);
		if ((n == 0 && *e) || (n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return false;
		c = e;
	}
	return true;
}

static int parse_string_value(struct parser *p, unsigned int line,
			      const struct pagemig_config_key *k, const char *v, bool quoted,
			      void *base)
{
	const struct key_impl *ki = impl(k);
	size_t n = strlen(v);

	if (has_control(v)) {
		diag_error(p, line, "%s: the value contains a control character", kname(p, k));
		return -EINVAL;
	}
	switch (ki->str) {
	case STR_SOCKET:
		if (v[0] != '/') {
			diag_error(p, line, "%s: '%s' is not an absolute path", kname(p, k),
				   show(v).s);
			return -EINVAL;
		}
		if (n >= ki->width) {
			diag_error(
				p, line,
				"%s: the path is %zu bytes long; a socket path holds at most %zu",
				kname(p, k), n, ki->width - 1);
			return -EINVAL;
		}
		break;
	case STR_GROUP:
		if (!valid_group(v)) {
			diag_error(
				p, line,
				"%s: '%s' is not a group name or number; names have letters, "
				"digits, "
				"'_', '-' and '.', start with a letter or '_' and are at most 32 "
				"bytes long%s",
				kname(p, k), show(v).s, comment_hint(v));
			return -EINVAL;
		}
		break;
	case STR_METRICS:
		if (v[0] != '/') {
			diag_error(p, line, "%s: '%s' is not an absolute path", kname(p, k),
				   show(v).s);
			return -EINVAL;
		}
		if (n >= ki->width) {
			diag_error(p, line,
				   "%s: the path is %zu bytes long; at most %zu are allowed",
				   kname(p, k), n, ki->width - 1);
			return -EINVAL;
		}
		if (n < 7 || strcmp(v + n - 5, ".prom") || v[n - 6] == '/')
			diag_warn(p, line,
				  "%s: '%s' does not end in .prom; node_exporter's textfile "
				  "collector "
				  "reads only *.prom files",
				  kname(p, k), show(v).s);
		break;
	case STR_LISTEN: {
		int r = check_listen(v);

		if (r == -EADDRNOTAVAIL) {
			diag_error(p, line,
				   "%s: '%s' is not a loopback address; the endpoint has no "
				   "authentication, so only 127.x.y.z, [::1] and localhost are "
				   "allowed",
				   kname(p, k), show(v).s);
			return -EINVAL;
		}
		if (r || n >= ki->width) {
			diag_error(p, line,
				   "%s: '%s' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
				   "[::1]:9464%s",
				   kname(p, k), show(v).s, comment_hint(v));
			return -EINVAL;
		}
		break;
	}
	case STR_COMM:
		if (n >= ki->width) {
			diag_error(p, line,
				   "%s: '%s' is %zu bytes long; process names (/proc/PID/comm) "
				   "have at "
				   "most %zu%s",
				   kname(p, k), show(v).s, n, ki->width - 1, comment_hint(v));
			return -EINVAL;
		}
		break;
	case STR_EXE:
		if (v[0] != '/' && v[0] != '*') {
			diag_error(p, line,
				   "%s: '%s' can never match: /proc/PID/exe is an absolute path; "
				   "start the "
				   "pattern with '/' or '*'",
				   kname(p, k), show(v).s);
			return -EINVAL;
		}
		if (n >= ki->width) {
			diag_error(p, line,
				   "%s: the pattern is %zu bytes long; at most %zu are allowed",
				   kname(p, k), n, ki->width - 1);
			return -EINVAL;
		}
		break;
	case STR_CGROUP:
		if (!valid_cgroup(v)) {
			diag_error(
				p, line,
				"%s: '%s' is not a cgroup v2 path; write it from the cgroup root, "
				"e.g. /system.slice/postgresql.service",
				kname(p, k), show(v).s);
			return -EINVAL;
		}
		if (n >= ki->width) {
			diag_error(p, line,
				   "%s: the path is %zu bytes long; at most %zu are allowed",
				   kname(p, k), n, ki->width - 1);
			return -EINVAL;
		}
		break;
	}
	if (!quoted && ki->str != STR_COMM && ki->str != STR_GROUP && ki->str != STR_LISTEN &&
	    *comment_hint(v))
		diag_warn(p, line,
			  "%s: the value '%s' contains a '#' or ';' after a blank: comments must "
			  "be on a "
			  "line of their own; quote the value if it belongs there",
			  kname(p, k), show(v).s);
	memcpy((char *)base + ki->off, v, n + 1);
	return 0;
}

static int parse_nodes_value(struct parser *p, unsigned int line,
			     const struct pagemig_config_key *k, const char *v, void *base)
{
	const struct key_impl *ki = impl(k);
	const char *c = v;
	uint64_t mask = 0;

	for (;;) {
		uint64_t a, b;
		int r;

		c = skip_blanks(c);
		r = scan_uint(c, &a, &c);
		if (r == -EINVAL)
			goto bad;
		b = a;
		c = skip_blanks(c);
		if (*c == '-') {
			c = skip_blanks(c + 1);
			int rb = scan_uint(c, &b, &c);

			if (rb == -EINVAL)
				goto bad;
			if (rb)
				b = UINT64_MAX;
			if (r == 0 && b < a) {
				diag_error(p, line, "%s: the range %llu-%llu runs backwards",
					   kname(p, k), (unsigned long long)a,
					   (unsigned long long)b);
				return -EINVAL;
			}
		}
		if (r || a >= PAGEMIG_TOPO_MAX_NODES || b >= PAGEMIG_TOPO_MAX_NODES) {
			diag_error(p, line, "%s: '%s' names a node above %d; node ids are 0..%d",
				   kname(p, k), show(v).s, PAGEMIG_TOPO_MAX_NODES - 1,
				   PAGEMIG_TOPO_MAX_NODES - 1);
			return -EINVAL;
		}
		for (uint64_t n = a; n <= b; n++) {
			if (mask & (UINT64_C(1) << n)) {
				diag_error(p, line, "%s: node %llu is listed twice", kname(p, k),
					   (unsigned long long)n);
				return -EINVAL;
			}
			mask |= UINT64_C(1) << n;
		}
		c = skip_blanks(c);
		if (!*c)
			break;
		if (*c != ',')
			goto bad;
		c++;
	}
	put_uint(base, ki, mask);
	return 0;
bad:
	diag_error(p, line, "%s: '%s' is not a node list; write node ids and ranges, e.g. 0,2-3%s",
		   kname(p, k), show(v).s, comment_hint(v));
	return -EINVAL;
}

static int parse_node_value(struct parser *p, unsigned int line, const struct pagemig_config_key *k,
			    const char *v, void *base)
{
	const struct key_impl *ki = impl(k);
	const char *end;
	uint64_t n;

	if (!strcasecmp(v, "nearest")) {
		put_int(base, ki, -1);
		return 0;
	}
	if (scan_uint(v, &n, &end) || *end || n >= PAGEMIG_TOPO_MAX_NODES) {
		diag_error(p, line, "%s: '%s' is not a node; allowed: 0..%d or nearest%s",
			   kname(p, k), show(v).s, PAGEMIG_TOPO_MAX_NODES - 1, comment_hint(v));
		return -EINVAL;
	}
	put_int(base, ki, (int)n);
	return 0;
}

static int parse_sources_value(struct parser *p, unsigned int line,
			       const struct pagemig_config_key *k, const char *v, void *base)
{
	const struct key_impl *ki = impl(k);
	char tmp[PAGEMIG_CONFIG_LINE_MAX + 1], *save = NULL, *tok;
	unsigned int bits = 0;
	bool all = false;
	int items = 0;

	snprintf(tmp, sizeof(tmp), "%s", v);
	if (strstr(tmp, ",,") || tmp[0] == ',' || tmp[strlen(tmp) - 1] == ',') {
		diag_error(p, line, "%s: '%s' has an empty entry; list sources separated by commas",
			   kname(p, k), show(v).s);
		return -EINVAL;
	}
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *name = trim(tok);
		unsigned int s;

		items++;
		if (!*name) {
			diag_error(p, line,
				   "%s: '%s' has an empty entry; list sources separated by commas",
				   kname(p, k), show(v).s);
			return -EINVAL;
		}
		if (!strcasecmp(name, "all")) {
			all = true;
			continue;
		}
		for (s = 0; s < PAGEMIG_SOURCE__COUNT; s++)
			if (!strcasecmp(name, source_names[s]))
				break;
		if (s == PAGEMIG_SOURCE__COUNT) {
			diag_error(p, line, "%s: unknown source '%s'; sources are %s%s",
				   kname(p, k), show(name).s, k->range, comment_hint(v));
			return -EINVAL;
		}
		if (bits & PAGEMIG_SOURCE_BIT(s)) {
			diag_error(p, line, "%s: source '%s' is listed twice", kname(p, k),
				   source_names[s]);
			return -EINVAL;
		}
		bits |= PAGEMIG_SOURCE_BIT(s);
	}
	if (all && items > 1) {
		diag_error(p, line, "%s: 'all' cannot be combined with other sources", kname(p, k));
		return -EINVAL;
	}
	put_uint(base, ki, all ? PAGEMIG_SOURCES_ALL : bits);
	return 0;
}

/* Parse v (unquoted, trimmed, not empty) into key k of base. Reports and returns -EINVAL when
 * the value is not allowed; the field is only written with a valid value. */
static int parse_value(struct parser *p, unsigned int line, const struct pagemig_config_key *k,
		       const char *v, bool quoted, void *base, unsigned int node)
{
	switch (impl(k)->vt) {
	case V_DURATION:
	case V_SIZE:
	case V_RATE:
	case V_NUMBER:
		return parse_uint_value(p, line, k, v, base);
	case V_PERCENT:
	case V_DECIMAL:
		return parse_double_value(p, line, k, v, base, node);
	case V_BOOL:
	case V_KEYWORD:
		return parse_keyword_value(p, line, k, v, base);
	case V_STRING:
		return parse_string_value(p, line, k, v, quoted, base);
	case V_NODES:
		return parse_nodes_value(p, line, k, v, base);
	case V_NODE:
		return parse_node_value(p, line, k, v, base);
	case V_SOURCES:
		return parse_sources_value(p, line, k, v, base);
	}
	return -EINVAL;
}

/* Set key k of base to its default: the row's default text, or zero / empty when it has none. */
static void apply_default(const struct pagemig_config_key *k, void *base, unsigned int node)
{
	const struct key_impl *ki = impl(k);

	if (k->def[0]) {
		parse_value(NULL, 0, k, k->def, false, base, node);
		return;
	}
	if (ki->vt == V_PERCENT || ki->vt == V_DECIMAL)
		put_double(base, ki, node, 0);
	else
		memset((char *)base + ki->off, 0, ki->width);
}

/* ---- defaults, free, copy, equal ---------------------------------------------------------- */

static void rule_init(struct pagemig_policy_rule *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < N_KEYS; i++)
		if (impl(&keys[i])->sect == SECT_POLICY)
			apply_default(&keys[i], r, 0);
}

void pagemig_config_init(struct pagemig_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sampler.sz = sizeof(cfg->sampler);
	for (size_t i = 0; i < N_KEYS; i++)
		if (impl(&keys[i])->sect != SECT_POLICY && !(impl(&keys[i])->flags & K_FAMILY))
			apply_default(&keys[i], cfg, 0);
}

void pagemig_config_free(struct pagemig_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->n_rules = 0;
}

int pagemig_config_copy(const struct pagemig_config *src, struct pagemig_config *ret)
{
	struct pagemig_policy_rule *rules = NULL;

	if (src->n_rules) {
		rules = calloc(src->n_rules, sizeof(*rules));
		if (!rules)
			return -ENOMEM;
		memcpy(rules, src->rules, src->n_rules * sizeof(*rules));
	}
	*ret = *src;
	ret->rules = rules;
	return 0;
}

static bool key_equal(const struct pagemig_config_key *k, const void *a, const void *b,
		      unsigned int node)
{
	const struct key_impl *ki = impl(k);

	switch (ki->vt) {
	case V_PERCENT:
	case V_DECIMAL:
		return get_double(a, ki, node) == get_double(b, ki, node);
	case V_STRING:
		return !strncmp((const char *)a + ki->off, (const char *)b + ki->off, ki->width);
	default:
		return !memcmp((const char *)a + ki->off, (const char *)b + ki->off, ki->width);
	}
}

bool pagemig_config_equal(const struct pagemig_config *a, const struct pagemig_config *b)
{
	if (a->n_rules != b->n_rules || a->watermark_nodes != b->watermark_nodes)
		return false;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct pagemig_config_key *k = &keys[i];

		if (impl(k)->sect == SECT_POLICY)
			continue;
		if (!(impl(k)->flags & K_FAMILY)) {
			if (!key_equal(k, a, b, 0))
				return false;
			continue;
		}
		for (unsigned int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			if ((a->watermark_nodes & (UINT64_C(1) << n)) && !key_equal(k, a, b, n))
				return false;
	}
	for (size_t r = 0; r < a->n_rules; r++) {
		if (strncmp(a->rules[r].name, b->rules[r].name, sizeof(a->rules[r].name)))
			return false;
		for (size_t i = 0; i < N_KEYS; i++)
			if (impl(&keys[i])->sect == SECT_POLICY &&
			    !key_equal(&keys[i], &a->rules[r], &b->rules[r], 0))
				return false;
	}
	return true;
}

/* ---- the line parser ---------------------------------------------------------------------- */

static bool valid_policy_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PAGEMIG_RULE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static void section_header(struct parser *p, unsigned int line, char *s)
{
	size_t n = strlen(s);
	char *inner, *word, *rest, shown_inner[sizeof(struct shown)];
	enum sect sect = SECT_NONE;

	p->sect = SECT_SKIP;
	if (s[n - 1] != ']') {
		diag_error(p, line, "section header '%s' has no closing ']'%s", show(s).s,
			   comment_hint(s));
		return;
	}
	s[n - 1] = 0;
	inner = trim(s + 1);
	snprintf(shown_inner, sizeof(shown_inner), "%s", show(inner).s);
	word = inner;
	rest = word + strcspn(word, " \t");
	if (*rest)
		*rest++ = 0;
	rest = trim(rest);

	for (int i = SECT_DAEMON; i < SECT__COUNT; i++)
		if (!strcmp(word, sect_names[i]))
			sect = (enum sect)i;
	if (sect == SECT_NONE) {
		const char *close = NULL;

		for (int i = SECT_DAEMON; i < SECT__COUNT; i++)
			if (close_to(word, sect_names[i]))
				close = sect_names[i];
		if (close)
			diag_error(p, line, "unknown section [%s]; did you mean [%s%s]?",
				   shown_inner, close, !strcmp(close, "policy") ? " NAME" : "");
		else
			diag_error(p, line,
				   "unknown section [%s]; sections are [daemon], [sampler], "
				   "[migrate] and "
				   "[policy NAME]",
				   shown_inner);
		return;
	}

	if (sect != SECT_POLICY) {
		if (*rest)
			diag_error(p, line, "[%s] takes no name ('%s')", sect_names[sect],
				   show(rest).s);
		if (p->sect_line[sect])
			diag_error(p, line,
				   "section [%s] appears twice (first at line %u); merge them",
				   sect_names[sect], p->sect_line[sect]);
		else
			p->sect_line[sect] = line;
		p->sect = sect;
		return;
	}

	if (!*rest) {
		diag_error(p, line, "[policy] needs a name: [policy NAME]");
		return;
	}
	if (!valid_policy_name(rest)) {
		diag_error(p, line,
			   "policy name '%s' is not allowed; use 1-%d letters, digits, '_', '-' or "
			   "'.'",
			   show(rest).s, PAGEMIG_RULE_NAME_MAX - 1);
		return;
	}
	if (p->cfg.n_rules >= PAGEMIG_CONFIG_RULES_MAX) {
		diag_error(p, line, "too many policies; at most %d are allowed",
			   PAGEMIG_CONFIG_RULES_MAX);
		return;
	}
	if (p->cfg.n_rules == p->rules_cap) {
		size_t cap = p->rules_cap ? p->rules_cap * 2 : 8;
		struct pagemig_policy_rule *r = realloc(p->cfg.rules, cap * sizeof(*r));
		struct rule_state *rs;

		if (r)
			p->cfg.rules = r;
		rs = r ? realloc(p->rs, cap * sizeof(*rs)) : NULL;
		if (!rs) {
			p->oom = true;
			return;
		}
		p->rs = rs;
		p->rules_cap = cap;
	}
	p->rule = p->cfg.n_rules++;
	rule_init(&p->cfg.rules[p->rule]);
	memset(&p->rs[p->rule], 0, sizeof(p->rs[p->rule]));
	p->rs[p->rule].line = line;
	snprintf(p->cfg.rules[p->rule].name, PAGEMIG_RULE_NAME_MAX, "%s", rest);
	for (size_t i = 0; i < p->rule; i++)
		if (!strcmp(p->cfg.rules[i].name, rest) && !p->rs[i].dup) {
			diag_error(p, line, "policy '%s' is defined twice (first at line %u)", rest,
				   p->rs[i].line);
			p->rs[p->rule].dup = true;
			break;
		}
	p->sect = SECT_POLICY;
}

/* "[daemon]", "[policy NAME]": the current section, for messages. */
static void section_label(const struct parser *p, char *buf, size_t len)
{
	if (p->sect == SECT_POLICY)
		snprintf(buf, len, "[policy %s]", p->cfg.rules[p->rule].name);
	else
		snprintf(buf, len, "[%s]", sect_names[p->sect]);
}

/* Where an unknown key in the current section might have been meant to go. */
static void unknown_key(struct parser *p, unsigned int line, const char *key)
{
	const struct pagemig_config_key *other = find_key_any(key);
	const char *close = NULL;
	char where[PAGEMIG_RULE_NAME_MAX + 16], list[400];
	size_t at = 0;

	section_label(p, where, sizeof(where));

	if (other) {
		diag_error(p, line, "unknown key '%s' in %s; '%s' belongs in [%s%s]", key, where,
			   key, other->section, !strcmp(other->section, "policy") ? " NAME" : "");
		return;
	}
	list[0] = 0;
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *name = keys[i].key;

		if (impl(&keys[i])->sect != p->sect)
			continue;
		if (!close && close_to(key, name))
			close = name;
		if (at < sizeof(list))
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", at ? ", " : "",
					       name);
	}
	if (close)
		diag_error(p, line, "unknown key '%s' in %s; did you mean '%s'?", show(key).s,
			   where, close);
	else
		diag_error(p, line, "unknown key '%s' in %s; known keys: %s", show(key).s, where,
			   list);
}

/* The watermark.node<N> family: N is 0..63. Returns the row, with *node; NULL when key is not of
 * the family; reports a bad N (and returns NULL with *bad set). */
static const struct pagemig_config_key *family_key(struct parser *p, unsigned int line,
						   const char *key, unsigned int *node, bool *bad)
{
	static const char prefix[] = "watermark.node";
	const char *end;
	uint64_t n;
	int r;

	*bad = false;
	if (p->sect != SECT_MIGRATE || strncmp(key, prefix, sizeof(prefix) - 1))
		return NULL;
	r = scan_uint(key + sizeof(prefix) - 1, &n, &end);
	if (r == -EINVAL || *end) {
		diag_error(p, line,
			   "unknown key '%s' in [migrate]; per-node watermarks are "
			   "watermark.node0 .. watermark.node%d",
			   show(key).s, PAGEMIG_TOPO_MAX_NODES - 1);
		*bad = true;
		return NULL;
	}
	if (r || n >= PAGEMIG_TOPO_MAX_NODES) {
		diag_error(p, line, "%s: node ids are 0..%d", show(key).s,
			   PAGEMIG_TOPO_MAX_NODES - 1);
		*bad = true;
		return NULL;
	}
	*node = (unsigned int)n;
	for (size_t i = 0; i < N_KEYS; i++)
		if (impl(&keys[i])->flags & K_FAMILY)
			return &keys[i];
	return NULL;
}

static void key_line(struct parser *p, unsigned int line, char *s)
{
	char *eq = strchr(s, '='), *key, *val;
	const struct pagemig_config_key *k;
	unsigned int node = 0, *seen;
	unsigned char *set;
	bool quoted = false, bad;
	void *base;
	size_t n;
	int r;

	if (!eq) {
		diag_error(p, line,
			   "expected 'key = value', a [section] header or a comment, not '%s'%s",
			   show(s).s, strchr(s, ':') ? "; use '=' between key and value" : "");
		return;
	}
	*eq = 0;
	key = trim(s);
	val = trim(eq + 1);
	if (!*key) {
		diag_error(p, line, "missing key before '='");
		return;
	}
	if (p->sect == SECT_NONE) {
		k = find_key_any(key);
		if (k)
			diag_error(p, line, "'%s' is outside any section; it belongs in [%s%s]",
				   key, k->section, !strcmp(k->section, "policy") ? " NAME" : "");
		else
			diag_error(p, line,
				   "'%s' is outside any section (and no section has such a key)",
				   show(key).s);
		return;
	}
	if (p->sect == SECT_SKIP)
		return;

	k = find_key(p->sect, key);
	if (!k) {
		k = family_key(p, line, key, &node, &bad);
		if (bad)
			return;
	}
	if (!k) {
		unknown_key(p, line, key);
		return;
	}

	if (p->sect == SECT_POLICY) {
		seen = &p->rs[p->rule].seen[key_index(k)];
		set = &p->rs[p->rule].set[key_index(k)];
		base = &p->cfg.rules[p->rule];
	} else {
		seen = impl(k)->flags & K_FAMILY ? &p->wm_seen[node] : &p->seen[key_index(k)];
		set = &p->set[key_index(k)];
		base = &p->cfg;
	}
	if (*seen) {
		char where[PAGEMIG_RULE_NAME_MAX + 16];

		section_label(p, where, sizeof(where));
		diag_error(p, line, "'%s' is set twice in %s (first at line %u)", key, where,
			   *seen);
		return;
	}
	*seen = line;

	n = strlen(val);
	if (val[0] == '"') {
		if (n < 2 || val[n - 1] != '"') {
			diag_error(p, line,
				   "%s: the quote at the start of the value is not closed%s", key,
				   comment_hint(val));
			return;
		}
		val[n - 1] = 0;
		val++;
		quoted = true;
	}

	if (!*val) { /* empty: the default */
		apply_default(k, base, node);
		if (impl(k)->flags & K_FAMILY)
			p->cfg.watermark_nodes &= ~(UINT64_C(1) << node);
		*set = 0;
		return;
	}
	p->key = key;
	r = parse_value(p, line, k, val, quoted, base, node);
	p->key = NULL;
	if (r) {
		*set = 2;
		return;
	}
	*set = 1;
	if (impl(k)->flags & K_FAMILY)
		p->cfg.watermark_nodes |= UINT64_C(1) << node;
}

static void parse_line(struct parser *p, unsigned int line, char *buf)
{
	char *s = trim(buf);

	if (!*s || *s == '#' || *s == ';')
		return;
	if (*s == '[')
		section_header(p, line, s);
	else
		key_line(p, line, s);
}

/* ---- checks across keys ------------------------------------------------------------------- */

static const struct pagemig_config_key *row(enum sect sect, const char *name)
{
	return find_key(sect, name);
}

/* "/a/b" is "/a" or below it (a trailing '/' of the prefix does not count). */
static bool cgroup_under(const char *cgroup, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return true;
	return !strncmp(cgroup, prefix, n) && (cgroup[n] == 0 || cgroup[n] == '/');
}

/* Every process b matches is matched by a (which comes first): b never applies. */
static bool shadows(const struct pagemig_policy_rule *a, const struct pagemig_policy_rule *b,
		    uint64_t global_min_rss)
{
	uint64_t amin = a->match_min_rss > global_min_rss ? a->match_min_rss : global_min_rss;
	uint64_t bmin = b->match_min_rss > global_min_rss ? b->match_min_rss : global_min_rss;

	if (a->match_pid && a->match_pid != b->match_pid)
		return false;
	if (a->match_comm[0] && strcmp(a->match_comm, "*") && strcmp(a->match_comm, b->match_comm))
		return false;
	if (a->match_exe[0] && strcmp(a->match_exe, b->match_exe))
		return false;
	if (a->match_cgroup[0] &&
	    !(b->match_cgroup[0] && cgroup_under(b->match_cgroup, a->match_cgroup)))
		return false;
	return amin <= bmin;
}

static const char *type_list(unsigned int types, char *buf, size_t len)
{
	size_t at = 0;
	unsigned int count = 0, seen = 0;

	for (unsigned int t = 0; t < PAGEMIG_POLICY__COUNT; t++)
		count += !!(types & (1u << t));
	buf[0] = 0;
	for (unsigned int t = 0; t < PAGEMIG_POLICY__COUNT && at < len; t++) {
		if (!(types & (1u << t)))
			continue;
		seen++;
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
				       seen == 1       ? ""
				       : seen == count ? " and "
						       : ", ",
				       type_words[t].name);
	}
	return buf;
}

static void check_rules(struct parser *p)
{
	const struct pagemig_config_key *k_type = row(SECT_POLICY, "type");
	const struct pagemig_config_key *k_nodes = row(SECT_POLICY, "nodes");
	const struct pagemig_config_key *k_target = row(SECT_POLICY, "target");
	const struct pagemig_config_key *k_hot = row(SECT_POLICY, "hot_score");
	const struct pagemig_config_key *k_cold = row(SECT_POLICY, "cold_score");
	const struct pagemig_config_key *k_min = row(SECT_POLICY, "min_rss");
	const struct pagemig_config_key *k_gmin = row(SECT_MIGRATE, "min_rss");
	char a[64], b[64];

	for (size_t i = 0; i < p->cfg.n_rules; i++) {
		const struct pagemig_policy_rule *r = &p->cfg.rules[i];
		const struct rule_state *rs = &p->rs[i];
		unsigned int type_line = rs->seen[key_index(k_type)];

		if (rs->dup)
			continue;
		if (!rs->set[key_index(k_type)]) {
			diag_error(p, rs->line,
				   "policy '%s' has no type; add type = locality, tiering, pin "
				   "or ignore",
				   r->name);
			continue;
		}
		for (size_t j = 0; j < N_KEYS; j++) {
			const struct pagemig_config_key *k = &keys[j];

			if (impl(k)->sect != SECT_POLICY || !rs->set[j] ||
			    (k->policy_types & (1u << r->type)))
				continue;
			diag_error(p, rs->seen[j],
				   "%s: only %s policies take %s; policy '%s' is %s", k->key,
				   type_list(k->policy_types, a, sizeof(a)), k->key, r->name,
				   type_words[r->type].name);
		}
		if (r->type == PAGEMIG_POLICY_PIN && !r->pin_nodes && !rs->set[key_index(k_nodes)])
			diag_error(p, type_line,
				   "policy '%s': type pin needs nodes = (the nodes to keep its "
				   "memory on, e.g. nodes = 0-1)",
				   r->name);
		if (r->type == PAGEMIG_POLICY_PIN && r->pin_nodes && r->pin_target >= 0 &&
		    !(r->pin_nodes & (UINT64_C(1) << r->pin_target))) {
			render_nodes(a, sizeof(a), r->pin_nodes);
			diag_error(p, rs->seen[key_index(k_target)],
				   "target: node %d is not one of nodes (%s)", r->pin_target, a);
		}
		if (r->type == PAGEMIG_POLICY_TIERING && r->cold_score >= r->hot_score) {
			unsigned int lc = rs->seen[key_index(k_cold)],
				     lh = rs->seen[key_index(k_hot)];

			render_decimal(a, sizeof(a), r->cold_score, true);
			render_decimal(b, sizeof(b), r->hot_score, true);
			diag_error(
				p,
				lc > lh ? lc
				: lh	? lh
					: type_line,
				"cold_score %s is not below hot_score %s; a page cannot be hot and "
				"cold at once",
				a, b);
		}
		if (rs->set[key_index(k_min)] == 1 && r->match_min_rss &&
		    r->match_min_rss < p->cfg.min_rss) {
			unsigned int gl = p->seen[key_index(k_gmin)];
			char at[32] = "";

			if (gl)
				snprintf(at, sizeof(at), " (line %u)", gl);
			render_size(a, sizeof(a), r->match_min_rss);
			render_size(b, sizeof(b), p->cfg.min_rss);
			diag_warn(p, rs->seen[key_index(k_min)],
				  "min_rss: %s is below [migrate] min_rss %s%s; processes smaller "
				  "than %s are "
				  "never managed",
				  a, b, at, b);
		}
		for (size_t j = 0; j < i; j++)
			if (!p->rs[j].dup && shadows(&p->cfg.rules[j], r, p->cfg.min_rss)) {
				diag_warn(p, rs->line,
					  "policy '%s' never applies: policy '%s' (line %u) comes "
					  "first and "
					  "matches every process it would match",
					  r->name, p->cfg.rules[j].name, p->rs[j].line);
				break;
			}
	}
}

static unsigned int later(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

static void check_global(struct parser *p)
{
	const struct pagemig_config *c = &p->cfg;
	unsigned int l_src = p->seen[key_index(row(SECT_SAMPLER, "sources"))];
	unsigned int src = c->sampler.sources;
	const unsigned int access = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_PMU) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU);

	if ((src & PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY)) &&
	    !(src & PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT)))
		diag_warn(p, l_src,
			  "sources: softdirty re-arms write faults that only the fault source "
			  "sees; add fault");
	if ((src & PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_NUMA_HINT)) &&
	    !(src & PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT)))
		diag_warn(p, l_src,
			  "sources: numa_hint is seen through the fault source; add fault");
	if (!(src & access))
		diag_warn(p, l_src,
			  "sources: none of fault, pmu, oncpu: the policies have no access data "
			  "to act on");

	if (c->sampler.half_life_ms < c->interval_ms) {
		unsigned int lh = p->seen[key_index(row(SECT_SAMPLER, "half_life"))];
		unsigned int li = p->seen[key_index(row(SECT_DAEMON, "interval"))];
		char h[32], i[32];

		render_duration(h, sizeof(h), c->sampler.half_life_ms, 1000);
		render_duration(i, sizeof(i), c->interval_ms, 1000);
		diag_warn(p, later(lh, li),
			  "half_life %s is shorter than interval %s: scores mostly decay away "
			  "between "
			  "two plans",
			  h, i);
	}
}

/* ---- entry points ------------------------------------------------------------------------- */

int pagemig_config_parse(const char *text, size_t len, const char *name, struct pagemig_config *ret,
			 struct pagemig_config_diag *diag)
{
	struct parser *p = calloc(1, sizeof(*p));
	char *buf = malloc(PAGEMIG_CONFIG_LINE_MAX + 1);
	unsigned int line = 0;
	size_t pos = 0;
	int r;

	if (!p || !buf) {
		free(p);
		free(buf);
		return -ENOMEM;
	}
	p->name = name ? name : "(config)";
	p->diag = diag ? diag : &p->own_diag;
	memset(p->diag, 0, sizeof(*p->diag));
	snprintf(p->diag->name, sizeof(p->diag->name), "%s", p->name);
	pagemig_config_init(&p->cfg);

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && !p->oom) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		pos += n + (nl ? 1 : 0);
		line++;
		if (n && start[n - 1] == '\r')
			n--;
		if (n > PAGEMIG_CONFIG_LINE_MAX) {
			diag_error(p, line, "the line is %zu bytes long; lines may have at most %d",
				   n, PAGEMIG_CONFIG_LINE_MAX);
			continue;
		}
		if (memchr(start, 0, n)) {
			diag_error(p, line, "the line contains a NUL byte (is this a text file?)");
			continue;
		}
		memcpy(buf, start, n);
		buf[n] = 0;
		parse_line(p, line, buf);
	}
	if (!p->oom) {
		check_global(p);
		check_rules(p);
	}
	sort_diag(p->diag);

	if (p->oom)
		r = -ENOMEM;
	else if (p->diag->errors)
		r = -EINVAL;
	else
		r = 0;
	if (r == 0) {
		if (!p->cfg.n_rules) {
			free(p->cfg.rules);
			p->cfg.rules = NULL;
		}
		*ret = p->cfg;
	} else {
		pagemig_config_free(&p->cfg);
	}
	free(p->rs);
	free(p);
	free(buf);
	return r;
}

/* A line-0 error about the file as a whole. */
static void file_error(struct pagemig_config_diag *diag, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void file_error(struct pagemig_config_diag *diag, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	memset(diag, 0, sizeof(*diag));
	snprintf(diag->name, sizeof(diag->name), "%s", path);
	diag->errors = 1;
	diag->n = 1;
	diag->msg[0].severity = PAGEMIG_CONFIG_ERROR;
	va_start(ap, fmt);
	vsnprintf(diag->msg[0].text, sizeof(diag->msg[0].text), fmt, ap);
	va_end(ap);
}

/* Who may change the file decides what a root daemon does: only root (or the caller itself). */
static int check_owner(int fd, const char *path, struct pagemig_config_diag *diag)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		file_error(diag, path, "cannot read the configuration: %s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		file_error(diag, path, "not a regular file");
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		file_error(diag, path,
			   "the file is owned by uid %u, not root: whoever owns it could steer "
			   "pagemigd; 'chown root:root %s'",
			   (unsigned int)st.st_uid, path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		file_error(diag, path,
			   "the file is writable by %s (mode %04o): they could steer pagemigd; "
			   "'chmod go-w %s'",
			   st.st_mode & S_IWOTH ? "everyone" : "its group",
			   (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

static int load(const char *path, bool secure, struct pagemig_config *ret,
		struct pagemig_config_diag *diag, size_t *bytes_read)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	int fd, err = 0;

	/* secure: a FIFO must not block the daemon; it is refused below as not a regular file */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (secure ? O_NONBLOCK : 0));
	if (fd < 0)
		err = errno;
	/* checked on the file that is read, not on whatever the name points to a moment later */
	if (fd >= 0 && secure) {
		err = check_owner(fd, path, diag);
		if (err) {
			close(fd);
			return err;
		}
	}
	while (fd >= 0) {
		ssize_t n;

		if (len == cap) {
			char *t;

			cap = cap ? cap * 2 : 16384;
			if (cap > PAGEMIG_CONFIG_FILE_MAX + 1)
				cap = PAGEMIG_CONFIG_FILE_MAX + 1;
			if (len == cap) {
				err = EFBIG;
				break;
			}
			t = realloc(text, cap);
			if (!t) {
				err = ENOMEM;
				break;
			}
			text = t;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);

	if (err) {
		free(text);
		if (err == EFBIG)
			file_error(diag, path,
				   "the file is larger than %d bytes; is it the right file?",
				   PAGEMIG_CONFIG_FILE_MAX);
		else
			file_error(diag, path, "cannot read the configuration: %s", strerror(err));
		return -err;
	}
	err = pagemig_config_parse(text ? text : "", len, path, ret, diag);
	free(text);
	if (bytes_read)
		*bytes_read = len;
	return err;
}

int pagemig_config_load(const char *path, struct pagemig_config *ret,
			struct pagemig_config_diag *diag)
{
	return load(path, false, ret, diag, NULL);
}

int pagemig_config_load_secure(const char *path, struct pagemig_config *ret,
			       struct pagemig_config_diag *diag, size_t *bytes_read)
{
	return load(path, true, ret, diag, bytes_read);
}

/* ---- rendering ---------------------------------------------------------------------------- */

static void render_section(FILE *f, enum sect sect, const struct pagemig_config *cfg,
			   unsigned int flags, bool *first)
{
	char val[PAGEMIG_CONFIG_LINE_MAX];
	bool header = false;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct pagemig_config_key *k = &keys[i];

		if (impl(k)->sect != sect)
			continue;
		for (unsigned int node = 0; node < PAGEMIG_TOPO_MAX_NODES; node++) {
			bool family = impl(k)->flags & K_FAMILY;

			if (family && !(cfg->watermark_nodes & (UINT64_C(1) << node)))
				continue;
			render_key(k, cfg, node, val, sizeof(val));
			if (!family && (flags & PAGEMIG_CONFIG_RENDER_CHANGED) &&
			    !strcmp(val, k->def))
				goto next;
			if (!header) {
				fprintf(f, "%s[%s]\n", *first ? "" : "\n", sect_names[sect]);
				header = true;
				*first = false;
			}
			if (family)
				fprintf(f, "watermark.node%u = %s\n", node, val);
			else
				fprintf(f, "%s =%s%s\n", k->key, val[0] ? " " : "", val);
		next:
			if (!family)
				break;
		}
	}
}

char *pagemig_config_render(const struct pagemig_config *cfg, unsigned int flags)
{
	char val[PAGEMIG_CONFIG_LINE_MAX];
	char *buf = NULL;
	size_t size = 0;
	bool first = true;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	for (int s = SECT_DAEMON; s < SECT_POLICY; s++)
		render_section(f, (enum sect)s, cfg, flags, &first);
	for (size_t r = 0; r < cfg->n_rules; r++) {
		const struct pagemig_policy_rule *rule = &cfg->rules[r];

		fprintf(f, "%s[policy %s]\n", first ? "" : "\n", rule->name);
		first = false;
		for (size_t i = 0; i < N_KEYS; i++) {
			const struct pagemig_config_key *k = &keys[i];

			if (impl(k)->sect != SECT_POLICY || !(k->policy_types & (1u << rule->type)))
				continue;
			render_key(k, rule, 0, val, sizeof(val));
			if (!val[0] || ((flags & PAGEMIG_CONFIG_RENDER_CHANGED) &&
					strcmp(k->key, "type") && !strcmp(val, k->def)))
				continue;
			fprintf(f, "%s = %s\n", k->key, val);
		}
	}
	if (fclose(f)) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	return buf;
}

/* ---- views -------------------------------------------------------------------------------- */

void pagemig_config_policy(const struct pagemig_config *cfg, struct pagemig_policy_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->rules = cfg->rules;
	ret->n_rules = cfg->n_rules;
	ret->rate_bytes_per_s = cfg->rate_bytes_per_s;
	ret->cooldown_ms = cfg->cooldown_ms;
	ret->pingpong_intervals = cfg->pingpong_intervals;
	ret->freeze_ms = cfg->freeze_ms;
	for (unsigned int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
		ret->watermark_pct[n] = cfg->watermark_nodes & (UINT64_C(1) << n)
						? cfg->watermark_node_pct[n]
						: cfg->watermark_pct;
}

void pagemig_config_migrate_opts(const struct pagemig_config *cfg, struct pagemig_opts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->sz = sizeof(*ret);
	ret->flags =
		(cfg->move_shared ? PAGEMIG_MOVE_ALL : 0) | (cfg->verify ? 0 : PAGEMIG_NO_VERIFY);
	ret->max_retries = cfg->max_retries;
	ret->pages_per_call = cfg->pages_per_call;
	ret->call_budget_us = cfg->call_budget_us;
	ret->threads = cfg->threads;
	ret->backoff_us = cfg->backoff_us;
	ret->rate_bytes_per_s = cfg->rate_bytes_per_s;
}
