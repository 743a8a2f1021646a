// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

/* Read a whole /proc file (at most max bytes) into a malloc'ed, NUL-terminated buffer. */
static int read_text(const char *root, pid_t pid, const char *name, size_t max, char **ret,
		     size_t *ret_len)
{
	FILE *f = open_at(root, pid, name);
	size_t len = 0, cap = 0;
	char *buf = NULL;

	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	for (;;) {
		size_t n;

		if (cap - len < 2) {
			char *b;

			cap = cap ? cap * 2 : 2048;
			if (cap > max + 1)
				cap = max + 1;
			if (cap - len < 2)
				break; /* the rest is not read: the parsers see what fits */
			b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (!n)
			break;
	}
	if (ferror(f) && !len) {
		int err = errno == ESRCH ? -ESRCH : -EIO;

		fclose(f);
		free(buf);
		return err;
	}
	fclose(f);
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* The next line of text[*pos..len) as [*line, *line + *n) without its newline; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl != NULL);
	return true;
}

/* A line copied into buf (NUL-terminated); false when it does not fit. */
static bool copy_line(char *buf, size_t size, const char *line, size_t n)
{
	if (n >= size)
		return false;
	memcpy(buf, line, n);
	buf[n] = 0;
	return true;
}

void procs_parse_status(const char *text, size_t len, struct proc_info *p)
{
	const char *l;
	size_t pos = 0, n;
	char line[512];

	p->mems_allowed = ~UINT64_C(0);
	while (next_line(text, len, &pos, &l, &n)) {
		unsigned int uid;
		int threads;

		if (n > 18 && !memcmp(l, "Mems_allowed_list:", 18)) {
			const char *v;

			/* a list that does not fit is not cut into a smaller one: all nodes */
			if (!copy_line(line, sizeof(line), l, n))
				continue;
			for (v = line + 18; *v == ' ' || *v == '\t'; v++)
				;
			if (procs_parse_nodelist(v, &p->mems_allowed))
				p->mems_allowed = ~UINT64_C(0);
			continue;
		}
		if (!copy_line(line, sizeof(line), l, n < sizeof(line) ? n : sizeof(line) - 1))
			continue;
		if (sscanf(line, "Uid: %u", &uid) == 1)
			p->uid = uid;
		else if (sscanf(line, "Threads: %d", &threads) == 1)
			p->threads = threads;
	}
}

/* The fields of /proc/PID/stat after the comm (from the state on, one line) into buf; the
 * comm's first byte in *comm (NULL without a '(') and its length. The comm may hold anything,
 * ')' and newlines included: the last ')' ends it. 0 or -EINVAL. */
static int stat_after_comm(const char *text, size_t len, char *buf, size_t size,
			   const char **comm, size_t *comm_len)
{
	const char *p, *open;

	for (p = text + len; p > text && p[-1] != ')'; p--)
		;
	if (p == text)
		return -EINVAL;
	if (!copy_line(buf, size, p, (size_t)(text + len - p)) ||
	    memchr(p, 0, (size_t)(text + len - p)) || buf[0] != ' ')
		return -EINVAL;
	open = memchr(text, '(', (size_t)(p - text));
	*comm = open && open < p - 1 ? open + 1 : NULL;
	*comm_len = *comm ? (size_t)(p - 1 - *comm) : 0;
	return 0;
}

int procs_parse_stat_fields(const char *text, size_t len, struct proc_stat *ret)
{
	char buf[1024];
	const char *comm;
	unsigned long long start = 0, vsize = 0, rss = 0;
	int threads = 0;
	size_t n;

	/* fields 3 (state) to 24 (rss): threads is 20, the start time 22, vsize 23 */
	if (stat_after_comm(text, len, buf, sizeof(buf), &comm, &n) || !comm ||
	    sscanf(buf + 1, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			    "%*d %d %*d %llu %llu %llu",
		   &threads, &start, &vsize, &rss) != 4)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->comm, comm, n < sizeof(ret->comm) ? n : sizeof(ret->comm) - 1);
	ret->start_time = start;
	ret->vsize = vsize;
	ret->rss_pages = rss;
	ret->threads = threads;
	return 0;
}

