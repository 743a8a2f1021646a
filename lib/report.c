// SPDX-License-Identifier: LGPL-2.1-or-later
/* Operation reports: initialisation, merging and a printer for humans. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

const char *pagemig_version(void)
{
	return STR(PAGEMIG_VERSION_MAJOR) "." STR(PAGEMIG_VERSION_MINOR) "." STR(
		PAGEMIG_VERSION_PATCH);
}

void pagemig_report_init(struct pagemig_report *report)
{
	memset(report, 0, sizeof(*report));
	report->sz = sizeof(*report);
}

void pagemig__report_add(struct pagemig_report *a, const struct pagemig_report *b)
{
	/* A caller built against an older, shorter report gets what fits; sz == 0 means the
	 * caller did not initialise it: treat it as the current size. */
	struct pagemig_report sum;
	size_t sz = a->sz && a->sz < sizeof(sum) ? a->sz : sizeof(sum);

	pagemig_report_init(&sum);
	memcpy(&sum, a, sz);
	sum.sz = sz;
	sum.pages += b->pages;
	sum.pages_on_target += b->pages_on_target;
	sum.pages_moved += b->pages_moved;
	sum.bytes_moved += b->bytes_moved;
	for (int i = 0; i < PAGEMIG_OUT__COUNT; i++)
		sum.by_outcome[i] += b->by_outcome[i];
	for (int i = 0; i < PAGEMIG_STEP__COUNT; i++) {
		sum.by_step[i] += b->by_step[i];
		sum.first_by_step[i] += b->first_by_step[i];
	}
	sum.retries += b->retries;
	sum.retry_rounds += b->retry_rounds;
	sum.calls += b->calls;
	sum.query_calls += b->query_calls;
	sum.entries_sent += b->entries_sent;
	sum.folios_deduped += b->folios_deduped;
	sum.positive_returns += b->positive_returns;
	sum.unwritten += b->unwritten;
	sum.verify_mismatches += b->verify_mismatches;
	sum.elapsed_ns += b->elapsed_ns;
	sum.kernel_ns += b->kernel_ns;
	if (b->max_call_ns > sum.max_call_ns)
		sum.max_call_ns = b->max_call_ns;
	if (b->call_error)
		sum.call_error = b->call_error;
	sum.pid_reused |= b->pid_reused;
	for (int i = 0; i < PAGEMIG_CALL_HIST_BUCKETS; i++)
		sum.call_hist[i] += b->call_hist[i];
	sum.frames_verified += b->frames_verified;
	memcpy(a, &sum, sz);
}

/* 2^(i/4) for i = 0..3, scaled by 2^16: bucket edges without libm */
static const uint32_t quarter[4] = {65536, 77936, 92682, 110218};

/* Lower edge of bucket b in microseconds: 2^(b/4). */
static double bucket_edge(int b)
{
	return (double)(UINT64_C(1) << (b / 4)) * quarter[b % 4] / 65536.0;
}

/* Bucket b holds [2^(b/4), 2^((b+1)/4)) us. */
static int call_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	int b;

	if (us < 1)
		return 0;
	b = 4 * (63 - __builtin_clzll(us));
	for (int q = 3; q > 0; q--)
		if ((us << 16) >= (uint64_t)quarter[q] << (b / 4)) {
			b += q;
			break;
		}
	return b < PAGEMIG_CALL_HIST_BUCKETS ? b : PAGEMIG_CALL_HIST_BUCKETS - 1;
}

void pagemig__report_call(struct pagemig_report *report, uint64_t ns)
{
	report->call_hist[call_bucket(ns)]++;
}

double pagemig_report_call_us(const struct pagemig_report *r, double fraction)
{
	unsigned long total = 0, seen = 0, want;

	if (!r || r->sz < offsetof(struct pagemig_report, call_hist) + sizeof(r->call_hist))
		return 0;
	for (int b = 0; b < PAGEMIG_CALL_HIST_BUCKETS; b++)
		total += r->call_hist[b];
	if (!total)
		return 0;
	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	want = (unsigned long)(fraction * (double)total);
	if ((double)want < fraction * (double)total || !want)
		want++;
	for (int b = 0; b < PAGEMIG_CALL_HIST_BUCKETS; b++) {
		seen += r->call_hist[b];
		if (seen >= want)
			return bucket_edge(b + 1);
	}
	return bucket_edge(PAGEMIG_CALL_HIST_BUCKETS);
}

static void print_bytes(FILE *out, uint64_t bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	fprintf(out, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void pagemig_report_print(FILE *out, const struct pagemig_report *r, const char *title)
{
	double secs = (double)r->elapsed_ns / 1e9;
	bool any = false;

	if (!out || !r)
		return;
	fprintf(out, "%s%s%lu pages: %lu on target (%lu moved, ", title ? title : "",
		title ? ": " : "", r->pages, r->pages_on_target, r->pages_moved);
	print_bytes(out, r->bytes_moved);
	fprintf(out, "), %lu off target\n", r->pages - r->pages_on_target);
	if (r->call_error)
		fprintf(out, "  failed as a whole: %s%s\n", strerror(-r->call_error),
			r->pid_reused ? " (the pid now names another process)" : "");

	fprintf(out, "  outcomes:");
	for (int i = 0; i < PAGEMIG_OUT__COUNT; i++)
		if (r->by_outcome[i])
			fprintf(out, " %s=%lu", pagemig_outcome_name(i), r->by_outcome[i]);
	fputc('\n', out);

	for (int i = 0; i < PAGEMIG_STEP__COUNT; i++) {
		const struct pagemig_step_info *s = pagemig_step_info(i);

		if (!r->by_step[i])
			continue;
		if (!any)
			fprintf(out, "  backed out at:\n");
		any = true;
		fprintf(out, "    %-7s %-22s %8lu answers (%lu first)\n", s->label, s->name,
			r->by_step[i], r->first_by_step[i]);
	}
	fprintf(out,
		"  %lu move calls (%lu entries, %lu skipped as huge-folio tails), "
		"%lu queries, %lu retries in %lu rounds\n",
		r->calls, r->entries_sent, r->folios_deduped, r->query_calls, r->retries,
		r->retry_rounds);
	if (r->sz >= offsetof(struct pagemig_report, frames_verified) + sizeof(r->frames_verified) &&
	    r->frames_verified)
		fprintf(out, "  %lu pages verified from their frame numbers\n", r->frames_verified);
	if (r->positive_returns || r->unwritten || r->verify_mismatches)
		fprintf(out,
			"  %lu positive returns, %lu unwritten status entries, "
			"%lu verification mismatches\n",
			r->positive_returns, r->unwritten, r->verify_mismatches);
	fprintf(out, "  %.3f s elapsed, %.3f s in move calls (longest %.2f ms", secs,
		(double)r->kernel_ns / 1e9, (double)r->max_call_ns / 1e6);
	if (pagemig_report_call_us(r, 0.5) > 0)
		fprintf(out, ", p50 <= %.2f ms, p99 <= %.2f ms", pagemig_report_call_us(r, 0.5) / 1e3,
			pagemig_report_call_us(r, 0.99) / 1e3);
	fputc(')', out);
	if (secs > 0 && r->bytes_moved) {
		fprintf(out, ", ");
		print_bytes(out, (uint64_t)((double)r->bytes_moved / secs));
		fprintf(out, "/s");
	}
	fputc('\n', out);
}
