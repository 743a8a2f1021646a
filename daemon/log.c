// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",	 [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",	 [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",	 [LOG_DEBUG] = "debug",
};

/* stderr is the journal's stream when JOURNAL_STREAM names its device and inode. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(int level, bool force_journal)
{
	max_level = level;
	to_journal = force_journal || stderr_is_journal();
}

void log_set_level(int level)
{
	max_level = level;
}

int log_get_level(void)
{
	return max_level;
}

int log_level_from_name(const char *name)
{
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (!strcmp(name, level_names[l]))
			return l;
	return -1;
}

const char *log_level_name(int level)
{
	return level >= 0 && level <= LOG_DEBUG ? level_names[level] : "?";
}

static void emit(int level, const struct log_fields *f, const char *msg)
{
	char pid[32], node[32], pages[32], err[32];

	if (!to_journal) {
		/* at debug level, the monotonic clock (as the kernel log's): what a slow cycle
		 * delayed can only be read from when each line came */
		if (max_level >= LOG_DEBUG) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			fprintf(stderr, "pagemigd: [%5lld.%03ld] %s: %s\n", (long long)ts.tv_sec,
				ts.tv_nsec / 1000000, level_names[level], msg);
		} else {
			fprintf(stderr, "pagemigd: %s: %s\n", level_names[level], msg);
		}
		return;
	}
	if (!f) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, NULL);
		return;
	}
	/* empty fields are sent empty-valued: sd_journal_send takes a fixed list */
	snprintf(pid, sizeof(pid), "%d", f->pid);
	snprintf(node, sizeof(node), "%d", f->node);
	snprintf(pages, sizeof(pages), "%ld", f->pages);
	snprintf(err, sizeof(err), "%d", f->err);
	sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
			"PAGEMIG_POLICY=%s", f->policy ? f->policy : "",
			"PAGEMIG_PID=%s", f->pid ? pid : "",
			"PAGEMIG_NODE=%s", f->node >= 0 ? node : "",
			"PAGEMIG_PAGES=%s", f->pages >= 0 ? pages : "",
			"ERRNO=%s", f->err ? err : "",
			"PAGEMIG_STEP=%s", f->step ? f->step : "", NULL);
}

static void vlog(int level, const struct log_fields *f, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* process names, paths and client input end up in messages: one message, one line (a
	 * newline in a comm must not forge a log line of its own) */
	for (char *p = msg; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
	emit(level, f, msg);
}

int log_msg(int level, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, f, fmt, ap);
	va_end(ap);
	return f && f->err > 0 ? -f->err : 0;
}

int log_errno(int level, int err, const char *fmt, ...)
{
	struct log_fields f = LOG_FIELDS_NONE;
	char msg[900];
	va_list ap;

	err = err < 0 ? -err : err;
	f.err = err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, &f, "%s: %s", msg, strerror(err));
	return -err;
}
