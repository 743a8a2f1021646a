// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the sampler needs to know about the machine: the node of every CPU (for the cpu_node map
 * the BPF programs read) and the node of every memory block (to turn the frame numbers of
 * migration events into nodes). Read from sysfs under a root the caller chooses, so that unit
 * tests run on fixture trees.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler_internal.h"

/* Largest CPU, node and memory block number accepted: bounds the tables against odd input. */
#define MAX_CPUS   (1u << 16)
#define MAX_NODES  (1u << 10)
#define MAX_BLOCKS (1u << 24)

int pagemig_parse_list(const char *s, int (*fn)(unsigned int n, void *ctx), void *ctx)
{
	const char *p = s;

	while (*p && *p != '\n') {
		unsigned long a, b;
		char *end;
		int err;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		a = strtoul(p, &end, 10);
		if (errno || a > UINT_MAX)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
			if (errno || b > UINT_MAX || b < a)
				return -EINVAL;
			p = end;
		}
		for (unsigned long n = a; n <= b; n++) {
			err = fn((unsigned int)n, ctx);
			if (err)
				return err;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

/* Read a small sysfs file into buf (NUL-terminated). */
static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

static int max_cb(unsigned int n, void *ctx)
{
	unsigned int *max = ctx;

	if (n >= MAX_CPUS)
		return -ERANGE;
	if (n + 1 > *max)
		*max = n + 1;
	return 0;
}

struct cpu_set_ctx {
	struct pagemig_topo *t;
	int node;
	unsigned int count;
};

static int cpu_cb(unsigned int cpu, void *ctx)
{
	struct cpu_set_ctx *c = ctx;

	if (cpu < c->t->ncpus) {
		c->t->cpu_node[cpu] = c->node;
		c->count++;
	}
	return 0;
}

/* "node12" -> 12, "memory345" -> 345; -1 for anything else. */
static long numbered(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);
	char *end;
	long v;

	if (strncmp(name, prefix, len) || !isdigit((unsigned char)name[len]))
		return -1;
	errno = 0;
	v = strtol(name + len, &end, 10);
	return errno || *end ? -1 : v;
}

static int grow_blocks(struct pagemig_topo *t, size_t need)
{
	size_t n = t->nblocks ? t->nblocks : 64;
	int *nb;

	while (n < need)
		n *= 2;
	nb = realloc(t->block_node, n * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (size_t i = t->nblocks; i < n; i++)
		nb[i] = -1;
	t->block_node = nb;
	t->nblocks = n;
	return 0;
}

/* Every memoryN entry of one node directory. */
static int scan_node_memory(struct pagemig_topo *t, const char *dir, int node)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		long blk = numbered(de->d_name, "memory");

		if (blk < 0 || (unsigned long)blk >= MAX_BLOCKS)
			continue;
		if ((size_t)blk >= t->nblocks) {
			err = grow_blocks(t, (size_t)blk + 1);
			if (err)
				break;
		}
		t->block_node[blk] = node;
	}
	closedir(d);
	return err;
}

int pagemig_topo_load(const char *root, struct pagemig_topo *t)
{
	char path[PATH_MAX], buf[4096];
	struct dirent *de;
	DIR *d;
	int err;

	memset(t, 0, sizeof(*t));
	if (!root)
		root = "/sys";

	snprintf(path, sizeof(path), "%s/devices/system/cpu/possible", root);
	err = read_file(path, buf, sizeof(buf));
	if (!err)
		err = pagemig_parse_list(buf, max_cb, &t->ncpus);
	if (err)
		return err;
	if (!t->ncpus)
		return -EINVAL;
	t->cpu_node = malloc(t->ncpus * sizeof(*t->cpu_node));
	if (!t->cpu_node)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->ncpus; i++)
		t->cpu_node[i] = -1;

	snprintf(path, sizeof(path), "%s/devices/system/memory/block_size_bytes", root);
	if (!read_file(path, buf, sizeof(buf)))
		t->block_size = strtoull(buf, NULL, 16);

	snprintf(path, sizeof(path), "%s/devices/system/node", root);
	d = opendir(path);
	if (!d) {
		/* A kernel without NUMA: one node holding every CPU. */
		for (unsigned int i = 0; i < t->ncpus; i++)
			t->cpu_node[i] = 0;
		t->nnodes = 1;
		t->nodes_with_cpus = 1;
		return 0;
	}
	while ((de = readdir(d))) {
		long node = numbered(de->d_name, "node");
		struct cpu_set_ctx c = {.t = t, .node = (int)node};

		if (node < 0 || (unsigned long)node >= MAX_NODES)
			continue;
		if ((unsigned int)node + 1 > t->nnodes)
			t->nnodes = (unsigned int)node + 1;
		snprintf(path, sizeof(path), "%s/devices/system/node/%s/cpulist", root, de->d_name);
		if (!read_file(path, buf, sizeof(buf))) {
			err = pagemig_parse_list(buf, cpu_cb, &c);
			if (err)
				break;
			if (c.count)
				t->nodes_with_cpus++;
		}
		snprintf(path, sizeof(path), "%s/devices/system/node/%s", root, de->d_name);
		err = scan_node_memory(t, path, (int)node);
		if (err)
			break;
	}
	closedir(d);
	if (err) {
		pagemig_topo_free(t);
		return err;
	}
	if (!t->nnodes)
		t->nnodes = 1;
	return 0;
}

void pagemig_topo_free(struct pagemig_topo *t)
{
	free(t->cpu_node);
	free(t->block_node);
	memset(t, 0, sizeof(*t));
}

int pagemig_topo_pfn_node(const struct pagemig_topo *t, uint64_t pfn)
{
	uint64_t blk;

	if (!t->block_size || t->block_size < 4096)
		return -1;
	blk = pfn / (t->block_size / 4096);
	return blk < t->nblocks ? t->block_node[blk] : -1;
}
