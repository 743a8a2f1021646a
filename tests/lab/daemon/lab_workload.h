/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lab's daemon tests drive pagemig-workload (workload.c) the same way: start it, read where
 * its hot and cold sets are, count their pages per node, stop it and learn whether its data
 * stayed intact.
 */
#ifndef PAGEMIG_LAB_WORKLOAD_H
#define PAGEMIG_LAB_WORKLOAD_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

#define LAB_WORKLOAD_BIN "/lab/bin/pagemig-workload"

struct workload {
	pid_t pid;
	uintptr_t hot, cold;
	size_t hot_bytes, cold_bytes;
	FILE *out;
	char line[512]; /* its first line: pid and addresses */
};

/* Start pagemig-workload with args (NULL-terminated); exits the test when it does not start. */
static inline void start_workload(struct workload *w, const char *const args[])
{
	const char *argv[24] = {LAB_WORKLOAD_BIN};
	int fds[2], i;

	for (i = 0; args[i] && i < 22; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	w->line[0] = 0;
	if (pipe(fds))
		exit(1);
	w->pid = fork();
	if (w->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	w->out = fdopen(fds[0], "r");
	if (!fgets(w->line, sizeof(w->line), w->out) ||
	    sscanf(w->line, "pagemig-workload: pid=%*d hot=%lx:%zu cold=%lx:%zu", &w->hot,
		   &w->hot_bytes, &w->cold, &w->cold_bytes) != 4) {
		printf("workload did not start: %s\n", w->line);
		exit(1);
	}
}

/* SIGTERM: the workload checks its memory; 0 when intact. */
static inline int stop_workload(struct workload *w)
{
	int ws = 0;

	kill(w->pid, SIGTERM);
	waitpid(w->pid, &ws, 0);
	fclose(w->out);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Pages of [addr, addr + bytes) of pid on node. */
static inline size_t on_node(pid_t pid, uintptr_t addr, size_t bytes, int node)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = bytes / ps, c = 0;
	void **pages = calloc(n + 1, sizeof(*pages));
	int *st = calloc(n + 1, sizeof(*st));

	for (size_t i = 0; i < n; i++)
		pages[i] = (void *)(addr + i * ps);
	if (pagemig_query(pid, n, pages, st) == 0)
		for (size_t i = 0; i < n; i++)
			c += st[i] == node;
	free(pages);
	free(st);
	return c;
}

/*
 * Keep two probes on every tracepoint pagemigd attaches to: a perf event and the ftrace event
 * (enabled through tracefs). The kernel patches a tracepoint's call site when its probes go from
 * none to one (static key) or between one and two (static call); with two held, the daemon's
 * attach and detach change nothing in the kernel text. Under TCG, 6.12 takes an int3 Oops in
 * exc_page_fault now and then when such a patch races a workload's page faults (after ~10
 * daemon restarts in the chaos test; once at the demo's start): a limit of the emulator's
 * cross-vCPU code modification, not what these tests are about. Call it before the workload
 * starts. The perf events stay open until the process exits.
 */
static inline void lab_hold_daemon_tracepoints(void)
{
	static const char *const events[] = {
		"exceptions/page_fault_user",	  "sched/sched_switch",
		"migrate/mm_migrate_pages_start", "migrate/mm_migrate_pages",
		"migrate/set_migration_pte",	  "migrate/remove_migration_pte",
		"thp/set_migration_pmd",	  "thp/remove_migration_pmd",
	};
	FILE *f = fopen("/sys/kernel/tracing/buffer_size_kb", "w");

	if (f) { /* ftrace's own buffer is never read: keep it small */
		fputs("64", f);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct perf_event_attr a = {
			.size = sizeof(a), .type = PERF_TYPE_TRACEPOINT, .disabled = 1};
		char path[256], buf[32] = "";
		bool enabled = false;
		int fd = -1;

		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", events[i]);
		f = fopen(path, "r");
		if (f && fgets(buf, sizeof(buf), f)) {
			a.config = strtoull(buf, NULL, 10);
			fd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		}
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/enable", events[i]);
		f = fopen(path, "w");
		if (f) {
			enabled = fputs("1", f) >= 0;
			enabled &= fclose(f) == 0;
		}
		printf("  holding tracepoint %s: perf %s, ftrace %s\n", events[i],
		       fd >= 0 ? "yes" : "no", enabled ? "yes" : "no");
	}
}

#endif
