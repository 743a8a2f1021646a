// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procs.h"

int procs_parse_nodelist(const char *s, uint64_t *ret)
{
	uint64_t mask = 0;
	const char *p = s;

	while (*p && *p != '\n') {
		char *end;
		unsigned long a, b;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > b || b >= 64)
			return -EINVAL;
		for (unsigned long n = a; n <= b; n++)
			mask |= UINT64_C(1) << n;
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	*ret = mask;
	return 0;
}

static FILE *open_at(const char *root, pid_t pid, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, name);
	return fopen(path, "re");
}

static int read_status(const char *root, pid_t pid, struct proc_info *p)
{
	char line[512];
	FILE *f = open_at(root, pid, "status");

	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	p->mems_allowed = ~UINT64_C(0);
	while (fgets(line, sizeof(line), f)) {
		unsigned int uid;

		if (sscanf(line, "Uid: %u", &uid) == 1)
			p->uid = uid;
		else if (sscanf(line, "Threads: %d", &p->threads) == 1)
			;
		else if (!strncmp(line, "Mems_allowed_list:", 18)) {
			const char *v = line + 18;

			while (*v == ' ' || *v == '\t')
				v++;
			if (procs_parse_nodelist(v, &p->mems_allowed))
				p->mems_allowed = ~UINT64_C(0);
		}
	}
	fclose(f);
	return 0;
}

/* Field 22 of /proc/PID/stat, after the parenthesised comm (which may hold spaces). */
static int read_start_time(const char *root, pid_t pid, uint64_t *ret)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f = open_at(root, pid, "stat");

	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
				"%*d %*d %*d %llu",
			 &start) != 1)
		return -EINVAL;
	*ret = start;
	return 0;
}

int procs_read(const char *root, pid_t pid, struct proc_info *p)
{
	char path[128], line[PAGEMIG_RULE_PATH_MAX + 8];
	unsigned long long size = 0, resident = 0;
	ssize_t n;
	FILE *f;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	err = read_start_time(root, pid, &p->start_time);
	if (err)
		return err;

	f = open_at(root, pid, "statm");
	if (!f)
		return -ESRCH;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		size = 0;
	fclose(f);
	if (size == 0)
		return -ENOENT; /* kernel thread: no mm */
	p->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);

	f = open_at(root, pid, "comm");
	if (!f)
		return -ESRCH;
	if (fgets(p->comm, sizeof(p->comm), f))
		p->comm[strcspn(p->comm, "\n")] = 0;
	fclose(f);

	snprintf(path, sizeof(path), "%s/%d/exe", root, (int)pid);
	n = readlink(path, p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = 0;

	f = open_at(root, pid, "cgroup");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(p->cgroup, sizeof(p->cgroup), "%.*s", (int)sizeof(p->cgroup) - 1,
				 line + 3);
		}
	if (f)
		fclose(f);
	return read_status(root, pid, p);
}

/* cgroup matches prefix as a path: "/a/b" matches "/a/b" and "/a/b/c", not "/a/bc". */
static int cgroup_under(const char *cgroup, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return 1;
	return !strncmp(cgroup, prefix, n) && (cgroup[n] == 0 || cgroup[n] == '/');
}

int procs_match(const struct pagemig_policy_rule *rules, size_t n_rules, const struct proc_info *p)
{
	for (size_t i = 0; i < n_rules; i++) {
		const struct pagemig_policy_rule *r = &rules[i];

		if (r->match_pid && r->match_pid != p->pid)
			continue;
		if (r->match_comm[0] && fnmatch(r->match_comm, p->comm, 0))
			continue;
		if (r->match_exe[0] && (!p->exe[0] || fnmatch(r->match_exe, p->exe, 0)))
			continue;
		if (r->match_cgroup[0] && !cgroup_under(p->cgroup, r->match_cgroup))
			continue;
		if (r->match_min_rss && p->rss_bytes < r->match_min_rss)
			continue;
		return (int)i;
	}
	return -1;
}

uint64_t procs_policy_nodes(const char *root, pid_t pid, uint64_t all)
{
	char line[4096];
	uint64_t nodes = 0;
	FILE *f = open_at(root, pid, "numa_maps");

	if (!f)
		return all;
	while (fgets(line, sizeof(line), f)) {
		char *pol = strchr(line, ' '), *colon;
		uint64_t m;

		if (!pol)
			continue;
		pol++;
		colon = strchr(pol, ':');
		/* "default", "local" and policies without a node set allow everything */
		if (!colon || colon > strchr(pol, ' ')) {
			nodes = all;
			break;
		}
		/* "bind:0-1", "prefer:1", "interleave:0-3", "preferred-many:..." */
		*strchrnul(colon, ' ') = 0;
		if (procs_parse_nodelist(colon + 1, &m) == 0)
			nodes |= m;
		else
			nodes = all;
	}
	fclose(f);
	return nodes ? nodes & all : all;
}
