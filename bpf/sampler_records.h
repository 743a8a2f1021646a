/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Types shared by the sampler's BPF programs (sampler_access, sampler_sched, sampler_audit) and
 * their loader in daemon/sampler.c.
 *
 * Three objects, loaded independently so that one the kernel refuses does not take the others
 * with it:
 *   sampler_access  which node accesses which page: page faults and hardware samples, both
 *                   written as (tgid, page, node, weight, source) records to one ring buffer
 *                   (fault records staged per CPU and written in batches);
 *   sampler_sched   where processes run: on-CPU time per (tgid, node) from sched_switch;
 *   sampler_audit   what movers did: migrate:* events into a ring buffer (per page, for the
 *                   movers being audited) and pages by migration reason (for everyone).
 *
 * Layout rules: fixed-size fields only, explicit padding (zeroed) in anything used as a map key,
 * no pointers. User space and BPF must agree byte for byte.
 */
#ifndef PAGEMIG_BPF_SAMPLER_RECORDS_H
#define PAGEMIG_BPF_SAMPLER_RECORDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Base page size the programs assume for aligning addresses (x86-64, arm64 with 4K pages). */
#define PAGEMIG_SAMPLER_PAGE_SHIFT 12

/* Node of an access whose CPU has no entry in cpu_node. */
#define PAGEMIG_SAMPLER_NODE_UNKNOWN 0xffff

/* Default capacities; the loader overrides them with bpf_map__set_max_entries() before load. */
#define PAGEMIG_SAMPLER_DEF_PAGES 524288 /* (tgid, page, node, source) entries per interval */
#define PAGEMIG_SAMPLER_DEF_ACCESS_RING                                          \
	(8u << 20)		       /* access ring buffer bytes (power of 2): \
					24.5 bytes per fault sample (batches of 16) */
#define PAGEMIG_SAMPLER_DEF_TGIDS 1024 /* managed processes */
/* The managed-process bitmap covers every possible tgid (PID_MAX_LIMIT on 64-bit, 4 Mi): 64 Ki
 * words, 512 KiB. */
#define PAGEMIG_SAMPLER_TGID_LIMIT  (1u << 22)
#define PAGEMIG_SAMPLER_TGID_WORDS  (PAGEMIG_SAMPLER_TGID_LIMIT / 64)
#define PAGEMIG_SAMPLER_DEF_CPUS    1	 /* cpu_node entries: set to the number of possible CPUs */
#define PAGEMIG_SAMPLER_DEF_ONCPU   4096 /* (tgid, node) on-CPU entries */
#define PAGEMIG_SAMPLER_DEF_MOVERS  64	 /* tgids whose migrations are audited page by page */
#define PAGEMIG_SAMPLER_DEF_RINGBUF (1u << 20) /* audit ring buffer bytes (power of 2) */

/* ---------------------------------------------------------------------------------------------
 * Access samples: (tgid, page, accessing node, weight, source)
 * ------------------------------------------------------------------------------------------- */

/* Where an access sample came from. */
enum pagemig_sample_source {
	PAGEMIG_SAMPLE_FAULT = 0, /* exceptions:page_fault_user: first touch, soft-dirty write
				     faults, NUMA hinting faults */
	PAGEMIG_SAMPLE_PMU = 1,	  /* perf_event sample with a data address (PEBS, IBS) */
	PAGEMIG_SAMPLE__COUNT
};

/*
 * One access sample. User space adds them up per (tgid, page, node, source) at every drain:
 * per-sample aggregation in a kernel hash map costs a page fault about 25% more than a
 * ring-buffer record (cache misses on the map's preallocated elements; measured in
 * bench/sampler), and pages fault about once per interval anyway, so there is little to
 * aggregate in the kernel.
 *
 * A record in the access ring buffer is an array of 1 to PAGEMIG_ACCESS_BATCH of these, in the
 * order they were taken on one CPU; their count is the record's length / sizeof(struct
 * pagemig_access_record). Fault samples come PAGEMIG_ACCESS_BATCH at a time from on_fault, or
 * fewer from the flush program; PMU samples one at a time.
 */
struct pagemig_access_record {
	__u64 page;   /* page-aligned user virtual address */
	__u32 tgid;   /* process (initial PID namespace) */
	__u32 weight; /* 1 per fault; the sample period per PMU sample (it stands for that many
			 events) */
	__u16 node;   /* node of the CPU that made the access, or PAGEMIG_SAMPLER_NODE_UNKNOWN */
	__u8 source;  /* enum pagemig_sample_source */
	__u8 write;   /* a write fault (x86 error code bit 1); 0 for PMU samples */
	__u8 present; /* the fault found the page mapped (x86 error code bit 0): a write fault
			 after soft-dirty clearing, copy-on-write. 0 for a first touch (the kernel
			 allocates the page there and then), a swap-in, a NUMA hinting fault, and
			 for PMU samples */
	__u8 pad[3];
};

