// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemig-demo: move a buffer between NUMA nodes with libpagemig and print what happened.
 * On a machine with one memory node it says so and runs the same-node move, which exercises
 * every part of the engine except the copy.
 */
#include <errno.h>
#include <getopt.h>
#include <numa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

struct demo {
	size_t bytes;
	size_t npages;
	size_t ps;
	bool thp;
	int to;
	char *buf;
	void **pages;
	int *nodes;
	int *status;
	struct pagemig_page_detail *details;
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: pagemig-demo [--size MIB] [--to NODE] [--thp]\n"
		     "\n"
		     "Allocate and fill a buffer, move it to NODE (default: the next memory node\n"
		     "after the one it landed on) and back with libpagemig, check its contents,\n"
		     "and print the library's report of each move.\n"
		     "\n"
		     "  --size MIB   buffer size in MiB (default 64, at most 65536)\n"
		     "  --to NODE    target node\n"
		     "  --thp        back the buffer with transparent huge pages where possible\n"
		     "  --help       show this help\n");
}

static uint64_t checksum(const struct demo *d)
{
	const uint64_t *w = (const uint64_t *)d->buf;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < d->bytes / 8; i++)
		h = (h ^ w[i]) * 1099511628211ull;
	return h;
}

/* Print how many pages sit on each node. */
static int print_placement(const struct demo *d, const char *when)
{
	int maxn = numa_max_node(), err;
	size_t *per = calloc((size_t)maxn + 2, sizeof(*per));

	if (!per)
		return -ENOMEM;
	err = pagemig_query(0, d->npages, d->pages, d->status);
	if (err) {
		free(per);
		return err;
	}
	for (size_t i = 0; i < d->npages; i++)
		per[d->status[i] >= 0 && d->status[i] <= maxn ? d->status[i] : maxn + 1]++;
	printf("%-10s", when);
	for (int n = 0; n <= maxn; n++)
		if (per[n])
			printf("  node %d: %zu pages", n, per[n]);
	if (per[maxn + 1])
		printf("  not resident: %zu", per[maxn + 1]);
	printf("\n");
	free(per);
	return 0;
}

/* Move the buffer to node. Between nodes the pages are asked about first, so that the report
 * tells pages already there from moved ones; on one node every page goes to the kernel. */
static int move_to(struct demo *d, int node, bool prequery)
{
	struct pagemig_report rep;
	struct pagemig_opts opts = {.sz = sizeof(opts),
				    .flags = prequery ? PAGEMIG_PREQUERY : 0,
				    .details = d->details};
	char title[64], why[256];
	long ret;
	int shown = 0;

	for (size_t i = 0; i < d->npages; i++)
		d->nodes[i] = node;
	pagemig_report_init(&rep);
	ret = pagemig_move(0, d->npages, d->pages, d->nodes, d->status, &opts, &rep);
	snprintf(title, sizeof(title), "move to node %d", node);
	pagemig_report_print(stdout, &rep, title);
	if (ret < 0) {
		fprintf(stderr, "pagemig-demo: move to node %d failed: %s\n", node,
			strerror((int)-ret));
		return (int)ret;
	}
	/* say why for the first few pages that did not get there, or that needed retries */
	for (size_t i = 0; i < d->npages && shown < 3; i++) {
		const struct pagemig_page_detail *det = &d->details[i];

		if (d->status[i] == node && !det->retries)
			continue;
		pagemig_explain(why, sizeof(why), &det->first, det->retries, d->status[i], node);
		printf("  page %zu: %s\n", i, why);
		shown++;
	}
	return 0;
}

static int parse_args(struct demo *d, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"size", required_argument, NULL, 's'},
		{"to", required_argument, NULL, 't'},
		{"thp", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	long v;

	d->bytes = 64ul << 20;
	d->to = -1;
	while ((c = getopt_long(argc, argv, "s:t:Hh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 65536) {
				fprintf(stderr,
					"pagemig-demo: --size wants MiB between 1 and 65536, "
					"not '%s'\n",
					optarg);
				return -EINVAL;
			}
			d->bytes = (size_t)v << 20;
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 1023) {
				fprintf(stderr, "pagemig-demo: --to wants a node id, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			d->to = (int)v;
			break;
		case 'H':
			d->thp = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pagemig-demo: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct demo *d)
{
	d->ps = (size_t)sysconf(_SC_PAGESIZE);
	d->npages = d->bytes / d->ps;
	d->buf = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->pages = malloc(d->npages * sizeof(*d->pages));
	d->nodes = malloc(d->npages * sizeof(*d->nodes));
	d->status = malloc(d->npages * sizeof(*d->status));
	d->details = malloc(d->npages * sizeof(*d->details));
	if (d->buf == MAP_FAILED || !d->pages || !d->nodes || !d->status || !d->details) {
		fprintf(stderr, "pagemig-demo: cannot allocate %zu MiB\n", d->bytes >> 20);
		return -ENOMEM;
	}
	madvise(d->buf, d->bytes, d->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t i = 0; i < d->bytes / 8; i++)
		((uint64_t *)d->buf)[i] = i * 2654435761u;
	for (size_t i = 0; i < d->npages; i++)
		d->pages[i] = d->buf + i * d->ps;
	return 0;
}

int main(int argc, char **argv)
{
	struct demo d = {0};
	int home, other = -1, err;
	uint64_t sum;

	if (parse_args(&d, argc, argv))
		return 2;
	if (numa_available() < 0) {
		fprintf(stderr, "pagemig-demo: this kernel has no NUMA support\n");
		return 1;
	}
	if (setup(&d))
		return 1;
	printf("libpagemig %s: %zu MiB buffer, %zu pages of %zu bytes%s\n", pagemig_version(),
	       d.bytes >> 20, d.npages, d.ps, d.thp ? ", transparent huge pages asked for" : "");
	sum = checksum(&d);
	if (print_placement(&d, "start:"))
		return 1;
	home = d.status[0];

	for (int n = 0; n <= numa_max_node(); n++)
		if (n != home && numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)n) &&
		    (other < 0 || n == d.to))
			other = n;
	if (d.to >= 0 && d.to != home && other != d.to) {
		fprintf(stderr, "pagemig-demo: node %d has no memory\n", d.to);
		return 1;
	}
	if (other < 0) {
		printf("\nThis machine has one memory node (node %d): pages cannot move between "
		       "nodes here.\nRunning the same-node move instead: every page is looked up, "
		       "verified and reported,\nbut nothing is copied. Run the NUMA lab "
		       "(tests/lab/README.md) to see real moves.\n\n",
		       home);
		other = home;
	}

	err = move_to(&d, other, other != home);
	if (!err)
		err = print_placement(&d, "after:");
	if (!err && other != home) {
		err = move_to(&d, home, true);
		if (!err)
			err = print_placement(&d, "back:");
	}
	if (err)
		return 1;
	if (checksum(&d) != sum) {
		fprintf(stderr, "pagemig-demo: buffer contents changed\n");
		return 1;
	}
	printf("contents intact (checksum %016llx)\n", (unsigned long long)sum);
	return 0;
}
