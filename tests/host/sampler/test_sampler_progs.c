// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sampler's BPF program logic, driven through BPF_PROG_TEST_RUN with synthetic tracepoint
 * arguments (the programs are loaded, never attached, so nothing else reaches them):
 *
 *   on_fault   records (tgid, page, node of the CPU, weight 1, write and present bits) only
 *              for managed tgids; the node comes from cpu_node (remapped here to simulate a
 *              second node on a one-node machine); a CPU without a node is counted.
 *   staging    on_fault stages samples per CPU: below PAGEMIG_ACCESS_BATCH nothing reaches the
 *              ring until flush_staged runs on that CPU (BPF_F_TEST_RUN_ON_CPU, from another
 *              CPU where there is one: the IPI path the drain takes), which delivers them in
 *              order; exactly a batch is one ring record; a flush of an empty CPU delivers
 *              nothing; a flush of a busy staging area touches nothing and says so.
 *   audit      every enumerator of the running kernel's enum migrate_reason and migrate_mode
 *              (read from its BTF) maps to the sampler's fixed numbering; mm_migrate_pages is
 *              read with the argument count of this kernel's TP_PROTO; per-page steps carry
 *              address, entry and order, staged per CPU: nothing reaches the ring until a
 *              batch is full, the thread writes START or END, or on_switch (sched_switch)
 *              runs on that CPU, and then one record holds them in order; movers that are not
 *              audited produce no records but are still counted by reason.
 *   audit_sched  with sampler_sched sharing the audit's maps (as the loader sets them up),
 *              sampler_sched's sched_switch program writes the steps staged on its CPU.
 *
 * Needs root (BPF); exits 77 when BPF is not permitted or the kernel has no BTF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "sampler_records.h"
#include "sampler_access.skel.h"
#include "sampler_audit.skel.h"
#include "sampler_sched.skel.h"

#define MAX_RECORDS 64

static struct btf *vmlinux;
static int ncpus;

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Records collected from a ring buffer (an access record holds up to a batch of samples, an
 * audit step record up to a batch of steps). */
#define MAX_RECORD_BYTES 512
_Static_assert(PAGEMIG_ACCESS_BATCH * sizeof(struct pagemig_access_record) <= MAX_RECORD_BYTES &&
		       sizeof(struct pagemig_mig_steps) <= MAX_RECORD_BYTES,
	       "a record does not fit the sink");
struct sink {
	size_t n;
	unsigned char rec[MAX_RECORDS][MAX_RECORD_BYTES];
	size_t len[MAX_RECORDS];
};

static int collect(void *ctx, void *data, size_t len)
{
	struct sink *s = ctx;

	if (s->n < MAX_RECORDS && len <= sizeof(s->rec[0])) {
		memcpy(s->rec[s->n], data, len);
		s->len[s->n++] = len;
	}
	return 0;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void unpin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < ncpus; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Run a raw_tp program with args on this (pinned) CPU: current is this process. */
static int run(struct bpf_program *prog, const __u64 *args, size_t nargs)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = nargs * sizeof(*args));
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (err)
		fprintf(stderr, "test_run %s: %s\n", bpf_program__name(prog), strerror(-err));
	return err;
}

static void sum_percpu(int fd, __u32 idx, __u64 *sum, size_t nwords)
{
	__u64 *v = calloc((size_t)ncpus, nwords * sizeof(__u64));

	memset(sum, 0, nwords * sizeof(*sum));
	if (v && !bpf_map_lookup_elem(fd, &idx, v))
		for (int c = 0; c < ncpus; c++)
			for (size_t w = 0; w < nwords; w++)
				sum[w] += v[(size_t)c * nwords + w];
	free(v);
}

/* ---- access ------------------------------------------------------------------------------ */

/* Run flush_staged on cpu (from whichever CPU this thread is on). Returns its return value (the
 * samples moved, or PAGEMIG_ACCESS_FLUSH_BUSY), or -errno. */
static long long flush_on(struct sampler_access_bpf *skel, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flush_staged), &opts);

	if (err) {
		fprintf(stderr, "test_run flush_staged on cpu %d: %s\n", cpu, strerror(-err));
		return err;
	}
	return opts.retval;
}

