/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the sampler's benchmarks (bench-sampler, bench-audit). */
#ifndef PAGEMIG_BENCH_SAMPLER_BENCH_H
#define PAGEMIG_BENCH_SAMPLER_BENCH_H

#include <stdbool.h>

/* Name the program in its error messages, and let libbpf print only its warnings. */
void sampler_bench_init(const char *name);

/* Print "NAME: message" to stderr and remember that the run failed. */
__attribute__((format(printf, 1, 2))) void sampler_bench_fail(const char *fmt, ...);

/* Whether sampler_bench_fail() was called. */
bool sampler_bench_failed(void);

#endif /* PAGEMIG_BENCH_SAMPLER_BENCH_H */
