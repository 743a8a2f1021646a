/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagemigd's configuration file, /etc/pagemig.conf: a small INI dialect, parsed by a table of
 * known keys (pagemig_config_keys()), every value range-checked, every problem reported as
 * "FILE:LINE: message" into a struct pagemig_config_diag. The parser never prints, never exits
 * and has no global state.
 *
 * Syntax
 *   - One item per line: a section header "[daemon]", "[sampler]", "[migrate]" or
 *     "[policy NAME]", a "key = value" line, a comment or a blank line. Lines end with LF or
 *     CRLF; the last line needs no newline; a UTF-8 byte order mark at the start is skipped.
 *   - Comments are lines whose first non-blank character is '#' or ';'. There are no comments
 *     after a value: "rate = 32MiB/s # slow" is an error for typed values and a warning for
 *     strings (quote the value if the '#' belongs to it).
 *   - Blanks (space, tab) around section names, keys and values are ignored. Section names,
 *     keys and units are case-sensitive; keywords (yes/no, enforce, locality, auto, ...) are not.
 *   - A value wrapped in double quotes has exactly that outer pair removed and nothing inside
 *     interpreted (no escapes): quotes keep blanks at the ends of a string, or a '#'.
 *   - An empty value ("key =" or "key = \"\"") sets the key to its default.
 *   - Unknown sections and keys, a key set twice in a section, a global section or a policy
 *     name given twice are errors. Lines are at most PAGEMIG_CONFIG_LINE_MAX bytes, the file at
 *     most PAGEMIG_CONFIG_FILE_MAX; NUL bytes are errors.
 *   - [policy NAME] sections are the rules in priority order: a process is governed by the
 *     first whose every match criterion holds. NAME is 1-63 of [A-Za-z0-9_.-].
 *
 * Values
 *   duration    a whole number and a unit: us, ms, s, m (or min), h: "500ms", "5s", "2m". A
 *               unit is required (a bare "5" is rejected as ambiguous); only 0 may go without.
 *   size        a whole number of bytes, optionally with a unit: B; K, KiB, M, MiB, G, GiB, T,
 *               TiB are powers of 1024; KB, MB, GB, TB are powers of 1000 ("1G" = 1GiB).
 *   rate        a size per second: "200MB/s", "32MiB/s"; some keys also take "unlimited".
 *   percent     a decimal with '%': "5%", "0.5%".
 *   decimal     "0.75", "2", at most 6 decimal places, no sign, no exponent.
 *   number      a whole number without sign or unit.
 *   boolean     yes/no, true/false, on/off, 1/0.
 *   node list   "0,2-3": node ids 0..63, ascending ranges, no node twice.
 * Numbers never wrap: anything beyond the range, including values too large for 64 bits, is
 * reported with the allowed range.
 *
 * Severity: errors make the file unusable (pagemig_config_parse() fails and leaves the caller's
 * configuration alone); warnings point at settings that are valid but probably not meant (a
 * policy that can never apply, a source that needs another one) and are reported as
 * "FILE:LINE: warning: message". pagemigd --check-config exits 1 only for errors.
 */
#ifndef PAGEMIG_DAEMON_CONFIG_H
#define PAGEMIG_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pagemig/pagemig.h>

#include "policy.h"
#include "sampler.h"
#include "topology.h"

/* Where pagemigd looks without --config. */
#define PAGEMIG_CONFIG_PATH "/etc/pagemig.conf"

#define PAGEMIG_CONFIG_LINE_MAX		  4096	    /* bytes per line, without the line ending */
#define PAGEMIG_CONFIG_FILE_MAX		  (1 << 20) /* bytes per file */
#define PAGEMIG_CONFIG_RULES_MAX	  1024	    /* [policy NAME] sections */
#define PAGEMIG_CONFIG_SOCKET_MAX	  108	    /* sizeof(sockaddr_un.sun_path) */
#define PAGEMIG_CONFIG_GROUP_MAX	  64
#define PAGEMIG_CONFIG_FILE_PATH_MAX	  256
#define PAGEMIG_CONFIG_METRICS_LISTEN_MAX 80

/* What pagemigd does with its plans. */
enum pagemig_mode {
	PAGEMIG_MODE_ENFORCE = 0, /* move pages */
	PAGEMIG_MODE_OBSERVE,	  /* decide and report, never move */
};

/* "enforce", "observe"; "?" when out of range. */
const char *pagemig_mode_name(enum pagemig_mode mode);

/* Everything /etc/pagemig.conf sets, defaults filled in. A plain value except for rules, which
 * pagemig_config_free() releases. */
