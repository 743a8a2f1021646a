/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * BPF-side helpers shared by the sampler programs: the maps every sampler object declares alike
 * (the loader creates each once and hands the same fd to every object with
 * bpf_map__reuse_fd(), so all objects see one filter and one topology) and the node lookup.
 */
#ifndef PAGEMIG_BPF_SAMPLER_COMMON_BPF_H
#define PAGEMIG_BPF_SAMPLER_COMMON_BPF_H

#include "sampler_records.h"

/*
 * Managed processes, a bitmap over tgids: bit tgid % 64 of word tgid / 64. Only their events are
 * sampled. An array rather than a hash: the filter runs on every page fault and context switch
 * of every process, and the verifier turns an array lookup into a few instructions, where a hash
 * lookup costs an unmanaged process's page fault a few percent (bench/sampler).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAGEMIG_SAMPLER_TGID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} managed SEC(".maps");

/*
 * CPU -> NUMA node, filled by user space from sysfs. A map rather than bpf_get_numa_node_id():
 * user space owns the topology it reasons about, and tests can remap CPUs to simulate several
 * nodes on a one-node machine (BPF_PROG_TEST_RUN runs a program on a chosen CPU).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAGEMIG_SAMPLER_DEF_CPUS);
	__type(key, __u32);
	__type(value, __u32);
} cpu_node SEC(".maps");

static __always_inline bool sampler_managed(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *bits = bpf_map_lookup_elem(&managed, &word);

	return bits && (*bits & (1ULL << (tgid % 64)));
}

/* Node of the CPU this program runs on; *unknown is set when the map has no answer. */
static __always_inline __u32 sampler_cpu_node(bool *unknown)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u32 *node = bpf_map_lookup_elem(&cpu_node, &cpu);

	if (!node || *node == PAGEMIG_SAMPLER_NODE_UNKNOWN) {
		*unknown = true;
		return PAGEMIG_SAMPLER_NODE_UNKNOWN;
	}
	*unknown = false;
	return *node;
}

#endif /* PAGEMIG_BPF_SAMPLER_COMMON_BPF_H */