/* Flush every CPU, as the drain does. */
static void flush_all(struct sampler_access_bpf *skel)
{
	for (int c = 0; c < ncpus; c++)
		CHECK(flush_on(skel, c) >= 0);
}

/* The staging areas of every CPU (ncpus entries, freed by the caller). */
static struct pagemig_access_stage *stages(struct sampler_access_bpf *skel)
{
	struct pagemig_access_stage *v = calloc((size_t)ncpus, sizeof(*v));
	__u32 zero = 0;

	CHECK(v);
	if (v && bpf_map__lookup_elem(skel->maps.staging, &zero, sizeof(zero), v,
				      (size_t)ncpus * sizeof(*v), 0)) {
		CHECK(!"lookup staging");
		free(v);
		return NULL;
	}
	return v;
}

/* Samples staged on cpu now, or -1. */
static int staged(struct sampler_access_bpf *skel, int cpu)
{
	struct pagemig_access_stage *v = stages(skel);
	int n = v ? (int)v[cpu].n : -1;

	free(v);
	return n;
}

/* Set or clear cpu's busy flag, as if on_fault were staging there. */
static void set_busy(struct sampler_access_bpf *skel, int cpu, bool busy)
{
	struct pagemig_access_stage *v = stages(skel);
	__u32 zero = 0;

	if (!v)
		return;
	v[cpu].busy = busy;
	CHECK_EQ(bpf_map__update_elem(skel->maps.staging, &zero, sizeof(zero), v,
				      (size_t)ncpus * sizeof(*v), 0),
		 0);
	free(v);
}

/* The samples of ring record i (NULL when there is none or its length is not whole samples). */
static const struct pagemig_access_record *samples_of(const struct sink *s, size_t i, size_t *n)
{
	*n = 0;
	if (i >= s->n || !s->len[i] || s->len[i] % sizeof(struct pagemig_access_record))
		return NULL;
	*n = s->len[i] / sizeof(struct pagemig_access_record);
	return (const void *)s->rec[i];
}

/* Set tgid's bit in the managed bitmap. */
static void set_managed(struct sampler_access_bpf *skel, __u32 tgid, bool on)
{
	__u32 word = tgid / 64;
	__u64 bits = 0;

	CHECK_EQ(bpf_map__lookup_elem(skel->maps.managed, &word, sizeof(word), &bits, sizeof(bits),
				      0),
		 0);
	bits = on ? bits | (1ull << (tgid % 64)) : bits & ~(1ull << (tgid % 64));
	CHECK_EQ(bpf_map__update_elem(skel->maps.managed, &word, sizeof(word), &bits, sizeof(bits),
				      0),
		 0);
}

