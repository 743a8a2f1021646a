// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sampler's readers of sysfs, on fixture trees: CPU and memory-block topology, kernel list
 * syntax, PMU event descriptions and the detection of a memory-access sampling event (Intel
 * mem-loads, AMD ibs_op, none).
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler_internal.h"

static char root[256];

static void put(const char *rel, const char *content)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* mkdir -p of the parent */
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	if (!content) {
		mkdir(path, 0755);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "%s/pagemig-sysfs-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

struct collect {
	unsigned int v[64];
	unsigned int n;
};

static int collect_cb(unsigned int x, void *ctx)
{
	struct collect *c = ctx;

	if (c->n == 64)
		return -E2BIG;
	c->v[c->n++] = x;
	return 0;
}

static void test_parse_list(void **state)
{
	struct collect c = {.n = 0};

	assert_int_equal(pagemig_parse_list("0-3,8,10-11\n", collect_cb, &c), 0);
	assert_int_equal(c.n, 7);
	assert_int_equal(c.v[3], 3);
	assert_int_equal(c.v[4], 8);
	assert_int_equal(c.v[6], 11);
	c.n = 0;
	assert_int_equal(pagemig_parse_list("", collect_cb, &c), 0);
	assert_int_equal(pagemig_parse_list("\n", collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(pagemig_parse_list("5", collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(pagemig_parse_list("3-1", collect_cb, &c), -EINVAL);
	assert_int_equal(pagemig_parse_list("a", collect_cb, &c), -EINVAL);
	assert_int_equal(pagemig_parse_list("1,,2", collect_cb, &c), -EINVAL);
	assert_int_equal(pagemig_parse_list("1-", collect_cb, &c), -EINVAL);
	assert_int_equal(pagemig_parse_list("1 2", collect_cb, &c), -EINVAL);
	/* The callback's error stops the walk. */
	c.n = 0;
	assert_int_equal(pagemig_parse_list("0-100", collect_cb, &c), -E2BIG);
}

/* The lab's shape: node 0 (cpu 0), node 1 (cpu 1), node 2 memory only; 128 MiB blocks. */
static void test_topology(void **state)
{
	struct pagemig_topo t;

	put("devices/system/cpu/possible", "0-3\n");
	put("devices/system/memory/block_size_bytes", "8000000\n");
	put("devices/system/node/possible", "0-2\n");
	put("devices/system/node/node0/cpulist", "0\n");
	put("devices/system/node/node0/memory0", NULL);
	put("devices/system/node/node0/memory1", NULL);
	put("devices/system/node/node1/cpulist", "1\n");
	put("devices/system/node/node1/memory8", NULL);
	put("devices/system/node/node2/cpulist", "\n");
	put("devices/system/node/node2/memory16", NULL);
	put("devices/system/node/node2/memory17", NULL);
	put("devices/system/node/has_cpu", "0-1\n"); /* not a node directory: ignored */

	assert_int_equal(pagemig_topo_load(root, &t), 0);
	assert_int_equal(t.ncpus, 4);
	assert_int_equal(t.cpu_node[0], 0);
	assert_int_equal(t.cpu_node[1], 1);
	assert_int_equal(t.cpu_node[2], -1); /* possible, not present */
	assert_int_equal(t.nnodes, 3);
	assert_int_equal(t.nodes_with_cpus, 2);
	assert_int_equal(t.block_size, 0x8000000);
	/* 128 MiB = 32768 frames per block */
	assert_int_equal(pagemig_topo_pfn_node(&t, 0), 0);
	assert_int_equal(pagemig_topo_pfn_node(&t, 2 * 32768 - 1), 0);
	assert_int_equal(pagemig_topo_pfn_node(&t, 2 * 32768), -1); /* block 2: a hole */
	assert_int_equal(pagemig_topo_pfn_node(&t, 8 * 32768 + 5), 1);
	assert_int_equal(pagemig_topo_pfn_node(&t, 17 * 32768 + 32767), 2);
	assert_int_equal(pagemig_topo_pfn_node(&t, 1ull << 40), -1);
	pagemig_topo_free(&t);
}

/* No node directory (a kernel without NUMA): one node with every CPU, no block table. */
static void test_topology_no_numa(void **state)
{
	struct pagemig_topo t;

	put("devices/system/cpu/possible", "0-1\n");
	assert_int_equal(pagemig_topo_load(root, &t), 0);
	assert_int_equal(t.nnodes, 1);
	assert_int_equal(t.cpu_node[1], 0);
	assert_int_equal(pagemig_topo_pfn_node(&t, 0), -1);
	pagemig_topo_free(&t);

	put("devices/system/cpu/possible", "x\n");
	assert_int_equal(pagemig_topo_load(root, &t), -EINVAL);
}

static void intel_pmu(const char *pmu)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/type", pmu);
	put(rel, "4\n");
	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/events/mem-loads", pmu);
	put(rel, "event=0xcd,umask=0x1,ldlat=3\n");
	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/format/event", pmu);
	put(rel, "config:0-7\n");
	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/format/umask", pmu);
	put(rel, "config:8-15\n");
	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/format/ldlat", pmu);
	put(rel, "config1:0-15\n");
	snprintf(rel, sizeof(rel), "bus/event_source/devices/%s/format/split", pmu);
	put(rel, "config:0-3,32-35\n");
}

static void test_pmu_parse(void **state)
{
	struct perf_event_attr attr;
	char dir[300];

	intel_pmu("cpu");
	snprintf(dir, sizeof(dir), "%s/bus/event_source/devices/cpu/format", root);
	memset(&attr, 0, sizeof(attr));
	assert_int_equal(pagemig_pmu_parse_event(dir, "event=0xcd,umask=0x1,ldlat=3", &attr), 0);
	assert_int_equal(attr.config, 0x1cd);
	assert_int_equal(attr.config1, 3);
	/* A field split over two ranges: low bits first. */
	memset(&attr, 0, sizeof(attr));
	assert_int_equal(pagemig_pmu_parse_event(dir, "split=0x9f", &attr), 0);
	assert_int_equal(attr.config, 0xfull | (0x9ull << 32));
	/* A bare term is 1. */
	memset(&attr, 0, sizeof(attr));
	assert_int_equal(pagemig_pmu_parse_event(dir, "umask", &attr), 0);
	assert_int_equal(attr.config, 0x100);
	assert_int_equal(pagemig_pmu_parse_event(dir, "event=0x1cd", &attr), -ERANGE);
	assert_int_equal(pagemig_pmu_parse_event(dir, "nosuch=1", &attr), -ENOENT);
	assert_int_equal(pagemig_pmu_parse_event(dir, "event=", &attr), -EINVAL);
	assert_int_equal(pagemig_pmu_parse_event(dir, "../type=1", &attr), -EINVAL);
}

static void test_pmu_detect(void **state)
{
	struct perf_event_attr attr;
	char what[256];

	/* Nothing: the message the daemon prints once. */
	put("bus/event_source/devices/software/type", "1\n");
	assert_int_equal(pagemig_pmu_detect(root, 1000, &attr, what, sizeof(what)), -ENODEV);
	assert_non_null(strstr(what, "not available: no hardware PMU"));

	/* AMD */
	put("bus/event_source/devices/ibs_op/type", "11\n");
	assert_int_equal(pagemig_pmu_detect(root, 1000, &attr, what, sizeof(what)), 0);
	assert_int_equal(attr.type, 11);
	assert_int_equal(attr.sample_period, 1000);
	assert_true(attr.sample_type & PERF_SAMPLE_ADDR);
	assert_true(attr.exclude_kernel);
	assert_non_null(strstr(what, "ibs_op"));

	/* Intel (preferred when both exist) */
	intel_pmu("cpu_core");
	assert_int_equal(pagemig_pmu_detect(root, 10007, &attr, what, sizeof(what)), 0);
	assert_int_equal(attr.type, 4);
	assert_int_equal(attr.config, 0x1cd);
	assert_int_equal(attr.config1, 3);
	assert_int_equal(attr.precise_ip, 2);
	assert_true(attr.sample_type & PERF_SAMPLE_ADDR);
	assert_non_null(strstr(what, "cpu_core/mem-loads"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test_setup_teardown(test_topology, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topology_no_numa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmu_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmu_detect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
