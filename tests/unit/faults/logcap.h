/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef PAGEMIG_TEST_LOGCAP_H
#define PAGEMIG_TEST_LOGCAP_H

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

static inline bool getenv_verbose(void)
{
	return getenv("TEST_VERBOSE") != NULL;
}

/* Forget the messages kept so far. */
void logcap_clear(void);
/* Messages kept (of the last 256) at level max_level or more severe that contain needle. */
unsigned int logcap_count(const char *needle, int max_level);

#endif