static void test_fault(void)
{
	struct sampler_access_bpf *skel = sampler_access_bpf__open();
	__u32 tgid = (__u32)getpid(), node, cpu;
	struct pagemig_access_stats st;
	struct ring_buffer *rb = NULL;
	struct sink sink = {0};
	const struct pagemig_access_record *r;
	__u64 args[3];
	int cpu1 = ncpus > 1 ? 1 : 0;
	size_t n;

	CHECK(skel);
	if (!skel)
		return;
	CHECK_EQ(bpf_map__set_max_entries(skel->maps.samples, 1 << 16), 0);
	CHECK_EQ(bpf_map__set_max_entries(skel->maps.cpu_node, (__u32)ncpus), 0);
	bpf_program__set_autoload(skel->progs.on_sample, false);
	CHECK_EQ(sampler_access_bpf__load(skel), 0);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.samples), collect, &sink, NULL);
	CHECK(rb);
	if (!rb)
		goto out;

	/* Simulated topology: CPU 0 on node 0, CPU 1 (if any) on node 1. */
	for (cpu = 0; cpu < (__u32)ncpus; cpu++) {
		node = cpu == (__u32)cpu1 && cpu1 ? 1 : 0;
		CHECK_EQ(bpf_map__update_elem(skel->maps.cpu_node, &cpu, sizeof(cpu), &node,
					      sizeof(node), 0),
			 0);
	}
	set_managed(skel, tgid, true);

	/* A write fault on a mapped page (soft-dirty re-armed, say) on CPU 1. */
	CHECK_EQ(pin(cpu1), 0);
	args[0] = 0x7f1234567abcull;
	args[1] = 0;
	args[2] = 0x7; /* X86_PF_PROT | X86_PF_WRITE | X86_PF_USER */
	CHECK_EQ(run(skel->progs.on_fault, args, 3), 0);
	/* A read fault on CPU 0, no page mapped: a first touch. */
	CHECK_EQ(pin(0), 0);
	args[0] = 0x7f1234568000ull;
	args[2] = 0x4;
	CHECK_EQ(run(skel->progs.on_fault, args, 3), 0);
	/* Staged on each CPU until flushed: one record per CPU, CPU 0's first. */
	flush_all(skel);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, cpu1 ? 2u : 1u);
	if (cpu1 && sink.n == 2) {
		r = samples_of(&sink, 1, &n);
		CHECK(r && n == 1);
		if (!r)
			goto out;
		CHECK_EQ(r->page, 0x7f1234567000ull);
		CHECK_EQ(r->tgid, tgid);
		CHECK_EQ(r->node, cpu1 ? 1 : 0);
		CHECK_EQ(r->source, PAGEMIG_SAMPLE_FAULT);
		CHECK_EQ(r->weight, 1);
		CHECK_EQ(r->write, 1);
		CHECK_EQ(r->present, 1);
	}
	r = samples_of(&sink, 0, &n);
	CHECK(r && n == (cpu1 ? 1u : 2u));
	if (!r)
		goto out;
	r += n - 1; /* on one CPU, the write fault came first */
	CHECK_EQ(r->page, 0x7f1234568000ull);
	CHECK_EQ(r->node, 0);
	CHECK_EQ(r->write, 0);
	CHECK_EQ(r->present, 0);
	if (!cpu1) {
		CHECK_EQ(r[-1].write, 1);
		CHECK_EQ(r[-1].present, 1);
	}

	/* A CPU without a node: recorded as unknown, and counted. */
	node = PAGEMIG_SAMPLER_NODE_UNKNOWN;
	cpu = 0;
	CHECK_EQ(bpf_map__update_elem(skel->maps.cpu_node, &cpu, sizeof(cpu), &node, sizeof(node),
				      0),
		 0);
	CHECK_EQ(run(skel->progs.on_fault, args, 3), 0);
	sink.n = 0;
	CHECK_EQ(flush_on(skel, 0), 1);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	r = samples_of(&sink, 0, &n);
	CHECK(r && n == 1);
	if (r)
		CHECK_EQ(r->node, PAGEMIG_SAMPLER_NODE_UNKNOWN);

	/* Not managed: nothing at all. */
	set_managed(skel, tgid, false);
	CHECK_EQ(run(skel->progs.on_fault, args, 3), 0);
	sink.n = 0;
	CHECK_EQ(staged(skel, 0), 0);
	flush_all(skel);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);

	sum_percpu(bpf_map__fd(skel->maps.access_stats), 0, (__u64 *)&st,
		   sizeof(st) / sizeof(__u64));
	CHECK_EQ(st.no_node, 1);
	CHECK_EQ(st.no_addr, 0);
	CHECK_EQ(st.ring_full, 0);
out:
	unpin();
	ring_buffer__free(rb);
	sampler_access_bpf__destroy(skel);
}

/* n faults by this process on cpu: pages base + i, writes on odd i. */
static void faults(struct sampler_access_bpf *skel, int cpu, __u64 base, int from, int n)
{
	__u64 args[3];

	CHECK_EQ(pin(cpu), 0);
	for (int i = from; i < from + n; i++) {
		args[0] = base + (__u64)i * 4096 + 123;
		args[1] = 0;
		args[2] = i % 2 ? 0x6 : 0x4;
		CHECK_EQ(run(skel->progs.on_fault, args, 3), 0);
	}
}