struct pagemig_config {
	/* [daemon] */
	uint64_t interval_ms;				 /* interval: policy period */
	enum pagemig_mode mode;				 /* mode */
	char socket_path[PAGEMIG_CONFIG_SOCKET_MAX];	 /* socket: control socket, absolute */
	char socket_group[PAGEMIG_CONFIG_GROUP_MAX];	 /* socket_group: group name or gid */
	int log_level;					 /* log_level: LOG_ERR .. LOG_DEBUG */
	char metrics_file[PAGEMIG_CONFIG_FILE_PATH_MAX]; /* metrics_file: "" = off */
	char metrics_listen[PAGEMIG_CONFIG_METRICS_LISTEN_MAX]; /* metrics_listen: "HOST:PORT" of
								   a loopback address, "" = off */

	/* [sampler]: passed to pagemig_sampler_new() after the caller sets the log callback.
	 * sz is set; max_oncpu and max_snapshot are 0 for "auto"; rearm_ms 0 re-arms at every
	 * drain; the pointers are NULL. */
	struct pagemig_sampler_config sampler;

	/* [migrate] */
	uint64_t rate_bytes_per_s;   /* rate: 0 = unlimited */
	unsigned int pages_per_call; /* pages_per_call */
	unsigned int call_budget_us; /* call_budget: UINT_MAX = unlimited */
	unsigned int threads;	     /* threads: move calls side by side */
	unsigned int max_retries;    /* max_retries */
	unsigned int backoff_us;     /* retry_backoff */
	bool verify;		     /* verify: query where pages are after each call */
	bool move_shared;	     /* move_shared: MPOL_MF_MOVE_ALL */
	double watermark_pct;	     /* watermark: keep this % of every node free */
	uint64_t watermark_nodes;    /* bit n: watermark.node<n> overrides watermark_pct */
	double watermark_node_pct[PAGEMIG_TOPO_MAX_NODES]; /* valid where the bit is set */
	uint64_t cooldown_ms;		 /* cooldown: a moved page is left alone this long */
	unsigned int pingpong_intervals; /* pingpong_intervals: 0 = no ping-pong detection */
	uint64_t freeze_ms; /* freeze: a page that ping-ponged is left alone this long */
	uint64_t min_rss;   /* min_rss: smaller processes are never managed */

	/* [policy NAME] sections in file order (= priority) */
	struct pagemig_policy_rule *rules;
	size_t n_rules;
};

/* ---- diagnostics -------------------------------------------------------------------------- */

enum pagemig_config_severity {
	PAGEMIG_CONFIG_ERROR = 0,
	PAGEMIG_CONFIG_WARNING,
};

#define PAGEMIG_CONFIG_DIAG_MAX 100 /* messages kept; the rest are only counted */
#define PAGEMIG_CONFIG_MSG_MAX	320

/* One message: line 0 is about the file as a whole (it cannot be read, ...). */
struct pagemig_config_message {
	enum pagemig_config_severity severity;
	unsigned int line;
	char text[PAGEMIG_CONFIG_MSG_MAX]; /* "interval: '0s' is below the minimum 100ms" */
};

/* What a parse found, sorted by line. About 33 KiB: fine on the stack of a daemon's main
 * thread, or allocate it. */
struct pagemig_config_diag {
	char name[256];	       /* file name used in the messages */
	unsigned int errors;   /* all errors found, kept or not */
	unsigned int warnings; /* all warnings found, kept or not */
	unsigned int n;	       /* messages kept in msg[] */
	struct pagemig_config_message msg[PAGEMIG_CONFIG_DIAG_MAX];
};

/* Message i as one line, "NAME:LINE: text" or "NAME:LINE: warning: text" ("NAME: text" for
 * line 0), into buf (always NUL-terminated). Returns the length it wanted, like snprintf, or
 * -EINVAL when i is out of range. */
int pagemig_config_diag_format(const struct pagemig_config_diag *diag, unsigned int i, char *buf,
			       size_t len);

/* Write every kept message to out, one per line, then "NAME: N more errors and M more warnings
 * not shown" when some were not kept. */
void pagemig_config_diag_print(FILE *out, const struct pagemig_config_diag *diag);

/* ---- parsing ------------------------------------------------------------------------------ */

/* Fill cfg with the built-in defaults (the "default" column of pagemig_config_keys()) and no
 * policies. cfg needs no pagemig_config_free() until rules are added. */
void pagemig_config_init(struct pagemig_config *cfg);

