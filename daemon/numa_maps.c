// SPDX-License-Identifier: LGPL-2.1-or-later
/* /proc/PID/numa_maps joined with /proc/PID/maps. See numa_maps.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numa_maps.h"

struct numa_maps_reader {
	FILE *numa;
	FILE *maps;
	/* the maps line read ahead of numa_maps */
	bool have_map;
	uint64_t map_start, map_end;
	char map_perms[8];
	char map_special[24];
	char *line;
	size_t cap;
};

/* "key=<decimal>" with key one of numa_maps' counters: store it. */
static bool counter(const char *tok, size_t len, struct numa_map_entry *e)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"anon", offsetof(struct numa_map_entry, anon)},
		{"dirty", offsetof(struct numa_map_entry, dirty)},
		{"mapped", offsetof(struct numa_map_entry, mapped)},
		{"mapmax", offsetof(struct numa_map_entry, mapmax)},
		{"swapcache", offsetof(struct numa_map_entry, swapcache)},
		{"active", offsetof(struct numa_map_entry, active)},
		{"writeback", offsetof(struct numa_map_entry, writeback)},
	};
	const char *eq = memchr(tok, '=', len);
	char num[24];
	char *end;
	uint64_t v;
	size_t klen;

	if (!eq || eq == tok || (size_t)(tok + len - eq - 1) >= sizeof(num) || eq + 1 == tok + len)
		return false;
	klen = (size_t)(eq - tok);
	memcpy(num, eq + 1, (size_t)(tok + len - eq - 1));
	num[tok + len - eq - 1] = 0;
	if (num[0] < '0' || num[0] > '9')
		return false;
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno || *end)
		return false;
	if (tok[0] == 'N' && klen > 1) {
		char *nend;
		unsigned long node = strtoul(tok + 1, &nend, 10);

		if (nend != eq || tok[1] < '0' || tok[1] > '9')
			return false;
		if (node >= PAGEMIG_TOPO_MAX_NODES)
			return false;
		e->node_pages[node] += v; /* a node twice (not from the kernel): both count */
		e->pages += v;
		return true;
	}
	if (klen == strlen("kernelpagesize_kB") && !memcmp(tok, "kernelpagesize_kB", klen)) {
		e->page_size = v * 1024;
		return true;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (klen == strlen(keys[i].key) && !memcmp(tok, keys[i].key, klen)) {
			*(uint64_t *)((char *)e + keys[i].off) = v;
			return true;
		}
	return false;
}

static bool flag(const char *tok, size_t len, struct numa_map_entry *e)
{
	if (len == 4 && !memcmp(tok, "heap", 4))
		e->heap = true;
	else if (len == 5 && !memcmp(tok, "stack", 5))
		e->stack = true;
	else if (len == 4 && !memcmp(tok, "huge", 4))
		e->huge = true;
	else
		return false;
	return true;
}

int numa_maps_parse_line(const char *line, struct numa_map_entry *e)
{
	const char *p = line, *end, *tail;
	char *aend;
	size_t n;

	memset(e, 0, sizeof(*e));
	end = line + strcspn(line, "\n");
	while (end > line && end[-1] == ' ')
		end--;
	errno = 0;
	e->start = strtoull(p, &aend, 16);
	if (errno || aend == p || *aend != ' ')
		return -EINVAL;
	p = aend + 1;
	n = strcspn(p, " \n");
	if (!n || n >= sizeof(e->policy))
		return -EINVAL;
	memcpy(e->policy, p, n);
	p += n;

	/*
	 * A file name may hold spaces (older kernels do not escape them), so take known tokens
	 * from the end of the line backwards; what remains after "file=" is the name.
	 */
	tail = end;
	for (;;) {
		const char *tok = tail;
		size_t len;

		while (tok > p && tok[-1] != ' ')
			tok--;
		len = (size_t)(tail - tok);
		if (tok <= p || !len)
			break;
		if (!counter(tok, len, e) && !flag(tok, len, e))
			break;
		tail = tok - 1;
		while (tail > p && tail[-1] == ' ')
			tail--;
	}
	/* the rest: " file=NAME" and/or the flags before it were not taken */
	while (p < tail && *p == ' ')
		p++;
	if (tail > p) {
		if ((size_t)(tail - p) > 5 && !memcmp(p, "file=", 5)) {
			size_t plen = (size_t)(tail - p - 5);

			if (plen >= sizeof(e->path))
				plen = sizeof(e->path) - 1;
			memcpy(e->path, p + 5, plen);
		} else {
			/* flags before the counters ("heap", "huge") were taken; anything else
			 * is a token this parser does not know: ignore it, newer kernels add some
			 */
			const char *q = p;

			while (q < tail) {
				size_t len = strcspn(q, " ");

				if ((size_t)(tail - q) < len)
					len = (size_t)(tail - q);
				flag(q, len, e);
				q += len;
				while (q < tail && *q == ' ')
					q++;
			}
		}
	}
	return 0;
}