/* Ring record i holds exactly the samples from .. from + n - 1 of faults(), in order. */
static void check_batch(const struct sink *s, size_t i, __u64 base, int from, int n)
{
	size_t got;
	const struct pagemig_access_record *r = samples_of(s, i, &got);

	CHECK(r);
	CHECK_EQ(got, (size_t)n);
	for (size_t k = 0; r && k < got && k < (size_t)n; k++) {
		CHECK_EQ(r[k].page, base + (from + k) * 4096);
		CHECK_EQ(r[k].write, (from + k) % 2);
		CHECK_EQ(r[k].tgid, (__u32)getpid());
		CHECK_EQ(r[k].source, PAGEMIG_SAMPLE_FAULT);
	}
}

static void test_staging(void)
{
	struct sampler_access_bpf *skel = sampler_access_bpf__open();
	const int batch = PAGEMIG_ACCESS_BATCH;
	/* Stage on the last CPU, flush from CPU 0: an IPI where there are two CPUs. */
	int cpu = ncpus - 1, other = cpu ? 0 : -1;
	const __u64 base = 0x7f0000000000ull;
	struct pagemig_access_stats st;
	struct ring_buffer *rb = NULL;
	static struct sink sink;
	__u32 node = 0;

	CHECK(skel);
	if (!skel)
		return;
	CHECK_EQ(bpf_map__set_max_entries(skel->maps.samples, 1 << 16), 0);
	CHECK_EQ(bpf_map__set_max_entries(skel->maps.cpu_node, (__u32)ncpus), 0);
	bpf_program__set_autoload(skel->progs.on_sample, false);
	CHECK_EQ(sampler_access_bpf__load(skel), 0);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.samples), collect, &sink, NULL);
	CHECK(rb);
	if (!rb)
		goto out;
	for (__u32 c = 0; c < (__u32)ncpus; c++)
		CHECK_EQ(bpf_map__update_elem(skel->maps.cpu_node, &c, sizeof(c), &node,
					      sizeof(node), 0),
			 0);
	set_managed(skel, (__u32)getpid(), true);
	if (other < 0)
		printf("one CPU: flushes run on the staging CPU itself, no IPI\n");

	/* Below a batch: nothing in the ring, all of it staged, until a flush. */
	sink.n = 0;
	faults(skel, cpu, base, 0, batch - 1);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);
	CHECK_EQ(staged(skel, cpu), batch - 1);
	CHECK_EQ(pin(other < 0 ? cpu : other), 0);
	/* A CPU with nothing staged: nothing delivered. */
	if (other >= 0) {
		CHECK_EQ(flush_on(skel, other), 0);
		ring_buffer__consume(rb);
		CHECK_EQ(sink.n, 0);
	}
	/* The flush delivers them, in order, as one record, and empties the area. */
	CHECK_EQ(flush_on(skel, cpu), batch - 1);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	check_batch(&sink, 0, base, 0, batch - 1);
	CHECK_EQ(staged(skel, cpu), 0);
	/* Flushed again: empty, nothing delivered. */
	sink.n = 0;
	CHECK_EQ(flush_on(skel, cpu), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);

	/* Exactly a batch: one record without any flush, nothing left staged. */
	faults(skel, cpu, base, 100, batch);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	check_batch(&sink, 0, base, 100, batch);
	CHECK_EQ(staged(skel, cpu), 0);

	/* A batch and three: the batch now, the three at the flush, in order. */
	sink.n = 0;
	faults(skel, cpu, base, 200, batch + 3);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	CHECK_EQ(staged(skel, cpu), 3);
	CHECK_EQ(pin(other < 0 ? cpu : other), 0);
	CHECK_EQ(flush_on(skel, cpu), 3);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 2);
	check_batch(&sink, 0, base, 200, batch);
	check_batch(&sink, 1, base, 200 + batch, 3);

	/* Busy (on_fault in the middle of staging there): the flush leaves the area alone and
	 * says so; once on_fault is done, the next flush delivers. */
	sink.n = 0;
	faults(skel, cpu, base, 300, 3);
	set_busy(skel, cpu, true);
	CHECK_EQ(pin(other < 0 ? cpu : other), 0);
	CHECK_EQ(flush_on(skel, cpu), PAGEMIG_ACCESS_FLUSH_BUSY);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);
	CHECK_EQ(staged(skel, cpu), 3);
	set_busy(skel, cpu, false);
	CHECK_EQ(flush_on(skel, cpu), 3);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	check_batch(&sink, 0, base, 300, 3);

	sum_percpu(bpf_map__fd(skel->maps.access_stats), 0, (__u64 *)&st,
		   sizeof(st) / sizeof(__u64));
	CHECK_EQ(st.flush_busy, 1);
	CHECK_EQ(st.ring_full, 0);
