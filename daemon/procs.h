/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes as the daemon sees them: what /proc says about one (procs_read, or
 * procs_cache_read across scans), and which policy rule governs it (procs_match, pure). Paths
 * start at a proc root so tests can use fixtures.
 */
#ifndef PAGEMIG_DAEMON_PROCS_H
#define PAGEMIG_DAEMON_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

struct proc_info {
	pid_t pid;
	char comm[16];
	char exe[PAGEMIG_RULE_PATH_MAX];    /* target of /proc/PID/exe, "" if unreadable */
	char cgroup[PAGEMIG_RULE_PATH_MAX]; /* cgroup v2 path ("/system.slice/x.service") */
	uint64_t rss_bytes;		    /* resident */
	uint64_t mems_allowed;		    /* cpuset's nodes (bit per node id) */
	uint64_t start_time;		    /* clock ticks after boot: tells a reused pid apart */
	uid_t uid;			    /* real uid */
	int threads;
};

/* What /proc/PID/stat alone says of a process: enough to tell the process seen at the last
 * scan from a new one under its pid (the start time) or one that has run exec since (the name
 * changes), and its size. One small read, where procs_read() makes five. */
struct proc_stat {
	char comm[16];	     /* as stat shows it: newlines kept, cut to 15 bytes */
	uint64_t start_time; /* clock ticks after boot */
	uint64_t vsize;	     /* bytes; 0: no memory of its own (a kernel thread, a zombie) */
	uint64_t rss_pages;  /* resident */
	int threads;
};

/* Read /proc/PID/stat under proc_root. 0, -ESRCH when the process is gone, -EINVAL when the
 * text is not what the kernel prints. */
int procs_read_stat(const char *proc_root, pid_t pid, struct proc_stat *ret);

/* Read what matching and managing need about pid under proc_root ("/proc"). Returns 0, -ESRCH
 * when the process is gone, -ENOENT for a kernel thread (no memory of its own). */
int procs_read(const char *proc_root, pid_t pid, struct proc_info *ret);

/*
 * What the scans of /proc read of each process, so that the next scan can read less: a process
 * it read in full (procs_read()) less than refresh_ms ago, with the same start time and name
 * in its stat (a new process under the pid, or an exec, changes them), is read from its stat
 * alone (name, size, threads). Its executable, cgroup, uid and cpuset nodes are then as the
 * full read found them: a move to another cgroup or cpuset shows within refresh_ms.
 */
struct procs_cache_entry {
	struct proc_info info;
	char stat_comm[16]; /* the stat's name at the full read (proc_stat.comm) */
	uint64_t read_ms;   /* when procs_read() read it */
};
struct procs_cache {
	struct procs_cache_entry *last, *now; /* the last scan's (sorted by pid), this one's */
	size_t n_last, n_now, cap_last, cap_now;
	uint64_t full_reads, stat_reads; /* since the cache began */
};

/* What procs_read() says of pid under proc_root, or, when the last scan read it in full
 * less than refresh_ms before now_ms and its stat shows the same process and name, that with
 * the stat's name, size and threads. Kept for the next scan. Returns as procs_read() does
 * (-ENOENT for a process without memory of its own: a kernel thread, a zombie), -ENOMEM. */
int procs_cache_read(struct procs_cache *c, const char *proc_root, pid_t pid, uint64_t now_ms,
		     uint64_t refresh_ms, struct proc_info *ret);

/* A scan is over: what it read is what the next one looks up (processes it did not read are
 * forgotten). */
void procs_cache_end_scan(struct procs_cache *c);

void procs_cache_free(struct procs_cache *c);

/* Index of the first rule that matches p, or -1. */
int procs_match(const struct pagemig_policy_rule *rules, size_t n_rules, const struct proc_info *p);

/* The nodes the memory policies of pid's mappings allow (union of bind/prefer/interleave node
 * sets from /proc/PID/numa_maps) within all, or all when a mapping has the default policy. Never
 * 0: when the policies name only nodes outside all, those nodes (nothing in all is allowed). */
uint64_t procs_policy_nodes(const char *proc_root, pid_t pid, uint64_t all);

/* Parse a node list ("0-2,4") into a bit mask; -EINVAL when malformed or a node is >= 64. */
int procs_parse_nodelist(const char *s, uint64_t *ret);

/*
 * The parsers behind procs_read() and procs_policy_nodes(), on text as the kernel prints it
 * (len bytes, need not be NUL-terminated, may hold anything: they are fuzzed, tests/fuzz).
 */
/* /proc/PID/stat: the comm, threads (field 20), start time, vsize and rss (22 to 24) into ret.
 * 0 or -EINVAL (ret untouched). */
int procs_parse_stat_fields(const char *text, size_t len, struct proc_stat *ret);
/* /proc/PID/status: uid (Uid:), threads (Threads:), mems_allowed (Mems_allowed_list:, all
 * nodes when missing or unreadable) into p. */
void procs_parse_status(const char *text, size_t len, struct proc_info *p);
/* /proc/PID/cgroup: the cgroup v2 path (the first "0::" line) into buf (len > 0). "" when there
 * is none or it does not fit: a cut path could match a rule meant for a sibling cgroup. */
void procs_parse_cgroup(const char *text, size_t len, char *buf, size_t buf_len);
/* One /proc/PID/numa_maps line: false when its memory policy allows every node ("default",
 * "local", no node set, unparsable), else true and the policy's nodes in *nodes. */
bool procs_parse_policy_line(const char *line, size_t len, uint64_t *nodes);

#endif
