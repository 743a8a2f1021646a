/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The machine's NUMA topology as pagemigd sees it: nodes with their CPUs and memory, which are
 * memory-only (far, CXL-like tiers), distances, and free memory. Read with hwloc and libnuma by
 * topology.c; a plain value so the policy engine and tests can build one by hand.
 */
#ifndef PAGEMIG_DAEMON_TOPOLOGY_H
#define PAGEMIG_DAEMON_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

/* Node ids pagemigd handles: 0 .. PAGEMIG_TOPO_MAX_NODES - 1. */
#define PAGEMIG_TOPO_MAX_NODES 64

struct pagemig_topo_node {
	bool present;	    /* the node exists */
	bool has_memory;    /* it has memory (N_MEMORY) */
	bool memory_only;   /* memory and no CPU: a far tier */
	int tier;	    /* 0 = nearest; memory tier rank where hwloc reports one, otherwise 0 for
			       nodes with CPUs and 1 for memory-only nodes */
	unsigned int ncpus; /* CPUs on the node */
	char cpulist[128];  /* "0-3,8" */
	uint64_t mem_total; /* bytes */
	uint64_t mem_free;  /* bytes, at the last refresh */
};

struct pagemig_topology {
	int nr_nodes;	  /* nodes present */
	int nr_memory;	  /* nodes with memory */
	int max_node;	  /* highest present node id */
	struct pagemig_topo_node node[PAGEMIG_TOPO_MAX_NODES];
	uint8_t distance[PAGEMIG_TOPO_MAX_NODES][PAGEMIG_TOPO_MAX_NODES]; /* SLIT, 10 = local */
	int cpu_node[1024];	 /* node of each CPU id, -1 if none */
	unsigned int nr_cpus;	 /* CPU ids known (cpu_node entries in use) */
	uint64_t generation;	 /* bumped by every refresh that changed anything */
};

/* Read the topology of the running machine (hwloc for structure and tiers, libnuma for free
 * memory). Returns 0 or -errno; logs nothing. */
int pagemig_topology_load(struct pagemig_topology *topo);

/* Refresh free memory per node (cheap; every interval). Returns 0 or -errno. */
int pagemig_topology_refresh_free(struct pagemig_topology *topo);

/* Nodes with memory as a bit mask. */
uint64_t pagemig_topology_memory_mask(const struct pagemig_topology *topo);

#endif
