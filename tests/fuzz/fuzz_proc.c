// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: what pagemigd reads in /proc about other users' processes, whose names, cgroup
 * paths and mapped file names those users choose (daemon/procs.c, daemon/numa_maps.c), and the
 * node and CPU lists of sysfs (procs_parse_nodelist, pagemig_parse_list).
 *
 * Input: one selector byte, then the text.
 *   0 status   1 stat   2 stat through procs_read_stat, from a file under a private proc root
 *   3 cgroup   4 numa_maps policies (line by line, as
 *   procs_policy_nodes)   5 node list   6 one numa_maps line   7 CPU list
 *   8 numa_maps joined with maps: the text up to the first 0xff byte is numa_maps, the rest
 *     maps, read through the real reader from files under a private proc root
 *   9 procs_read and procs_policy_nodes on such files (0xff separates stat, comm, cgroup,
 *     status, numa_maps)
 * Checks besides the sanitizers: strings stay terminated and within their fields, counts add up,
 * node masks stay within 64 nodes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numa_maps.h"
#include "procs.h"
#include "sampler_internal.h"

#define FAIL(...)                                           \
	do {                                                \
		fprintf(stderr, "fuzz_proc: " __VA_ARGS__); \
		fputc('\n', stderr);                        \
		abort();                                    \
	} while (0)

#define PID 4242

static char root[64];

static void terminated(const char *s, size_t size, const char *what)
{
	if (!memchr(s, 0, size))
		FAIL("%s is not terminated", what);
}

static void check_entry(const struct numa_map_entry *e)
{
	uint64_t sum = 0;

	terminated(e->perms, sizeof(e->perms), "perms");
	terminated(e->special, sizeof(e->special), "special");
	terminated(e->policy, sizeof(e->policy), "policy");
	terminated(e->path, sizeof(e->path), "path");
	for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
		sum += e->node_pages[n];
	if (sum != e->pages)
		FAIL("pages %llu != sum over nodes %llu", (unsigned long long)e->pages,
		     (unsigned long long)sum);
}

/* A copy with a terminating NUL, as the line readers hand it over. */
static char *dup_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

static int cpu_cb(unsigned int n, void *ctx)
{
	unsigned int *count = ctx;

	/* as the sampler's callbacks: a bound on what a list may name */
	if (n >= 1u << 16)
		return -ERANGE;
	++*count;
	return 0;
}

static void write_file(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", root, PID, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		FAIL("cannot write %s", path);
	close(fd);
}

/* The next piece of data up to a 0xff byte (or the end). */
static size_t piece(const uint8_t **data, size_t *size, const uint8_t **ret)
{
	const uint8_t *sep = memchr(*data, 0xff, *size);
	size_t n = sep ? (size_t)(sep - *data) : *size;

	*ret = *data;
	*data += n + (sep != NULL);
	*size -= n + (sep != NULL);
	return n;
}

static void read_numa_maps(const uint8_t *data, size_t size)
{
	const uint8_t *numa, *maps;
	size_t nnuma = piece(&data, &size, &numa), nmaps = piece(&data, &size, &maps);
	struct numa_maps_reader *r;
	struct numa_map_entry e;
	int got, lines = 0;

	write_file("numa_maps", numa, nnuma);
	write_file("maps", maps, nmaps);
	if (numa_maps_open(root, PID, &r))
		FAIL("numa_maps_open failed on fixture files");
	while ((got = numa_maps_next(r, &e)) > 0) {
		check_entry(&e);
		if (++lines > 1000000)
			FAIL("the reader does not end");
	}
	numa_maps_close(r);
}

static void read_proc(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"stat", "comm", "cgroup", "status", "numa_maps"};
	struct proc_info p;
	uint64_t nodes;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const uint8_t *text;
		size_t n = piece(&data, &size, &text);

		write_file(names[i], text, n);
	}
	if (procs_read(root, PID, &p) == 0) {
		static struct pagemig_policy_rule rules[4];
		int r;

		terminated(p.comm, sizeof(p.comm), "comm");
		terminated(p.exe, sizeof(p.exe), "exe");
		terminated(p.cgroup, sizeof(p.cgroup), "cgroup");
		/* and what matching makes of it, as the daemon's scan */
		if (!rules[0].match_comm[0]) {
			snprintf(rules[0].match_comm, sizeof(rules[0].match_comm), "b*sh");
			snprintf(rules[1].match_cgroup, sizeof(rules[1].match_cgroup),
				 "/user.slice/");
			rules[1].match_min_rss = 1 << 20;
			snprintf(rules[2].match_exe, sizeof(rules[2].match_exe), "/usr/*/python3*");
			rules[3].match_pid = PID;
		}
		r = procs_match(rules, 4, &p);
		if (r < -1 || r > 3)
			FAIL("procs_match: %d", r);
	}
	/* never 0 (the policy engine reads it as "every node"); outside all only when nothing in
	 * all is allowed */
	nodes = procs_policy_nodes(root, PID, 0xf);
	if (!nodes || ((nodes & ~UINT64_C(0xf)) && (nodes & 0xf)))
		FAIL("policy nodes %#llx", (unsigned long long)nodes);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[128];

	snprintf(root, sizeof(root), "%s/fuzz-proc-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(root))
		FAIL("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s/%d", root, PID);
	if (mkdir(dir, 0700))
		FAIL("mkdir: %s", strerror(errno));
	return 0;
}

__attribute__((destructor)) static void cleanup(void)
{
	static const char *const names[] = {"stat",   "comm",	   "cgroup",
					    "status", "numa_maps", "maps"};
	char path[192];

	if (!root[0])
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%d/%s", root, PID, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%d", root, PID);
	rmdir(path);
	rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_info p;
	struct numa_map_entry e;
	uint64_t u;
	unsigned int count = 0;
	char buf[PAGEMIG_RULE_PATH_MAX], *s;
	const char *text;
	size_t len;

	if (!size)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 10) {
	case 0:
		memset(&p, 0, sizeof(p));
		procs_parse_status(text, len, &p);
		break;
	case 1:
	case 2: {
		struct proc_stat st;
		int err;

		memset(&st, 0x5a, sizeof(st));
		if (data[0] % 10 == 1) {
			err = procs_parse_stat_fields(text, len, &st);
		} else {
			write_file("stat", (const uint8_t *)text, len);
			err = procs_read_stat(root, PID, &st);
		}
		if (!err)
			terminated(st.comm, sizeof(st.comm), "stat comm");
		break;
	}
	case 3:
		memset(buf, 0x5a, sizeof(buf));
		procs_parse_cgroup(text, len, buf, sizeof(buf));
		terminated(buf, sizeof(buf), "cgroup");
		if (strchr(buf, '\n'))
			FAIL("cgroup path with a newline");
		break;
	case 4: {
		size_t pos = 0;

		while (pos < len) {
			const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - l) : len - pos;

			procs_parse_policy_line(l, n, &u);
			pos += n + 1;
		}
		break;
	}
	case 5:
		s = dup_text((const uint8_t *)text, len);
		procs_parse_nodelist(s, &u);
		free(s);
		break;
	case 6:
		s = dup_text((const uint8_t *)text, len);
		if (numa_maps_parse_line(s, &e) == 0)
			check_entry(&e);
		free(s);
		break;
	case 7:
		s = dup_text((const uint8_t *)text, len);
		pagemig_parse_list(s, cpu_cb, &count);
		free(s);
		break;
	case 8:
		read_numa_maps((const uint8_t *)text, len);
		break;
	case 9:
		read_proc((const uint8_t *)text, len);
		break;
	}
	return 0;
}
