/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process's mappings and where their resident pages are, per node, from /proc/PID/numa_maps
 * joined with /proc/PID/maps (for each mapping's end and permissions). What `pagemigctl proc
 * PID` shows. The parser is pure; the reader takes a proc root so tests use fixtures.
 *
 * numa_maps lines look like
 *   7f0d3c000000 default anon=512 dirty=512 N0=500 N1=12 kernelpagesize_kB=4
 *   55d4c5a6b000 bind:1 file=/usr/bin/cat mapped=2 N1=2 kernelpagesize_kB=4
 *   7ffd1c3e3000 default stack anon=3 dirty=3 N0=3 kernelpagesize_kB=4
 * and the N<node> counts are in pages of kernelpagesize_kB (huge pages for hugetlb mappings).
 */
#ifndef PAGEMIG_DAEMON_NUMA_MAPS_H
#define PAGEMIG_DAEMON_NUMA_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "topology.h"

struct numa_map_entry {
	uint64_t start;
	uint64_t end;	  /* from maps; 0 when the two files disagreed about this mapping */
	char perms[8];	  /* "rw-p"; "" when unknown */
	char special[24]; /* maps' name of a mapping without a file: "[vdso]", "[heap]", ...; "" */
	char policy[64];  /* "default", "bind:0-1", "prefer:1", "interleave:0-3", ... */
	char path[512];	  /* file= value as the kernel printed it (escapes kept); "" for none */
	bool heap, stack; /* the initial heap / stack */
	bool huge;	  /* hugetlb mapping: node counts are huge pages */
	uint64_t anon, dirty, mapped, mapmax, swapcache, active, writeback;
	uint64_t page_size; /* bytes of the pages counted (kernelpagesize_kB); 0 when not shown */
	uint64_t pages;	    /* resident pages: sum over nodes */
	uint64_t node_pages[PAGEMIG_TOPO_MAX_NODES];
};

/* Parse one numa_maps line (with or without its newline). Returns 0, or -EINVAL when the line
 * does not start with an address and a policy, or a node is >= PAGEMIG_TOPO_MAX_NODES. */
int numa_maps_parse_line(const char *line, struct numa_map_entry *ret);

struct numa_maps_reader;

/* Open proc_root/PID/numa_maps and maps. Returns 0, -ESRCH (no such process), -EACCES, or
 * -errno. */
int numa_maps_open(const char *proc_root, pid_t pid, struct numa_maps_reader **ret);

/* The next mapping: 1 and *ret, 0 at the end, or -errno (-EINVAL for a line that does not
 * parse). */
int numa_maps_next(struct numa_maps_reader *r, struct numa_map_entry *ret);

/* NULL is fine. */
void numa_maps_close(struct numa_maps_reader *r);

/*
 * Resident pages of pid's mappings without a file (anonymous memory, heap, stack) on nodes other
 * than node, in base pages, from numa_maps alone: what of its own memory could be moved to node.
 * Mappings of files are left out: their pages are page cache, shared with whoever reads the file.
 * Returns 0 and *ret, -ESRCH (no such process), -EACCES, -EINVAL (a line that does not parse),
 * or -errno.
 */
int numa_maps_anon_off_node(const char *proc_root, pid_t pid, int node, uint64_t *ret);

#endif
