// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon/privdrop.c on the running kernel: as root, a child keeps exactly the capabilities the
 * daemon still needs, loses the others from every set (bounding set included), gets
 * no_new_privs, and really cannot use a dropped capability any more. Skips (77) without root.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "privdrop.h"
#include "sampler.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#define BIT(c) (UINT64_C(1) << (c))

/* privdrop_after_setup() asks the sampler which sources run: a stand-in with softdirty active. */
static struct pagemig_source_status fake_sources[PAGEMIG_SOURCE__COUNT];

const struct pagemig_source_status *pagemig_sampler_sources(const struct pagemig_sampler *s)
{
	(void)s;
	return fake_sources;
}

/* A field of /proc/self/status as a hex mask ("CapEff:") or decimal ("NoNewPrivs:"). */
static uint64_t status_field(const char *name, int base)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t v = UINT64_MAX;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)))
			v = strtoull(line + strlen(name), NULL, base);
	if (f)
		fclose(f);
	return v;
}

static void test_keep_mask(void)
{
	uint64_t base = BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_NICE) | BIT(CAP_DAC_READ_SEARCH);

	CHECK(privdrop_keep_mask(&(struct privdrop_needs){0}) == base);
	CHECK(privdrop_keep_mask(&(struct privdrop_needs){.bpf = true}) == (base | BIT(CAP_BPF)));
	CHECK(privdrop_keep_mask(&(struct privdrop_needs){.soft_dirty = true}) ==
	      (base | BIT(CAP_DAC_OVERRIDE)));
	CHECK(privdrop_keep_mask(&(struct privdrop_needs){.sys_admin = true}) ==
	      (base | BIT(CAP_SYS_ADMIN)));
}

static void test_names(void)
{
	char buf[16];

	CHECK(!strcmp(privdrop_cap_name(CAP_SYS_PTRACE, buf, sizeof(buf)), "cap_sys_ptrace"));
	CHECK(!strcmp(privdrop_cap_name(CAP_BPF, buf, sizeof(buf)), "cap_bpf"));
	CHECK(!strcmp(privdrop_cap_name(60, buf, sizeof(buf)), "cap_60"));
}

/* Run fn in a child (the drop cannot be undone) and check its exit status. */
static void in_child(int (*fn)(void), const char *what)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int r = fn();

		fflush(stdout);
		_exit(r);
	}
	CHECK(pid > 0);
	if (pid < 0)
		return;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: child failed (status 0x%x)\n", what, st);
		check_failures++;
	}
}

static int child_apply(void)
{
	uint64_t keep = BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_NICE) | BIT(CAP_DAC_READ_SEARCH);
	uint64_t prm0 = status_field("CapPrm:", 16), bnd0 = status_field("CapBnd:", 16);
	char msg[512], path[] = "/tmp/pagemig-privdrop-XXXXXX";
	int fd, bad = 0, err;

	err = privdrop_apply(keep, msg, sizeof(msg));
	printf("privdrop_apply: %d: %s\n", err, msg);
	bad |= err != 0;
	bad |= status_field("CapEff:", 16) != (prm0 & keep);
	bad |= status_field("CapPrm:", 16) != (prm0 & keep);
	bad |= status_field("CapInh:", 16) != 0;
	bad |= status_field("CapAmb:", 16) != 0 && status_field("CapAmb:", 16) != UINT64_MAX;
	bad |= status_field("NoNewPrivs:", 10) != 1;
	if (prm0 & BIT(CAP_SETPCAP))
		bad |= status_field("CapBnd:", 16) != (bnd0 & keep);
	printf("CapEff %llx CapBnd %llx NoNewPrivs %llu\n",
	       (unsigned long long)status_field("CapEff:", 16),
	       (unsigned long long)status_field("CapBnd:", 16),
	       (unsigned long long)status_field("NoNewPrivs:", 10));

	/* CAP_CHOWN is gone: giving a file away fails now */
	fd = mkstemp(path);
	if (fd >= 0) {
		if (fchown(fd, 65534, 65534) == 0) {
			fprintf(stderr, "fchown to nobody still works after the drop\n");
			bad = 1;
		}
		close(fd);
		unlink(path);
	}
	/* nothing is regained by a second call, which finds nothing to do */
	err = privdrop_apply(keep, msg, sizeof(msg));
	printf("again: %d: %s\n", err, msg);
	bad |= err != 0 || !strstr(msg, "already");
	return bad;
}

static int child_after_setup_by_hand(void)
{
	uint64_t prm0 = status_field("CapPrm:", 16);
	uint64_t want = BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_NICE) | BIT(CAP_DAC_READ_SEARCH) |
			BIT(CAP_BPF) | BIT(CAP_DAC_OVERRIDE);
	char msg[512];
	int err;

	/* started by hand: CAP_SYS_ADMIN goes; a sampler with softdirty keeps BPF, DAC_OVERRIDE */
	unsetenv("INVOCATION_ID");
	fake_sources[PAGEMIG_SOURCE_SOFTDIRTY].state = PAGEMIG_SOURCE_ACTIVE;
	err = privdrop_after_setup((const struct pagemig_sampler *)fake_sources, msg, sizeof(msg));
	printf("privdrop_after_setup: %d: %s\n", err, msg);
	return err != 0 || status_field("CapEff:", 16) != (prm0 & want);
}

static int child_after_setup_systemd_no_sampler(void)
{
	uint64_t prm0 = status_field("CapPrm:", 16);
	uint64_t want = BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_NICE) | BIT(CAP_DAC_READ_SEARCH) |
			BIT(CAP_SYS_ADMIN);
	char msg[512];
	int err;

	/* under systemd a CAP_SYS_ADMIN the unit grants stays; no sampler: CAP_BPF goes */
	setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
	err = privdrop_after_setup(NULL, msg, sizeof(msg));
	printf("privdrop_after_setup (systemd, no sampler): %d: %s\n", err, msg);
	return err != 0 || status_field("CapEff:", 16) != (prm0 & want);
}

static void test_drop_as_root(void)
{
	in_child(child_apply, "privdrop_apply");
	in_child(child_after_setup_by_hand, "privdrop_after_setup by hand");
	in_child(child_after_setup_systemd_no_sampler, "privdrop_after_setup under systemd");
}

int main(void)
{
	static const struct check_test pure[] = {
		{"keep_mask", test_keep_mask},
		{"names", test_names},
	};
	static const struct check_test root[] = {
		{"keep_mask", test_keep_mask},
		{"names", test_names},
		{"drop_as_root", test_drop_as_root},
	};

	if (geteuid() != 0 || !(status_field("CapEff:", 16) & BIT(CAP_SETPCAP))) {
		int r = check_run(pure, sizeof(pure) / sizeof(pure[0]));

		if (r)
			return r;
		SKIP_ALL("dropping capabilities needs root with CAP_SETPCAP");
	}
	return check_run(root, sizeof(root) / sizeof(root[0]));
}