int procs_read_stat(const char *root, pid_t pid, struct proc_stat *ret)
{
	char path[128], text[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EINVAL;
	return procs_parse_stat_fields(text, (size_t)n, ret);
}

void procs_parse_cgroup(const char *text, size_t len, char *buf, size_t buf_len)
{
	const char *l;
	size_t pos = 0, n;

	buf[0] = 0;
	/* The kernel prints the path unescaped: a cgroup whose name holds a newline makes more
	 * lines. Only the first "0::" line is the process's own (a later one may be forged). */
	while (next_line(text, len, &pos, &l, &n)) {
		if (n < 3 || memcmp(l, "0::", 3))
			continue;
		if (!memchr(l + 3, 0, n - 3))
			copy_line(buf, buf_len, l + 3, n - 3);
		return;
	}
}

bool procs_parse_policy_line(const char *line, size_t len, uint64_t *nodes)
{
	const char *pol, *end = line + len, *colon, *stop;
	char list[256];

	/* "7f0d3c000000 bind:0-1 anon=..." */
	pol = memchr(line, ' ', len);
	if (!pol)
		return false;
	pol++;
	stop = memchr(pol, ' ', (size_t)(end - pol));
	if (!stop)
		stop = end;
	colon = memchr(pol, ':', (size_t)(stop - pol));
	/* "default", "local" and policies without a node set allow everything */
	if (!colon)
		return false;
	/* "bind:0-1", "prefer:1", "interleave:0-3", "preferred-many:..." (flags such as
	 * "bind=static:0-1" come before the colon) */
	if (!copy_line(list, sizeof(list), colon + 1, (size_t)(stop - colon - 1)))
		return false;
	return procs_parse_nodelist(list, nodes) == 0;
}

/* procs_read() after its stat (st): p from st, and the name, executable, cgroup, uid, threads
 * and cpuset nodes from the other files. */
static int read_after_stat(const char *root, pid_t pid, const struct proc_stat *st,
			   struct proc_info *p)
{
	char path[128], *text;
	size_t len;
	ssize_t n;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start_time = st->start_time;
	p->rss_bytes = st->rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
	err = read_text(root, pid, "comm", 64, &text, &len);
	if (err)
		return -ESRCH;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)strcspn(text, "\n"), text);
	free(text);

	/* a name that does not fit is unknown, not cut: a cut one could match another rule */
	snprintf(path, sizeof(path), "%s/%d/exe", root, (int)pid);
	n = readlink(path, p->exe, sizeof(p->exe));
	p->exe[n > 0 && (size_t)n < sizeof(p->exe) ? n : 0] = 0;

	if (!read_text(root, pid, "cgroup", 64 * 1024, &text, &len)) {
		procs_parse_cgroup(text, len, p->cgroup, sizeof(p->cgroup));
		free(text);
	}

	err = read_text(root, pid, "status", 1 << 20, &text, &len);
	if (err)
		return err;
	procs_parse_status(text, len, p);
	free(text);
	return 0;
}

int procs_read(const char *root, pid_t pid, struct proc_info *p)
{
	struct proc_stat st;
	int err = procs_read_stat(root, pid, &st);

	if (err)
		return err;
	if (!st.vsize)
		return -ENOENT; /* a kernel thread or a zombie: no memory of its own */
	return read_after_stat(root, pid, &st, p);
}

static const struct procs_cache_entry *cache_find(const struct procs_cache *c, pid_t pid)
{
	size_t lo = 0, hi = c->n_last;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->last[mid].info.pid == pid)
			return &c->last[mid];
		if (c->last[mid].info.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cache_keep(struct procs_cache *c, const struct proc_info *p, const char *stat_comm,
		      uint64_t read_ms)
{
	struct procs_cache_entry *e;

	if (c->n_now == c->cap_now) {
		size_t cap = c->cap_now ? c->cap_now * 2 : 256;

		e = realloc(c->now, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		c->now = e;
		c->cap_now = cap;
	}
	e = &c->now[c->n_now++];
	e->info = *p;
	memcpy(e->stat_comm, stat_comm, sizeof(e->stat_comm));
	e->read_ms = read_ms;
	return 0;
}

int procs_cache_read(struct procs_cache *c, const char *root, pid_t pid, uint64_t now_ms,
		     uint64_t refresh_ms, struct proc_info *ret)
{
	const struct procs_cache_entry *e;
	struct proc_stat st;
	uint64_t read_ms = now_ms;
	int err = procs_read_stat(root, pid, &st);

	if (err)
		return err;
	if (!st.vsize)
		return -ENOENT; /* a kernel thread or a zombie: no memory of its own */
	e = cache_find(c, pid);
	if (e && e->info.start_time == st.start_time && !memcmp(e->stat_comm, st.comm, 16) &&
	    now_ms - e->read_ms < refresh_ms) {
		*ret = e->info;
		ret->rss_bytes = st.rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
		ret->threads = st.threads;
		read_ms = e->read_ms;
		c->stat_reads++;
	} else {
		err = read_after_stat(root, pid, &st, ret);
		if (err)
			return err;
		c->full_reads++;
	}
	/* not kept when memory is short: the next scan reads it in full again */
	cache_keep(c, ret, st.comm, read_ms);
	return 0;
}

static int cmp_entry_pid(const void *a, const void *b)
{
	const struct procs_cache_entry *x = a, *y = b;

	return x->info.pid < y->info.pid ? -1 : x->info.pid > y->info.pid;
}

void procs_cache_end_scan(struct procs_cache *c)
{
	struct procs_cache_entry *v = c->last;
	size_t cap = c->cap_last;

	/* /proc lists pids in order already; sorting costs next to nothing then */
	if (c->n_now > 1)
		qsort(c->now, c->n_now, sizeof(*c->now), cmp_entry_pid);
	c->last = c->now;
	c->n_last = c->n_now;
	c->cap_last = c->cap_now;
	c->now = v;
	c->cap_now = cap;
	c->n_now = 0;
}

void procs_cache_free(struct procs_cache *c)
{
	free(c->last);
	free(c->now);
	memset(c, 0, sizeof(*c));
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
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t nodes = 0;
	FILE *f = open_at(root, pid, "numa_maps");

	if (!f)
		return all;
	/* whole lines, however long (file names): a piece of one is not a mapping */
	while ((n = getline(&line, &cap, f)) > 0) {
		uint64_t m = 0;

		if (line[n - 1] == '\n')
			n--;
		if (!memchr(line, ' ', (size_t)n))
			continue; /* not a mapping */
		if (!procs_parse_policy_line(line, (size_t)n, &m)) {
			nodes = all;
			break;
		}
		nodes |= m;
	}
	free(line);
	fclose(f);
	if (!nodes)
		return all;
	/* policies that name only nodes without memory: no node is allowed, and 0 would mean
	 * "every node" to the policy engine; the nodes named keep it from moving anything */
	return nodes & all ? nodes & all : nodes;
}