/*
 * Parse len bytes of text (need not be NUL-terminated; may hold anything) named name in
 * messages. Every problem is reported into diag (may be NULL), which is reset first.
 * Returns 0 and *ret (the caller's earlier content is overwritten without being freed) when
 * there is no error (warnings allowed), -EINVAL when there are errors, -ENOMEM; *ret is left
 * untouched on failure. An empty text gives the defaults.
 */
int pagemig_config_parse(const char *text, size_t len, const char *name, struct pagemig_config *ret,
			 struct pagemig_config_diag *diag);

/*
 * Read and parse the file at path (named by path in messages). Returns as
 * pagemig_config_parse(), or -errno when the file cannot be read (-ENOENT, -EACCES, -EISDIR,
 * ..., -EFBIG beyond PAGEMIG_CONFIG_FILE_MAX), with a line-0 message saying so; whether a
 * missing file is fatal is the caller's decision.
 */
int pagemig_config_load(const char *path, struct pagemig_config *ret,
			struct pagemig_config_diag *diag);

/*
 * pagemig_config_load() for a daemon that runs as root: the file that is read must be a regular
 * file owned by root (or by the caller's effective uid) and writable by nobody else (no group or
 * other write bit); otherwise -EPERM (-EINVAL for a directory, a FIFO, ...) with a line-0 message
 * that says why and what to do. Checked with fstat(2) on the descriptor that is read.
 * *bytes_read (may be NULL) gets the size of the text that was parsed, so that a caller can tell
 * a file read while it was being rewritten (empty, or not the size it has afterwards).
 */
int pagemig_config_load_secure(const char *path, struct pagemig_config *ret,
			       struct pagemig_config_diag *diag, size_t *bytes_read);

/* Release the rules; cfg keeps its other values and no rules. NULL is fine. */
void pagemig_config_free(struct pagemig_config *cfg);

/* Deep copy src into *ret (rules duplicated). Returns 0 or -ENOMEM (*ret untouched). */
int pagemig_config_copy(const struct pagemig_config *src, struct pagemig_config *ret);

/* True when a and b set every key (and every policy) to the same value. */
bool pagemig_config_equal(const struct pagemig_config *a, const struct pagemig_config *b);

/* ---- rendering ---------------------------------------------------------------------------- */

/* Only keys whose value differs from the default (and sections that have some). */
#define PAGEMIG_CONFIG_RENDER_CHANGED (1u << 0)

/*
 * The configuration as INI text, every section and key in table order, values in canonical
 * form ("5s", "32MiB/s", "all"); parsing the text gives an equal configuration. Returns a
 * malloc'ed NUL-terminated string, or NULL with errno ENOMEM.
 */
char *pagemig_config_render(const struct pagemig_config *cfg, unsigned int flags);

/* ---- views for the other modules ---------------------------------------------------------- */

/* The policy engine's view: rules (borrowed from cfg, valid while cfg is), rate, cooldown,
 * ping-pong window, freeze time and the watermark of every node (override or default). */
void pagemig_config_policy(const struct pagemig_config *cfg, struct pagemig_policy_config *ret);

/* libpagemig options from [migrate]: sz, flags (PAGEMIG_MOVE_ALL for move_shared,
 * PAGEMIG_NO_VERIFY without verify), max_retries, pages_per_call, call_budget_us, threads,
 * backoff_us and rate_bytes_per_s. Other fields are zero; the executor adds pidfd and details. */
void pagemig_config_migrate_opts(const struct pagemig_config *cfg, struct pagemig_opts *ret);

/* ---- the key table ------------------------------------------------------------------------ */

/* One known key: what the documentation (conf/pagemig.conf, pagemig.conf(5)) must describe. */
struct pagemig_config_key {
	const char *section; /* "daemon", "sampler", "migrate"; "policy" for every [policy NAME] */
	const char *key;     /* "interval"; "watermark.node<N>" stands for a family of keys */
	const char *def;     /* the default as written in the file; "" when unset by default */
	const char *kind;    /* "duration", "size", "rate", "percent", "decimal", "number",
				"boolean", "keyword", "path", "pattern", "group", "address",
				"node list", "node", "source list" */
	const char *range;   /* what is allowed: "100ms..1h", "enforce, observe", ... */
	const char *help;    /* one sentence */
	unsigned int policy_types; /* policy keys: bit (1 << enum pagemig_policy_type) for each
				      type the key applies to; 0 for the other sections */
	const void *priv;	   /* config.c's own */
};

/* The table, in documentation order: [daemon], [sampler], [migrate], [policy]. *count (may be
 * NULL) receives the number of rows. */
const struct pagemig_config_key *pagemig_config_keys(size_t *count);

#endif /* PAGEMIG_DAEMON_CONFIG_H */
