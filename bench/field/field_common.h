/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the field benchmarks (bench/field): the workload's progress counter file. */
#ifndef PAGEMIG_FIELD_COMMON_H
#define PAGEMIG_FIELD_COMMON_H

#include <stdint.h>

/* field-workload --counter FILE maps this (MAP_SHARED); the probe maps it read-only. */
struct field_counter {
	_Atomic uint64_t passes; /* completed passes over a thread's slice, all threads */
	_Atomic uint64_t phase;	 /* current phase (--phase), 0 otherwise */
	_Atomic uint64_t errors; /* words that did not read back as written */
};

#endif