out:
	unpin();
	ring_buffer__free(rb);
	sampler_access_bpf__destroy(skel);
}

/* ---- audit ------------------------------------------------------------------------------- */

struct name_map {
	const char *kernel;
	int ours;
};

static const struct name_map reasons[] = {
	{"MR_COMPACTION", PAGEMIG_MR_COMPACTION},
	{"MR_MEMORY_FAILURE", PAGEMIG_MR_MEMORY_FAILURE},
	{"MR_MEMORY_HOTPLUG", PAGEMIG_MR_MEMORY_HOTPLUG},
	{"MR_SYSCALL", PAGEMIG_MR_SYSCALL},
	{"MR_MEMPOLICY_MBIND", PAGEMIG_MR_MEMPOLICY_MBIND},
	{"MR_NUMA_MISPLACED", PAGEMIG_MR_NUMA_MISPLACED},
	{"MR_CONTIG_RANGE", PAGEMIG_MR_CONTIG_RANGE},
	{"MR_LONGTERM_PIN", PAGEMIG_MR_LONGTERM_PIN},
	{"MR_DEMOTION", PAGEMIG_MR_DEMOTION},
	{"MR_DAMON", PAGEMIG_MR_DAMON},
	{"MR_TYPES", PAGEMIG_MR_OTHER}, /* the count, never a reason */
};

static const struct name_map modes[] = {
	{"MIGRATE_ASYNC", PAGEMIG_MM_ASYNC},
	{"MIGRATE_SYNC_LIGHT", PAGEMIG_MM_SYNC_LIGHT},
	{"MIGRATE_SYNC", PAGEMIG_MM_SYNC},
	{"MIGRATE_SYNC_NO_COPY", PAGEMIG_MM_SYNC_NO_COPY},
};

/* Value of enumerator name in the kernel's enum ename, or -1. */
static long long kernel_enum(const char *ename, const char *name)
{
	__s32 id = btf__find_by_name_kind(vmlinux, ename, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	const struct btf_enum *e = t ? btf_enum(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(vmlinux, e[i].name_off), name))
			return e[i].val;
	return -1;
}

/* Arguments of a tracepoint's TP_PROTO (its btf_trace_ typedef, minus the void *__data). */
static int tp_nargs(const char *tp)
{
	char name[128];
	__s32 id;
	const struct btf_type *t;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, id)); /* pointer */
	t = btf__type_by_id(vmlinux, t->type);			      /* func proto */
	return btf_is_func_proto(t) ? btf_vlen(t) - 1 : -1;
}

static const struct pagemig_mig_event *rec_ev(struct sink *s, size_t i)
{
	return i < s->n && s->len[i] == sizeof(struct pagemig_mig_event) ? (const void *)s->rec[i]
									 : NULL;
}

static const struct pagemig_mig_steps *rec_steps(struct sink *s, size_t i)
{
	const struct pagemig_mig_steps *r = (const void *)s->rec[i];

	return i < s->n && s->len[i] >= offsetof(struct pagemig_mig_steps, s) &&
			       r->type == PAGEMIG_MIG_STEPS &&
			       s->len[i] == offsetof(struct pagemig_mig_steps, s) +
						    r->n * sizeof(r->s[0])
		       ? r
		       : NULL;
}

/* What sched_switch would do on this CPU: write the steps staged here. */
static int switch_out(struct sampler_audit_bpf *skel)
{
	__u64 args[4] = {0};

	return run(skel->progs.on_switch, args, 4);
}

