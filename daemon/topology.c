// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The machine's topology: hwloc for the structure (nodes, their CPUs, memory-only nodes, memory
 * tiers where hwloc reports them), libnuma for distances and free memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <hwloc.h>
#include <numa.h>
#include <string.h>

#include "topology.h"

/* hwloc >= 2.10 names a node's memory tier in its info attributes; 2.9 (Debian 12) does not,
 * and then memory-only nodes count as the far tier. */
static int node_tier(hwloc_obj_t obj, bool memory_only)
{
	const char *tier = hwloc_obj_get_info_by_name(obj, "MemoryTier");

	if (tier && *tier >= '0' && *tier <= '9')
		return (int)strtol(tier, NULL, 10);
	return memory_only ? 1 : 0;
}

static int load_nodes(struct pagemig_topology *topo)
{
	hwloc_topology_t t;
	hwloc_obj_t obj = NULL;

	if (hwloc_topology_init(&t) < 0)
		return -ENOMEM;
	if (hwloc_topology_load(t) < 0) {
		hwloc_topology_destroy(t);
		return -EIO;
	}
	while ((obj = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, obj))) {
		unsigned int id = obj->os_index;
		struct pagemig_topo_node *n;

		if (id >= PAGEMIG_TOPO_MAX_NODES)
			continue;
		n = &topo->node[id];
		n->present = true;
		n->mem_total = obj->attr->numanode.local_memory;
		n->has_memory = n->mem_total > 0;
		n->ncpus = obj->cpuset ? (unsigned int)hwloc_bitmap_weight(obj->cpuset) : 0;
		if (obj->cpuset && n->ncpus)
			hwloc_bitmap_list_snprintf(n->cpulist, sizeof(n->cpulist), obj->cpuset);
		n->memory_only = n->has_memory && n->ncpus == 0;
		n->tier = node_tier(obj, n->memory_only);
	}
	hwloc_topology_destroy(t);
	return 0;
}

int pagemig_topology_load(struct pagemig_topology *topo)
{
	int err, ncpus;

	memset(topo, 0, sizeof(*topo));
	if (numa_available() < 0) {
		/* no NUMA in the kernel: one node with every CPU */
		topo->node[0] = (struct pagemig_topo_node){.present = true, .has_memory = true};
	} else {
		err = load_nodes(topo);
		if (err)
			return err;
	}
	for (int a = 0; a < PAGEMIG_TOPO_MAX_NODES; a++) {
		if (!topo->node[a].present)
			continue;
		topo->nr_nodes++;
		topo->nr_memory += topo->node[a].has_memory;
		topo->max_node = a;
		for (int b = 0; b < PAGEMIG_TOPO_MAX_NODES; b++)
			if (topo->node[b].present)
				topo->distance[a][b] = (uint8_t)(numa_available() < 0 ? 10
									: numa_distance(a, b));
	}
	ncpus = numa_available() < 0 ? 1 : numa_num_configured_cpus();
	if (ncpus > (int)(sizeof(topo->cpu_node) / sizeof(topo->cpu_node[0])))
		ncpus = (int)(sizeof(topo->cpu_node) / sizeof(topo->cpu_node[0]));
	topo->nr_cpus = (unsigned int)ncpus;
	for (int c = 0; c < ncpus; c++)
		topo->cpu_node[c] = numa_available() < 0 ? 0 : numa_node_of_cpu(c);
	topo->generation = 1;
	return pagemig_topology_refresh_free(topo);
}

int pagemig_topology_refresh_free(struct pagemig_topology *topo)
{
	if (numa_available() < 0)
		return 0;
	for (int n = 0; n <= topo->max_node; n++) {
		long long free_b = 0, total;

		if (!topo->node[n].present || !topo->node[n].has_memory)
			continue;
		total = numa_node_size64(n, &free_b);
		if (total < 0)
			return -EIO;
		topo->node[n].mem_free = (uint64_t)free_b;
		if (!topo->node[n].mem_total)
			topo->node[n].mem_total = (uint64_t)total;
	}
	return 0;
}

uint64_t pagemig_topology_memory_mask(const struct pagemig_topology *topo)
{
	uint64_t mask = 0;

	for (int n = 0; n <= topo->max_node; n++)
		if (topo->node[n].present && topo->node[n].has_memory)
			mask |= UINT64_C(1) << n;
	return mask;
}
