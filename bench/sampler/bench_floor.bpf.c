// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The benchmark's control: an empty program on the tracepoint the fault source uses. What it
 * costs a page fault is the floor of any BPF sampling of faults on this machine (tracepoint
 * dispatch, indirect calls with the CPU's mitigations), which the sampler cannot go below.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("raw_tp/page_fault_user")
int floor_fault(void *ctx)
{
	return 0;
}
