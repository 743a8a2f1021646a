/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes as the daemon sees them: what /proc says about one (read_proc), and which policy
 * rule governs it (procs_match, pure). Paths start at a proc root so tests can use fixtures.
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

/* Read what matching and managing need about pid under proc_root ("/proc"). Returns 0, -ESRCH
 * when the process is gone, -ENOENT for a kernel thread (no memory of its own). */
int procs_read(const char *proc_root, pid_t pid, struct proc_info *ret);

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
/* /proc/PID/stat: the start time (field 22, after the parenthesised comm). 0 or -EINVAL. */
int procs_parse_stat(const char *text, size_t len, uint64_t *start_time);
/* /proc/PID/statm: total and resident pages. 0 or -EINVAL. */
int procs_parse_statm(const char *text, size_t len, uint64_t *size, uint64_t *resident);
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
