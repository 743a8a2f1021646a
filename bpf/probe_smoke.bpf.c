// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * probe_smoke: count move_pages(2) calls per calling process.
 *
 * The smallest program that exercises everything later programs rely on: CO-RE build against
 * vmlinux.h, a read-only tunable set before load, a hash map and .bss counters read from user
 * space, and a classic tracepoint that exists on every kernel we support (6.1, 6.12, 6.18).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "probe_smoke.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load. 0 counts every process. */
const volatile __u32 target_tgid = 0;
/* The loader's __NR_move_pages: a call whose context says otherwise means the layout below is
 * wrong for this kernel, and is counted in bad_ctx instead. */
const volatile __s32 move_pages_nr = -1;

__u64 missed = 0;  /* calls not counted because the map was full */
__u64 bad_ctx = 0; /* contexts whose __syscall_nr was not move_pages_nr */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROBE_SMOKE_MAX_TGIDS);
	__type(key, __u32);
	__type(value, struct probe_smoke_count);
} calls SEC(".maps");

/*
 * Context of syscalls:sys_enter_* tracepoints, from events/syscalls/sys_enter_move_pages/format:
 * 8 bytes of common fields, int __syscall_nr at 8, then every argument in 8 bytes from offset 16.
 * That format is the tracepoint's ABI (BTF has no type for it) and is the same on 6.1 to 6.18,
 * so this program uses its own definition rather than a vmlinux.h type.
 */
struct sys_enter_move_pages_ctx {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 pid;
	__u64 nr_pages;
	__u64 pages;
	__u64 nodes;
	__u64 status;
	__u64 flags;
};

SEC("tracepoint/syscalls/sys_enter_move_pages")
int count_move_pages(struct sys_enter_move_pages_ctx *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct probe_smoke_count zero = {}, *cnt;

	if (target_tgid && tgid != target_tgid)
		return 0;
	if (ctx->syscall_nr != move_pages_nr) {
		__sync_fetch_and_add(&bad_ctx, 1);
		return 0;
	}

	cnt = bpf_map_lookup_elem(&calls, &tgid);
	if (!cnt) {
		/* EEXIST: another thread of tgid inserted it first; the lookup below finds it. */
		bpf_map_update_elem(&calls, &tgid, &zero, BPF_NOEXIST);
		cnt = bpf_map_lookup_elem(&calls, &tgid);
		if (!cnt) {
			__sync_fetch_and_add(&missed, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&cnt->calls, 1);
	__sync_fetch_and_add(&cnt->pages, ctx->nr_pages);
	return 0;
}
