// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hardware memory-access sampling: find an event whose samples carry the data address.
 *
 * Intel: the "mem-loads" event of the core PMU (PEBS load latency), described in sysfs as
 * "event=0xcd,umask=0x1,ldlat=3" with the bit positions in the PMU's format/ directory; the PMU
 * is "cpu", or "cpu_core" on hybrid parts. AMD: the ibs_op PMU (IBS op sampling). Virtual
 * machines without PMU passthrough have neither; the sampler then says so once and runs without.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler_internal.h"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return err;
}

/* Put value into the bits a format line names ("config1:0-15" or "config:0-7,32-35"), lowest
 * bits of value into the first range. */
static int apply_format(const char *fmt, uint64_t value, struct perf_event_attr *attr)
{
	const char *colon = strchr(fmt, ':');
	const char *p;
	__u64 *word;

	if (!colon)
		return -EINVAL;
	if (!strncmp(fmt, "config:", 7))
		word = &attr->config;
	else if (!strncmp(fmt, "config1:", 8))
		word = &attr->config1;
	else if (!strncmp(fmt, "config2:", 8))
		word = &attr->config2;
	else
		return -EINVAL;

	p = colon + 1;
	while (*p) {
		unsigned long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (hi < lo || hi > 63)
			return -EINVAL;
		for (unsigned long b = lo; b <= hi; b++) {
			if (value & 1)
				*word |= UINT64_C(1) << b;
			else
				*word &= ~(UINT64_C(1) << b);
			value >>= 1;
		}
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return value ? -ERANGE : 0; /* bits left over: the value does not fit */
}

int pagemig_pmu_parse_event(const char *fmt_dir, const char *desc, struct perf_event_attr *attr)
{
	char term[64], path[PATH_MAX], fmt[128];
	const char *p = desc;

	while (*p) {
		size_t len = strcspn(p, ",");
		uint64_t value = 1; /* a bare term ("any") means 1 */
		char *eq, *end;
		int err;

		if (!len || len >= sizeof(term))
			return -EINVAL;
		memcpy(term, p, len);
		term[len] = '\0';
		p += len + (p[len] == ',');

		eq = strchr(term, '=');
		if (eq) {
			*eq = '\0';
			errno = 0;
			value = strtoull(eq + 1, &end, 0);
			if (errno || *end || end == eq + 1)
				return -EINVAL;
		}
		if (strchr(term, '/') || !*term)
			return -EINVAL;
		snprintf(path, sizeof(path), "%s/%s", fmt_dir, term);
		err = read_line(path, fmt, sizeof(fmt));
		if (err)
			return err;
		err = apply_format(fmt, value, attr);
		if (err)
			return err;
	}
	return 0;
}

static void base_attr(struct perf_event_attr *attr, unsigned int type, unsigned int period)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = type;
	attr->sample_period = period;
	/* The address is what the BPF program reads; TID and the rest are for perf's own use. */
	attr->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_ADDR;
	attr->exclude_kernel = 1; /* user pages only: kernel addresses are not ours to place */
	attr->exclude_hv = 1;
	attr->disabled = 0;
}

static int read_type(const char *root, const char *pmu, unsigned int *type)
{
	char path[PATH_MAX], buf[32];
	int err;

	snprintf(path, sizeof(path), "%s/bus/event_source/devices/%s/type", root, pmu);
	err = read_line(path, buf, sizeof(buf));
	if (err)
		return err;
	*type = (unsigned int)strtoul(buf, NULL, 10);
	return 0;
}

int pagemig_pmu_detect(const char *root, unsigned int period, struct perf_event_attr *attr,
		       char *what, size_t len)
{
	static const char *const intel[] = {"cpu", "cpu_core"};
	char path[PATH_MAX], desc[256];
	unsigned int type;

	if (!root)
		root = "/sys";
	for (size_t i = 0; i < sizeof(intel) / sizeof(intel[0]); i++) {
		snprintf(path, sizeof(path), "%s/bus/event_source/devices/%s/events/mem-loads",
			 root, intel[i]);
		if (read_line(path, desc, sizeof(desc)) || read_type(root, intel[i], &type))
			continue;
		base_attr(attr, type, period);
		snprintf(path, sizeof(path), "%s/bus/event_source/devices/%s/format", root,
			 intel[i]);
		if (pagemig_pmu_parse_event(path, desc, attr))
			continue;
		attr->sample_type |= PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC;
		attr->precise_ip = 2; /* PEBS: the address of the sampled load itself */
		snprintf(what, len, "%s/mem-loads (%s), period %u", intel[i], desc, period);
		return 0;
	}
	if (!read_type(root, "ibs_op", &type)) {
		base_attr(attr, type, period);
		attr->sample_type |= PERF_SAMPLE_DATA_SRC;
		snprintf(what, len, "ibs_op, period %u", period);
		return 0;
	}
	snprintf(what, len,
		 "not available: no hardware PMU (no cpu/events/mem-loads and no ibs_op in "
		 "%s/bus/event_source/devices)",
		 root);
	return -ENODEV;
}