/*
 * Fault samples on_fault collects on one CPU before it writes them to the ring in one record: the
 * ring buffer's reserve (a spinlock taken with interrupts off) and submit are then paid once per
 * batch instead of once per fault. A power of two (the index is masked).
 */
#define PAGEMIG_ACCESS_BATCH 16

/*
 * The per-CPU staging area of sampler_access (one PERCPU_ARRAY entry). on_fault appends to r[]
 * with busy set; when r[] is full it writes r[] to the ring and starts over. What is staged
 * below a full batch is moved to the ring by the flush program, which user space runs on every
 * CPU with staged samples before it reads the ring (pagemig_sampler_drain).
 */
struct pagemig_access_stage {
	__u32 n;    /* samples staged in r[], < PAGEMIG_ACCESS_BATCH */
	__u32 busy; /* on_fault is changing this area now: the flush must not touch it */
	struct pagemig_access_record r[PAGEMIG_ACCESS_BATCH];
};

/* What the flush program returns when the CPU's staging area was busy (nothing flushed; try
 * again); otherwise it returns the samples it moved to the ring. */
#define PAGEMIG_ACCESS_FLUSH_BUSY 0xffffffffu

/* Key and value of the per-interval aggregate user space builds from the records. */
struct pagemig_access_key {
	__u64 page;
	__u32 tgid;
	__u16 node;
	__u8 source;
	__u8 pad; /* zero */
};

struct pagemig_access_val {
	__u64 weight; /* sum of the weights of the samples that count as accesses (not of
			 allocations: see pagemig_access_table_add) */
	__u32 events; /* samples, allocations included */
	__u32 writes; /* of which writes */
	__u32 allocs; /* of which allocations: first-touch faults, not counted in weight */
	__u32 pad;
};

/* Per-CPU counters of sampler_access (one PERCPU_ARRAY entry; user space sums the CPUs). Only
 * the unusual is counted here, off the common path; user space counts the records it reads. */
struct pagemig_access_stats {
	__u64 ring_full;  /* samples lost: the access ring buffer was full */
	__u64 no_node;	  /* samples from a CPU missing from cpu_node */
	__u64 no_addr;	  /* PMU samples without a data address */
	__u64 wakeups;	  /* ring records that woke user space (the ring was past its threshold) */
	__u64 flush_busy; /* flushes that found the staging area busy and left it alone */
};

/* ---------------------------------------------------------------------------------------------
 * On-CPU time
 * ------------------------------------------------------------------------------------------- */

struct pagemig_oncpu_key {
	__u32 tgid;
	__u32 node; /* node of the CPU, or PAGEMIG_SAMPLER_NODE_UNKNOWN */
};

/* Cumulative since the tgid became managed; user space takes differences. */
struct pagemig_oncpu_val {
	__u64 ns;     /* CPU time on CPUs of the node (the scheduler's sum_exec_runtime), credited
			 when a slice ends */
	__u64 slices; /* slices (switch-in to switch-out) credited */
};

/* Per-CPU counters of sampler_sched. */
struct pagemig_sched_stats {
	__u64 switches;	     /* sched_switch events seen */
	__u64 slices;	     /* slices of managed processes credited */
	__u64 update_failed; /* slices lost: the oncpu map was full */
	__u64 no_node;	     /* slices on a CPU missing from cpu_node */
};

/* ---------------------------------------------------------------------------------------------
 * Migration audit
 * ------------------------------------------------------------------------------------------- */

/*
 * Why the kernel migrated: the kernel's enum migrate_reason, renumbered into values that do not
 * change between kernels (the BPF side maps them with CO-RE enum relocations).
 */
enum pagemig_mig_reason {
	PAGEMIG_MR_COMPACTION = 0,
	PAGEMIG_MR_MEMORY_FAILURE,
	PAGEMIG_MR_MEMORY_HOTPLUG,
	PAGEMIG_MR_SYSCALL, /* move_pages(2), migrate_pages(2), cpuset moves */
	PAGEMIG_MR_MEMPOLICY_MBIND,
	PAGEMIG_MR_NUMA_MISPLACED, /* kernel NUMA balancing */
	PAGEMIG_MR_CONTIG_RANGE,
	PAGEMIG_MR_LONGTERM_PIN,
	PAGEMIG_MR_DEMOTION,
	PAGEMIG_MR_DAMON, /* 6.12 and later */
	PAGEMIG_MR_OTHER, /* a reason this build does not know */
	PAGEMIG_MR__COUNT
};

/* The kernel's enum migrate_mode, renumbered the same way. */
enum pagemig_mig_mode {
	PAGEMIG_MM_ASYNC = 0,
	PAGEMIG_MM_SYNC_LIGHT,
	PAGEMIG_MM_SYNC,
	PAGEMIG_MM_SYNC_NO_COPY, /* up to 6.1 */
	PAGEMIG_MM_OTHER,
};

