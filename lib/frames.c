// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which node a page frame belongs to, from the kernel's memory blocks.
 *
 * Every /sys/devices/system/node/nodeN/memoryM link says that memory block M (block_size_bytes of
 * physical memory from M * block_size_bytes) has pages on node N. Together with the frame numbers
 * /proc/PID/pagemap shows to CAP_SYS_ADMIN, that tells where a run of pages is with one read of
 * 8 bytes per page, where a move_pages(2) query looks up every address on its own (about 6x the
 * time in the NUMA lab). The engine uses it to confirm the pages its move calls reported on
 * target; anything it cannot confirm is asked about with a query as before.
 *
 * The map is built once per process and shared by all operations (its readers take a reference).
 * It is rebuilt when a frame falls outside every block it knows (memory was added). A block linked
 * under two nodes (a node boundary inside it) answers nothing: its pages go to the query.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NODE_DIR "/sys/devices/system/node"
#define BLOCK_SIZE_FILE "/sys/devices/system/memory/block_size_bytes"
#define AMBIGUOUS (-1)

/* Consecutive memory blocks on one node. */
struct frame_span {
	uint64_t first_pfn;
	uint64_t end_pfn; /* exclusive */
	int node;	  /* or AMBIGUOUS */
};

struct pagemig_frame_map {
	unsigned int refs;
	size_t nspans;
	struct frame_span spans[];
};

struct block_link {
	uint64_t block;
	int node;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pagemig_frame_map *current_map;

static int read_block_pages(uint64_t *pages)
{
	char buf[64];
	unsigned long long bytes;
	ssize_t n;
	int fd;

	fd = open(BLOCK_SIZE_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* no memory hotplug support: no blocks to go by */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (sscanf(buf, "%llx", &bytes) != 1 || bytes < pagemig__page_size() ||
	    bytes % pagemig__page_size())
		return -EIO;
	*pages = bytes / pagemig__page_size();
	return 0;
}

static int append_link(struct block_link **links, size_t *n, size_t *cap, uint64_t block, int node)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct block_link *p = realloc(*links, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*links = p;
		*cap = ncap;
	}
	(*links)[(*n)++] = (struct block_link){block, node};
	return 0;
}

/* Add the memoryM links of one node directory. */
static int read_node_blocks(int node, struct block_link **links, size_t *n, size_t *cap)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), NODE_DIR "/node%d", node);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno; /* went offline meanwhile */
	while (!err && (de = readdir(dir))) {
		unsigned long long block;
		char *end;

		if (strncmp(de->d_name, "memory", 6) || de->d_name[6] < '0' || de->d_name[6] > '9')
			continue;
		block = strtoull(de->d_name + 6, &end, 10);
		if (*end)
			continue; /* memory_failure, memory_side_cache, ... */
		err = append_link(links, n, cap, block, node);
	}
	closedir(dir);
	return err;
}

static int cmp_link(const void *a, const void *b)
{
	const struct block_link *x = a, *y = b;

	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

/* Sorted links to spans: one block under two nodes is ambiguous; neighbours on one node merge. */
static struct pagemig_frame_map *links_to_map(struct block_link *links, size_t n,
					       uint64_t block_pages)
{
	struct pagemig_frame_map *m = malloc(sizeof(*m) + n * sizeof(m->spans[0]));
	size_t i = 0;

	if (!m)
		return NULL;
	m->refs = 1;
	m->nspans = 0;
	while (i < n) {
		uint64_t block = links[i].block;
		int node = links[i].node;
		struct frame_span *last = m->nspans ? &m->spans[m->nspans - 1] : NULL;

		for (i++; i < n && links[i].block == block; i++)
			if (links[i].node != node)
				node = AMBIGUOUS;
		if (last && last->node == node && last->end_pfn == block * block_pages) {
			last->end_pfn += block_pages;
			continue;
		}
		m->spans[m->nspans++] = (struct frame_span){block * block_pages,
							    (block + 1) * block_pages, node};
	}
	return m;
}

static int build_map(struct pagemig_frame_map **out)
{
	_cleanup_free_ struct block_link *links = NULL;
	size_t n = 0, cap = 0;
	uint64_t block_pages = 0;
	struct dirent *de;
	DIR *dir;
	int err;

	err = read_block_pages(&block_pages);
	if (err)
		return err;
	dir = opendir(NODE_DIR);
	if (!dir)
		return -errno;
	err = 0;
	while (!err && (de = readdir(dir))) {
		char *end;
		long node;

		if (strncmp(de->d_name, "node", 4) || de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		node = strtol(de->d_name + 4, &end, 10);
		if (*end || node > PAGEMIG_MAX_NODE)
			continue;
		err = read_node_blocks((int)node, &links, &n, &cap);
	}
	closedir(dir);
	if (err)
		return err;
	if (!n)
		return -ENOENT;
	qsort(links, n, sizeof(*links), cmp_link);
	*out = links_to_map(links, n, block_pages);
	return *out ? 0 : -ENOMEM;
}

int pagemig__frame_map_get(struct pagemig_frame_map **out, const struct pagemig_frame_map *stale)
{
	struct pagemig_frame_map *fresh = NULL, *old = NULL;
	int err = 0;

	pthread_mutex_lock(&map_lock);
	if (!current_map || (stale && current_map == stale)) {
		err = build_map(&fresh);
		if (!err) {
			old = current_map;
			current_map = fresh;
		}
	}
	*out = NULL;
	if (!err) {
		__atomic_add_fetch(&current_map->refs, 1, __ATOMIC_RELAXED);
		*out = current_map;
	}
	pthread_mutex_unlock(&map_lock);
	pagemig__frame_map_put(old);
	return err;
}

void pagemig__frame_map_put(struct pagemig_frame_map *m)
{
	if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(m);
}

int pagemig__frame_node(const struct pagemig_frame_map *m, uint64_t pfn, size_t *hint)
{
	size_t lo = 0, hi = m->nspans;

	if (*hint < m->nspans && pfn >= m->spans[*hint].first_pfn &&
	    pfn < m->spans[*hint].end_pfn)
		return m->spans[*hint].node;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pfn < m->spans[mid].first_pfn)
			hi = mid;
		else if (pfn >= m->spans[mid].end_pfn)
			lo = mid + 1;
		else {
			*hint = mid;
			return m->spans[mid].node;
		}
	}
	return -ENOENT;
}

int pagemig__frame_ref_node(struct pagemig_frame_ref *ref, uint64_t pfn)
{
	int node = pagemig__frame_node(ref->map, pfn, &ref->hint);
	struct pagemig_frame_map *fresh;

	if (node != -ENOENT || ref->refreshed)
		return node;
	ref->refreshed = true;
	if (pagemig__frame_map_get(&fresh, ref->map))
		return node;
	pagemig__frame_map_put(ref->map);
	ref->map = fresh;
	ref->hint = 0;
	return pagemig__frame_node(ref->map, pfn, &ref->hint);
}

/* For unit tests: a map from (first block, blocks, node) triples, with block_pages pages each. */
struct pagemig_frame_map *pagemig__frame_map_from(const uint64_t (*blocks)[3], size_t n,
						   uint64_t block_pages)
{
	_cleanup_free_ struct block_link *links = NULL;
	size_t nl = 0, cap = 0;

	for (size_t i = 0; i < n; i++)
		for (uint64_t b = 0; b < blocks[i][1]; b++)
			if (append_link(&links, &nl, &cap, blocks[i][0] + b, (int)blocks[i][2]))
				return NULL;
	if (nl)
		qsort(links, nl, sizeof(*links), cmp_link);
	return links_to_map(links, nl, block_pages);
}
