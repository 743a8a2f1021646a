/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagemigd's logging: structured journal entries under systemd (fields POLICY, PID, NODE, PAGES,
 * ERRNO, STEP next to MESSAGE), "pagemigd: level: message" lines on stderr otherwise.
 */
#ifndef PAGEMIG_DAEMON_LOG_H
#define PAGEMIG_DAEMON_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Structured fields of one message; unset fields are left out. */
struct log_fields {
	const char *policy; /* rule name */
	int pid;	    /* process the message is about (0 = none) */
	int node;	    /* node (-1 = none) */
	long pages;	    /* pages (-1 = none) */
	int err;	    /* positive errno (0 = none) */
	const char *step;   /* documented step label ("B6") */
};

#define LOG_FIELDS_NONE ((struct log_fields){.node = -1, .pages = -1})

/* Where logs go: the journal when stderr is connected to it (JOURNAL_STREAM) or when forced;
 * messages above max_level (a syslog priority) are dropped. */
void log_setup(int max_level, bool force_journal);
void log_set_level(int max_level);
int log_get_level(void);

/* Log a message; returns -err when err > 0 (for "return log_errno(...)"), else 0. */
int log_msg(int level, const struct log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...)	 log_msg(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)	 log_msg(LOG_DEBUG, NULL, __VA_ARGS__)

/* Log at level with errno err (positive or negative) and return -|err|. */
int log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* syslog level from "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

#endif