enum pagemig_mig_event_type {
	PAGEMIG_MIG_START = 1,	/* migrate:mm_migrate_pages_start: a migrate_pages() call begins */
	PAGEMIG_MIG_END,	/* migrate:mm_migrate_pages: it ended, with page counts */
	PAGEMIG_MIG_SET_PTE,	/* migrate:set_migration_pte: documented step 4 for one mapping */
	PAGEMIG_MIG_REMOVE_PTE, /* migrate:remove_migration_pte: step 16 (or rollback) */
	PAGEMIG_MIG_SET_PMD,	/* thp:set_migration_pmd: step 4 for a PMD-mapped THP */
	PAGEMIG_MIG_REMOVE_PMD, /* thp:remove_migration_pmd: step 16 for a PMD-mapped THP */
	PAGEMIG_MIG_STEPS,	/* a record of staged SET/REMOVE steps (struct pagemig_mig_steps) */
};

/* One ring-buffer record. The task fields are the migrating task (current), not the owner of
 * the page: for move_pages(2) the caller, for NUMA balancing the faulting task. */
struct pagemig_mig_event {
	__u64 ts;    /* bpf_ktime_get_ns() */
	__u32 tid;   /* calling thread */
	__u32 tgid;  /* calling process */
	__u8 type;   /* enum pagemig_mig_event_type */
	__u8 reason; /* START, END: enum pagemig_mig_reason */
	__u8 mode;   /* START, END: enum pagemig_mig_mode */
	__s8 order;  /* *_PTE: folio order the kernel reported; *_PMD: -1 (the PMD order) */
	__u32 cpu;
	union {
		struct {
			__u64 addr;  /* user virtual address of the mapping */
			__u64 entry; /* the pte or pmd value: SET a migration entry (not decoded:
					swap format, inverted on x86), REMOVE the new present
					entry, whose PFN says which frame the page ended on */
		} pte;
		struct {
			__u64 succeeded; /* base pages migrated */
			__u64 failed;	 /* base pages that failed */
			__u64 thp_succeeded;
			__u64 thp_failed;
		} end;
	};
};

/*
 * Steps are staged per CPU and written to the ring PAGEMIG_AUDIT_BATCH at a time, or fewer when
 * the thread running on that CPU changes (sched_switch) or writes a START or END record: a
 * record of its own per step cost every page moved two ring-buffer reservations, ~10-25% of
 * the move itself under emulation (bench/README.md, "Beside pagemigd").
 */
#define PAGEMIG_AUDIT_BATCH 16

/* One SET or REMOVE step in a PAGEMIG_MIG_STEPS record: what struct pagemig_mig_event's pte
 * part, type and order say of a step written on its own. */
struct pagemig_mig_step {
	__u64 addr;
	__u64 entry;
	__u8 type; /* PAGEMIG_MIG_SET_PTE ... PAGEMIG_MIG_REMOVE_PMD */
	__s8 order;
	__u8 pad[6];
};

/*
 * A ring-buffer record of 1 to PAGEMIG_AUDIT_BATCH steps of one thread, in the order they
 * happened. Its head has struct pagemig_mig_event's layout up to cpu, with type
 * PAGEMIG_MIG_STEPS; the record's length is offsetof(struct pagemig_mig_steps, s) + n steps.
 * Also the per-CPU staging area of sampler_audit. Every step of a thread is in the ring before
 * anything the thread does later on another CPU: a thread leaves a CPU through sched_switch,
 * which writes what it staged there.
 */
struct pagemig_mig_steps {
	__u64 ts;   /* bpf_ktime_get_ns() when the record was written */
	__u32 tid;  /* the thread whose steps these are */
	__u32 tgid;
	__u8 type;  /* PAGEMIG_MIG_STEPS */
	__u8 n;	    /* steps in s[] */
	__u8 pad[2];
	__u32 cpu;
	struct pagemig_mig_step s[PAGEMIG_AUDIT_BATCH];
};

/* Pages by reason, from migrate:mm_migrate_pages (every mover, audited or not). Per-CPU array
 * indexed by enum pagemig_mig_reason; cumulative. */
struct pagemig_mig_counts {
	__u64 calls; /* migrate_pages() calls that ended */
	__u64 succeeded;
	__u64 failed;
	__u64 thp_succeeded;
	__u64 thp_failed;
	__u64 thp_split;
};

/* Per-CPU counters of sampler_audit. */
struct pagemig_audit_stats {
	__u64 events;  /* events written to the ring buffer (a step record counts its steps) */
	__u64 dropped; /* events lost: the ring buffer was full */
};

#endif /* PAGEMIG_BPF_SAMPLER_RECORDS_H */