static void test_audit(void)
{
	struct sampler_audit_bpf *skel = sampler_audit_bpf__open();
	long long sync = kernel_enum("migrate_mode", "MIGRATE_SYNC");
	long long syscall_r = kernel_enum("migrate_reason", "MR_SYSCALL");
	long long numa_r = kernel_enum("migrate_reason", "MR_NUMA_MISPLACED");
	int nargs = tp_nargs("mm_migrate_pages");
	const struct pagemig_mig_event *e;
	const struct pagemig_mig_steps *steps;
	struct pagemig_mig_counts c;
	struct pagemig_audit_stats st;
	struct ring_buffer *rb = NULL;
	struct sink sink = {0};
	__u32 tgid = (__u32)getpid();
	__u64 args[8] = {0};
	size_t checked = 0;
	__u8 one = 1;

	CHECK(skel);
	CHECK(sync >= 0 && syscall_r >= 0 && numa_r >= 0);
	CHECK(nargs == 7 || nargs == 8);
	if (!skel || nargs < 7)
		goto out;
	printf("kernel: mm_migrate_pages has %d arguments, MR_SYSCALL = %lld, "
	       "MR_NUMA_MISPLACED = %lld\n",
	       nargs, syscall_r, numa_r);
	CHECK_EQ(bpf_map__set_max_entries(skel->maps.events, 1 << 16), 0);
	CHECK_EQ(sampler_audit_bpf__load(skel), 0);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), collect, &sink, NULL);
	CHECK(rb);
	if (!rb)
		goto out;
	CHECK_EQ(bpf_map__update_elem(skel->maps.movers, &tgid, sizeof(tgid), &one, 1, 0), 0);
	CHECK_EQ(pin(0), 0); /* steps are staged per CPU: every program here runs on cpu 0 */

	/* Every reason and mode enumerator of this kernel, through on_migrate_start. */
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		long long v = kernel_enum("migrate_reason", reasons[i].kernel);

		if (v < 0)
			continue; /* e.g. MR_DAMON before 6.12 */
		args[0] = (__u64)sync;
		args[1] = (__u64)v;
		sink.n = 0;
		CHECK_EQ(run(skel->progs.on_migrate_start, args, 2), 0);
		ring_buffer__consume(rb);
		e = rec_ev(&sink, 0);
		CHECK(e);
		if (!e)
			continue;
		if (e->reason != reasons[i].ours)
			fprintf(stderr, "%s = %lld mapped to %u, expected %d\n", reasons[i].kernel,
				v, e->reason, reasons[i].ours);
		CHECK_EQ(e->reason, reasons[i].ours);
		CHECK_EQ(e->type, PAGEMIG_MIG_START);
		CHECK_EQ(e->mode, PAGEMIG_MM_SYNC);
		CHECK_EQ(e->tgid, tgid);
		CHECK_EQ(e->tid, (__u32)gettid());
		checked++;
	}
	CHECK(checked >= 9);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		long long v = kernel_enum("migrate_mode", modes[i].kernel);

		if (v < 0)
			continue; /* MIGRATE_SYNC_NO_COPY: in 6.1, not in 6.12 */
		args[0] = (__u64)v;
		args[1] = (__u64)syscall_r;
		sink.n = 0;
		CHECK_EQ(run(skel->progs.on_migrate_start, args, 2), 0);
		ring_buffer__consume(rb);
		e = rec_ev(&sink, 0);
		CHECK(e && e->mode == modes[i].ours);
	}
	/* A value no kernel uses. */
	args[0] = 200;
	args[1] = 200;
	sink.n = 0;
	CHECK_EQ(run(skel->progs.on_migrate_start, args, 2), 0);
	ring_buffer__consume(rb);
	e = rec_ev(&sink, 0);
	CHECK(e && e->reason == PAGEMIG_MR_OTHER && e->mode == PAGEMIG_MM_OTHER);

	/* Steps 4 and 16 for one page, and the pmd variants: staged on this CPU (the test runs
	 * pinned to one), then written as one record when the thread leaves the CPU. */
	sink.n = 0;
	args[0] = 0x7f0000001000ull;
	args[1] = 0xf7ffe7ffded0fe00ull;
	args[2] = 0;
	CHECK_EQ(run(skel->progs.on_set_pte, args, 3), 0);
	args[1] = 0x800000013ca3b067ull;
	CHECK_EQ(run(skel->progs.on_remove_pte, args, 3), 0);
	args[0] = 0x7f0000200000ull;
	CHECK_EQ(run(skel->progs.on_set_pmd, args, 2), 0);
	CHECK_EQ(run(skel->progs.on_remove_pmd, args, 2), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);
	CHECK_EQ(switch_out(skel), 0);
	CHECK_EQ(switch_out(skel), 0); /* nothing staged any more: no second record */
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	steps = rec_steps(&sink, 0);
	CHECK(steps && steps->n == 4 && steps->tgid == tgid && steps->tid == (__u32)gettid());
	if (steps && steps->n == 4) {
		CHECK(steps->s[0].type == PAGEMIG_MIG_SET_PTE &&
		      steps->s[0].addr == 0x7f0000001000ull &&
		      steps->s[0].entry == 0xf7ffe7ffded0fe00ull && steps->s[0].order == 0);
		CHECK(steps->s[1].type == PAGEMIG_MIG_REMOVE_PTE &&
		      steps->s[1].entry == 0x800000013ca3b067ull);
		CHECK(steps->s[2].type == PAGEMIG_MIG_SET_PMD && steps->s[2].order == -1);
		CHECK(steps->s[3].type == PAGEMIG_MIG_REMOVE_PMD &&
		      steps->s[3].addr == 0x7f0000200000ull);
	}

	/* A full batch is written at once; a START writes what is staged before itself. */
	sink.n = 0;
	for (__u64 i = 0; i <= PAGEMIG_AUDIT_BATCH; i++) {
		args[0] = 0x7f0000400000ull + i * 4096;
		CHECK_EQ(run(skel->progs.on_set_pte, args, 3), 0);
	}
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	steps = rec_steps(&sink, 0);
	CHECK(steps && steps->n == PAGEMIG_AUDIT_BATCH);
	for (size_t i = 0; steps && i < steps->n && i < PAGEMIG_AUDIT_BATCH; i++)
		CHECK_EQ(steps->s[i].addr, 0x7f0000400000ull + i * 4096);
	args[0] = (__u64)sync;
	args[1] = (__u64)syscall_r;
	CHECK_EQ(run(skel->progs.on_migrate_start, args, 2), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 3);
	steps = rec_steps(&sink, 1);
	CHECK(steps && steps->n == 1 &&
	      steps->s[0].addr == 0x7f0000400000ull + PAGEMIG_AUDIT_BATCH * 4096);
	e = rec_ev(&sink, 2);
	CHECK(e && e->type == PAGEMIG_MIG_START);

	/* The end of a call, with this kernel's argument layout. */
	memset(args, 0, sizeof(args));
	args[0] = 5; /* succeeded */
	args[1] = 2; /* failed */
	args[2] = 1; /* thp_succeeded */
	args[3] = 0; /* thp_failed */
	args[4] = 3; /* thp_split */
	args[nargs - 2] = (__u64)sync;
	args[nargs - 1] = (__u64)numa_r;
	sink.n = 0;
	CHECK_EQ(run(skel->progs.on_migrate_end, args, (size_t)nargs), 0);
	ring_buffer__consume(rb);
	e = rec_ev(&sink, 0);
	CHECK(e && e->type == PAGEMIG_MIG_END && e->reason == PAGEMIG_MR_NUMA_MISPLACED &&
	      e->mode == PAGEMIG_MM_SYNC && e->end.succeeded == 5 && e->end.failed == 2 &&
	      e->end.thp_succeeded == 1);

	/* Not an audited mover: no records, still counted by reason. */
	CHECK_EQ(bpf_map__delete_elem(skel->maps.movers, &tgid, sizeof(tgid), 0), 0);
	sink.n = 0;
	CHECK_EQ(run(skel->progs.on_migrate_end, args, (size_t)nargs), 0);
	args[0] = 0x1000;
	CHECK_EQ(run(skel->progs.on_set_pte, args, 3), 0);
	CHECK_EQ(switch_out(skel), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);

	sum_percpu(bpf_map__fd(skel->maps.by_reason), PAGEMIG_MR_NUMA_MISPLACED, (__u64 *)&c,
		   sizeof(c) / sizeof(__u64));
	CHECK_EQ(c.calls, 2);
	CHECK_EQ(c.succeeded, 10);
	CHECK_EQ(c.failed, 4);
	CHECK_EQ(c.thp_succeeded, 2);
	CHECK_EQ(c.thp_split, 6);
	sum_percpu(bpf_map__fd(skel->maps.by_reason), PAGEMIG_MR_SYSCALL, (__u64 *)&c,
		   sizeof(c) / sizeof(__u64));
	CHECK_EQ(c.calls, 0);
	sum_percpu(bpf_map__fd(skel->maps.audit_stats), 0, (__u64 *)&st,
		   sizeof(st) / sizeof(__u64));
	CHECK_EQ(st.dropped, 0);
	CHECK(st.events >= checked + 6);
