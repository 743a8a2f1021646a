/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Types shared by probe_smoke.bpf.c and its user-space loaders.
 *
 * probe_smoke proves the BPF build pipeline end to end: it counts the move_pages(2) calls, and the
 * pages they name, of the processes it is told to watch.
 */
#ifndef PAGEMIG_BPF_PROBE_SMOKE_H
#define PAGEMIG_BPF_PROBE_SMOKE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Capacity of the per-tgid map: calls from further processes are counted in bss->missed. */
#define PROBE_SMOKE_MAX_TGIDS 1024

/* Value of the calls map, keyed by the calling tgid (__u32). */
struct probe_smoke_count {
	__u64 calls; /* move_pages(2) calls entered */
	__u64 pages; /* sum of their nr_pages arguments */
};

#endif /* PAGEMIG_BPF_PROBE_SMOKE_H */