int numa_maps_open(const char *proc_root, pid_t pid, struct numa_maps_reader **ret)
{
	struct numa_maps_reader *r = calloc(1, sizeof(*r));
	char path[512];
	int err;

	if (!r)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%d/numa_maps", proc_root, (int)pid);
	r->numa = fopen(path, "re");
	if (!r->numa) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto out_free;
	}
	snprintf(path, sizeof(path), "%s/%d/maps", proc_root, (int)pid);
	r->maps = fopen(path, "re");
	if (!r->maps) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto out_close;
	}
	*ret = r;
	return 0;

out_close:
	fclose(r->numa);
out_free:
	free(r);
	return err;
}

/* Read the next maps line into the look-ahead; false at the end. */
static bool next_map(struct numa_maps_reader *r)
{
	char line[1024];
	unsigned long long lo, hi;
	char perms[8], name[24] = "";

	r->have_map = false;
	while (fgets(line, sizeof(line), r->maps)) {
		bool whole = strchr(line, '\n') != NULL;
		int n = sscanf(line, "%llx-%llx %7s %*s %*s %*s %23s", &lo, &hi, perms, name);

		if (n >= 3) {
			r->map_start = lo;
			r->map_end = hi;
			snprintf(r->map_perms, sizeof(r->map_perms), "%s", perms);
			/* "[vdso]", "[heap]": names of mappings without a file */
			snprintf(r->map_special, sizeof(r->map_special), "%s",
				 n == 4 && name[0] == '[' ? name : "");
			r->have_map = true;
		}
		/* skip the rest of an overlong line (a long file name) */
		while (!whole && fgets(line, sizeof(line), r->maps))
			whole = strchr(line, '\n') != NULL;
		if (r->have_map)
			return true;
	}
	return false;
}

int numa_maps_next(struct numa_maps_reader *r, struct numa_map_entry *e)
{
	ssize_t n = getline(&r->line, &r->cap, r->numa);
	int err;

	if (n < 0)
		return ferror(r->numa) ? -EIO : 0;
	err = numa_maps_parse_line(r->line, e);
	if (err)
		return err;
	/* both files list the mappings in address order; they may disagree when the process
	 * maps or unmaps in between, so skip maps lines below this start */
	while ((r->have_map || next_map(r)) && r->map_end <= e->start)
		r->have_map = false;
	if (r->have_map && r->map_start == e->start) {
		e->end = r->map_end;
		snprintf(e->perms, sizeof(e->perms), "%s", r->map_perms);
		snprintf(e->special, sizeof(e->special), "%s", r->map_special);
		r->have_map = false;
	}
	return 1;
}

void numa_maps_close(struct numa_maps_reader *r)
{
	if (!r)
		return;
	if (r->numa)
		fclose(r->numa);
	if (r->maps)
		fclose(r->maps);
	free(r->line);
	free(r);
}

int numa_maps_anon_off_node(const char *proc_root, pid_t pid, int node, uint64_t *ret)
{
	uint64_t base = (uint64_t)sysconf(_SC_PAGESIZE), sum = 0;
	struct numa_map_entry e;
	char path[512], *line = NULL;
	size_t cap = 0;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/numa_maps", proc_root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) >= 0) {
		uint64_t scale;

		err = numa_maps_parse_line(line, &e);
		if (err)
			break;
		if (e.path[0])
			continue;
		scale = e.page_size > base ? e.page_size / base : 1;
		for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			if (n != node)
				sum += e.node_pages[n] * scale;
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	if (!err)
		*ret = sum;
	return err;
}