out:
	unpin();
	ring_buffer__free(rb);
	sampler_audit_bpf__destroy(skel);
}

/* sampler_sched's sched_switch program, sharing the audit's ring, counters and staging area,
 * writes the steps staged on its CPU (the leaving thread's), as the loader arranges it. */
static void test_audit_sched(void)
{
	struct sampler_audit_bpf *audit = sampler_audit_bpf__open();
	struct sampler_sched_bpf *sched = sampler_sched_bpf__open();
	const struct pagemig_mig_steps *steps;
	struct ring_buffer *rb = NULL;
	struct sink sink = {0};
	__u32 tgid = (__u32)getpid();
	__u64 args[4] = {0};
	__u8 one = 1;

	CHECK(audit && sched);
	if (!audit || !sched)
		goto out;
	CHECK_EQ(sampler_audit_bpf__load(audit), 0);
	CHECK_EQ(bpf_map__reuse_fd(sched->maps.events, bpf_map__fd(audit->maps.events)), 0);
	CHECK_EQ(bpf_map__reuse_fd(sched->maps.audit_stats, bpf_map__fd(audit->maps.audit_stats)),
		 0);
	CHECK_EQ(bpf_map__reuse_fd(sched->maps.staged, bpf_map__fd(audit->maps.staged)), 0);
	CHECK_EQ(sampler_sched_bpf__load(sched), 0);
	rb = ring_buffer__new(bpf_map__fd(audit->maps.events), collect, &sink, NULL);
	CHECK(rb);
	if (!rb)
		goto out;
	CHECK_EQ(bpf_map__update_elem(audit->maps.movers, &tgid, sizeof(tgid), &one, 1, 0), 0);
	CHECK_EQ(pin(0), 0);
	args[0] = 0x7f0000003000ull;
	args[1] = 0xf7ffe7ffded0fe00ull;
	CHECK_EQ(run(audit->progs.on_set_pte, args, 3), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 0);
	/* sched_switch with no tasks (NULL prev and next: nothing to credit) */
	memset(args, 0, sizeof(args));
	CHECK_EQ(run(sched->progs.on_switch, args, 4), 0);
	ring_buffer__consume(rb);
	CHECK_EQ(sink.n, 1);
	steps = rec_steps(&sink, 0);
	CHECK(steps && steps->n == 1 && steps->s[0].addr == 0x7f0000003000ull &&
	      steps->s[0].type == PAGEMIG_MIG_SET_PTE && steps->tgid == tgid);
	unpin();
out:
	ring_buffer__free(rb);
	sampler_sched_bpf__destroy(sched);
	sampler_audit_bpf__destroy(audit);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_fault),
		CHECK_TEST(test_staging),
		CHECK_TEST(test_audit),
		CHECK_TEST(test_audit_sched),
	};
	struct sampler_access_bpf *probe;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet_libbpf);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		SKIP_ALL("kernel without BTF: %s", strerror(errno));
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		SKIP_ALL("cannot count CPUs");
	/* Privilege probe: load the smallest object. */
	probe = sampler_access_bpf__open();
	if (!probe)
		SKIP_ALL("cannot open a BPF object: %s", strerror(errno));
	bpf_program__set_autoload(probe->progs.on_sample, false);
	err = sampler_access_bpf__load(probe);
	sampler_access_bpf__destroy(probe);
	if (err == -EPERM || err == -EACCES)
		SKIP_ALL("loading BPF is not permitted here (%s)", strerror(-err));
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
