// SPDX-License-Identifier: LGPL-2.1-or-later
/* Dropping privileges once pagemigd is set up; see privdrop.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"
#include "sampler.h"

/* Older uapi headers lack the two newest ones; the numbers are fixed. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define CAP_BIT(c) (UINT64_C(1) << (c))

static const char *const cap_names[] = {
	"cap_chown",
	"cap_dac_override",
	"cap_dac_read_search",
	"cap_fowner",
	"cap_fsetid",
	"cap_kill",
	"cap_setgid",
	"cap_setuid",
	"cap_setpcap",
	"cap_linux_immutable",
	"cap_net_bind_service",
	"cap_net_broadcast",
	"cap_net_admin",
	"cap_net_raw",
	"cap_ipc_lock",
	"cap_ipc_owner",
	"cap_sys_module",
	"cap_sys_rawio",
	"cap_sys_chroot",
	"cap_sys_ptrace",
	"cap_sys_pacct",
	"cap_sys_admin",
	"cap_sys_boot",
	"cap_sys_nice",
	"cap_sys_resource",
	"cap_sys_time",
	"cap_sys_tty_config",
	"cap_mknod",
	"cap_lease",
	"cap_audit_write",
	"cap_audit_control",
	"cap_setfcap",
	"cap_mac_override",
	"cap_mac_admin",
	"cap_syslog",
	"cap_wake_alarm",
	"cap_block_suspend",
	"cap_audit_read",
	"cap_perfmon",
	"cap_bpf",
	"cap_checkpoint_restore",
};

const char *privdrop_cap_name(int cap, char *buf, size_t len)
{
	if (cap >= 0 && (size_t)cap < sizeof(cap_names) / sizeof(cap_names[0]))
		return cap_names[cap];
	snprintf(buf, len, "cap_%d", cap);
	return buf;
}

/* The highest capability this kernel knows (40 on 5.9+). */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = 40;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = 40;
		fclose(f);
	}
	return last;
}

static int get_sets(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (eff)
		*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	if (prm)
		*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	if (inh)
		*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int set_sets(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
		{.effective = (uint32_t)eff,
		 .permitted = (uint32_t)prm,
		 .inheritable = (uint32_t)inh},
		{.effective = (uint32_t)(eff >> 32),
		 .permitted = (uint32_t)(prm >> 32),
		 .inheritable = (uint32_t)(inh >> 32)},
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static uint64_t bounding_set(int last)
{
	uint64_t bnd = 0;

	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			bnd |= CAP_BIT(c);
	return bnd;
}

int privdrop_current(uint64_t *ret_eff, uint64_t *ret_bnd)
{
	int err = get_sets(ret_eff, NULL, NULL);

	if (!err && ret_bnd)
		*ret_bnd = bounding_set(last_cap());
	return err;
}

uint64_t privdrop_keep_mask(const struct privdrop_needs *needs)
{
	uint64_t keep =
		CAP_BIT(CAP_SYS_PTRACE) | CAP_BIT(CAP_SYS_NICE) | CAP_BIT(CAP_DAC_READ_SEARCH);

	if (needs->bpf)
		keep |= CAP_BIT(CAP_BPF);
	if (needs->soft_dirty)
		keep |= CAP_BIT(CAP_DAC_OVERRIDE);
	if (needs->sys_admin)
		keep |= CAP_BIT(CAP_SYS_ADMIN);
	return keep;
}

/* "a,b,c" of the capabilities in mask, cut short with "..." when it does not fit. */
static void names(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;
	char tmp[16];

	buf[0] = 0;
	for (int c = 0; c < 64 && used < len; c++) {
		if (!(mask & CAP_BIT(c)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
				 privdrop_cap_name(c, tmp, sizeof(tmp)));
		if (n < 0 || (size_t)n >= len - used) {
			if (len > 4)
				snprintf(buf + (used < len - 4 ? used : len - 4), 4, "...");
			return;
		}
		used += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

int privdrop_apply(uint64_t keep, char *summary, size_t len)
{
	uint64_t eff, prm, inh, bnd, drop_bnd, now;
	int last = last_cap(), err;
	char kept[256], dropped[512];

	err = get_sets(&eff, &prm, &inh);
	if (err)
		return err;
	bnd = bounding_set(last);
	/* exec may not gain anything from now on (pagemigd never execs; this is for safety) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (!((prm | inh) & ~keep)) {
		if (summary) {
			names(prm, kept, sizeof(kept));
			snprintf(summary, len, "holding only %s already", kept);
		}
		return 0;
	}

	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	drop_bnd = 0;
	if (prm & eff & CAP_BIT(CAP_SETPCAP)) {
		for (int c = 0; c <= last; c++) {
			if (!(bnd & CAP_BIT(c)) || (keep & CAP_BIT(c)))
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				return -errno;
			drop_bnd |= CAP_BIT(c);
		}
	}
	/* ambient capabilities would survive an exec; kernels before 4.3 have none (EINVAL) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	now = prm & keep;
	err = set_sets(now, now, 0);
	if (err)
		return err;

	if (summary) {
		uint64_t gone = (prm | inh) & ~keep;
		int n = __builtin_popcountll(gone);

		names(now, kept, sizeof(kept));
		if (n <= 6)
			names(gone, dropped, sizeof(dropped));
		else
			snprintf(dropped, sizeof(dropped), "%d others", n);
		snprintf(summary, len, "kept %s; dropped %s%s", kept, dropped,
			 drop_bnd ? ", from the bounding set too" : "");
	}
	return 0;
}

int privdrop_after_setup(const struct pagemig_sampler *sampler, char *summary, size_t len)
{
	struct privdrop_needs needs = {.bpf = sampler != NULL};

	if (sampler) {
		const struct pagemig_source_status *src = pagemig_sampler_sources(sampler);

		needs.soft_dirty = src[PAGEMIG_SOURCE_SOFTDIRTY].state == PAGEMIG_SOURCE_ACTIVE;
	}
	/* Under systemd the unit's bounding set is the operator's decision: CAP_SYS_ADMIN is there
	 * only when a drop-in added it. Started by hand, root holds it by default: drop it. */
	needs.sys_admin = getenv("INVOCATION_ID") != NULL;
	return privdrop_apply(privdrop_keep_mask(&needs), summary, len);
}
