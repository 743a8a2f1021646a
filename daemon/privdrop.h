/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dropping privileges once pagemigd is set up.
 *
 * Started by hand as root, pagemigd holds every capability; under systemd it holds the bounding
 * set of its unit (systemd/pagemigd.service.in). Once the sampler is loaded and attached and the
 * control socket is bound, it needs much less:
 *
 *   CAP_SYS_PTRACE      always: move_pages(2) on other processes, /proc/PID/{maps,pagemap,exe}
 *   CAP_SYS_NICE        always: MPOL_MF_MOVE_ALL, which a reload may switch on (move_shared)
 *   CAP_DAC_READ_SEARCH always: /proc/PID/pagemap of other users (manual range moves)
 *   CAP_BPF             while the sampler is loaded: map reads at every drain (bpf(2) needs it
 *                       when kernel.unprivileged_bpf_disabled is set, Debian's default)
 *   CAP_DAC_OVERRIDE    while the softdirty source is active: /proc/PID/clear_refs writes
 *   CAP_SYS_ADMIN       only under systemd and only when the unit grants it (an operator's
 *                       drop-in, for huge-folio detection through PFNs); dropped otherwise
 *
 * Everything else goes from the effective, permitted, inheritable and ambient sets, and, when
 * the process may (CAP_SETPCAP, i.e. started by hand as root), from the bounding set; no_new_privs
 * is set. CAP_PERFMON, CAP_SYS_RESOURCE, CAP_CHOWN and the rest are only needed at start-up.
 * The uid stays 0: the socket and /run/pagemig stay root's. Under systemd ProtectSystem=strict
 * keeps the file system read-only whatever the uid; see pagemigd(8), SECURITY.
 *
 * No libcap: capget(2)/capset(2) and prctl(2) directly.
 */
#ifndef PAGEMIG_DAEMON_PRIVDROP_H
#define PAGEMIG_DAEMON_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the running daemon still does. */
struct privdrop_needs {
	bool bpf;	 /* the sampler is loaded (its maps are read at every drain) */
	bool soft_dirty; /* the softdirty source is active (clear_refs writes) */
	bool sys_admin;	 /* keep CAP_SYS_ADMIN if held (huge-folio detection) */
};

/* The capabilities to keep, as a mask of bits (1 << CAP_*). */
uint64_t privdrop_keep_mask(const struct privdrop_needs *needs);

/*
 * Keep only the capabilities in keep (and only those already held): effective = permitted =
 * held & keep, inheritable and ambient cleared, the bounding set reduced to keep when CAP_SETPCAP
 * is held, no_new_privs set. Does nothing (returns 0) when nothing beyond keep is held.
 * Returns 0 or -errno; on failure the sets may be partly reduced, never widened.
 * summary (may be NULL) gets one line for the log: "kept cap_sys_ptrace,...; dropped 33".
 */
int privdrop_apply(uint64_t keep, char *summary, size_t len);

/*
 * pagemigd's call after its setup: needs from the sampler's sources (sampler may be NULL: no
 * BPF), CAP_SYS_ADMIN kept only when running under systemd (the unit decides). Returns as
 * privdrop_apply().
 */
struct pagemig_sampler;
int privdrop_after_setup(const struct pagemig_sampler *sampler, char *summary, size_t len);

/* The capabilities held now: effective (ret_eff) and bounding (ret_bnd) masks; either may be
 * NULL. Returns 0 or -errno. */
int privdrop_current(uint64_t *ret_eff, uint64_t *ret_bnd);

/* "cap_sys_ptrace" for a capability number; "cap_N" for numbers without a name here. */
const char *privdrop_cap_name(int cap, char *buf, size_t len);

#endif /* PAGEMIG_DAEMON_PRIVDROP_H */
