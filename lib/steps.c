// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The documented page-migration steps and the classification of every per-page answer of
 * move_pages(2) onto them. The table follows Documentation/vm/page_migration as changed in v4.4
 * (new page prepped only after the last back-out check, step 8); where today's kernels back out
 * at a point the document does not mark (B1-B3 trylocks, writeback in async mode), the row says
 * so in may_back_out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define ROW(s, l, n, nt, nm, tx, bo, doc) \
	[s] = {.step = s,                 \
	       .label = l,                \
	       .number = n,               \
	       .number_today = nt,        \
	       .name = nm,                \
	       .text = tx,                \
	       .may_back_out = bo,        \
	       .documented = doc}

static const struct pagemig_step_info step_table[PAGEMIG_STEP__COUNT] = {
	ROW(PAGEMIG_STEP_NONE, "-", 0, 0, "none", "nothing backed out", false, false),
	ROW(PAGEMIG_STEP_PRE, "pre", 0, 0, "lookup",
	    "the call is validated and the page looked up before it is isolated", true, false),
	ROW(PAGEMIG_STEP_A1_ISOLATE, "A1", 1, 1, "isolate from LRU",
	    "the page is taken off the LRU so that nothing else reclaims or moves it", true, true),
	ROW(PAGEMIG_STEP_A2_ALLOC, "A2", 2, 2, "allocate new page",
	    "a new page is allocated on the target node", true, true),
	ROW(PAGEMIG_STEP_A3_CALL, "A3", 3, 3, "call migrate_pages()",
	    "migrate_pages() is called with the isolated pages", false, true),
	ROW(PAGEMIG_STEP_B1_LOCK_OLD, "B1", 1, 1, "lock old page", "the old page is locked", true,
	    true),
	ROW(PAGEMIG_STEP_B2_WRITEBACK, "B2", 2, 2, "writeback complete",
	    "writeback of the old page is waited for", true, true),
	ROW(PAGEMIG_STEP_B3_LOCK_NEW, "B3", 3, 3, "lock new page",
	    "the new, not yet uptodate page is locked", true, true),
	ROW(PAGEMIG_STEP_B4_UNMAP, "B4", 4, 4, "migration entries",
	    "page table entries become migration entries; back out if the page stays mapped", true,
	    true),
	ROW(PAGEMIG_STEP_B5_TREE_LOCK, "B5", 5, 5, "tree lock",
	    "the mapping's radix tree (i_pages) lock is taken", false, true),
	ROW(PAGEMIG_STEP_B6_REFCOUNT, "B6", 6, 6, "refcount check",
	    "back out if references other than the migration's own remain", true, true),
	ROW(PAGEMIG_STEP_B7_TREE_CHECK, "B7", 7, 7, "tree check",
	    "back out if the radix tree no longer points to the old page", true, true),
	ROW(PAGEMIG_STEP_B8_PREP_NEW, "B8", 8, 8, "prep new page",
	    "the new page gets the old page's index, mapping and state; no turning back", false,
	    true),
	ROW(PAGEMIG_STEP_B9_TREE_NEW, "B9", 9, 9, "tree to new page",
	    "the radix tree is changed to point to the new page", false, true),
	ROW(PAGEMIG_STEP_B10_REFS, "B10", 10, 10, "move references",
	    "the old page's tree reference is dropped and the new page's taken", false, true),
	ROW(PAGEMIG_STEP_B11_TREE_UNLOCK, "B11", 11, 11, "tree unlock",
	    "the tree lock is dropped; lookups now wait on the locked new page", false, true),
	ROW(PAGEMIG_STEP_B12_COPY, "B12", 12, 12, "copy contents",
	    "the page contents are copied to the new page", false, true),
	ROW(PAGEMIG_STEP_B13_FLAGS, "B13", 13, 13, "copy flags",
	    "the remaining page flags are copied to the new page", false, true),
	ROW(PAGEMIG_STEP_B14_CLEAR_OLD, "B14", 14, 14, "clear old flags",
	    "the old page's flags are cleared", false, true),
	ROW(PAGEMIG_STEP_B15_WRITEBACK, "B15", 15, 15, "trigger writeback",
	    "writeback queued on the new page is started", false, true),
	ROW(PAGEMIG_STEP_B16_REMAP, "B16", 16, 16, "real entries restored",
	    "migration entries are replaced by real page table entries", false, true),
	ROW(PAGEMIG_STEP_B19_UNLOCK, "B19", 19, 17, "unlock pages",
	    "old and new page are unlocked; waiters fault again and find the new page", false,
	    true),
	ROW(PAGEMIG_STEP_B20_LRU, "B20", 20, 18, "new page to LRU",
	    "the new page is put on the LRU", false, true),
	ROW(PAGEMIG_STEP_B1_B7, "B1-B7", 0, 0, "in migrate_pages()",
	    "one of the back-out points B1-B7 (locks, writeback, unmap, refcount, tree); "
	    "Linux >= 4.17 does not say which",
	    true, false),
	ROW(PAGEMIG_STEP_VERIFY, "verify", 0, 0, "verification",
	    "after the move the kernel places the page on another node than it reported", true,
	    false),
};

const struct pagemig_step_info *pagemig_steps(size_t *count)
{
	if (count)
		*count = PAGEMIG_STEP__COUNT;
	return step_table;
}

const struct pagemig_step_info *pagemig_step_info(enum pagemig_step step)
{
	if ((unsigned int)step >= PAGEMIG_STEP__COUNT)
		return NULL;
	return &step_table[step];
}

static const char *const outcome_names[PAGEMIG_OUT__COUNT] = {
	[PAGEMIG_OUT_MOVED] = "moved",
	[PAGEMIG_OUT_ALREADY] = "already",
	[PAGEMIG_OUT_MOVED_FOLIO] = "moved_with_folio",
	[PAGEMIG_OUT_NOT_MAPPED] = "not_mapped",
	[PAGEMIG_OUT_NOT_PRESENT] = "not_present",
	[PAGEMIG_OUT_SHARED] = "shared",
	[PAGEMIG_OUT_BUSY] = "busy",
	[PAGEMIG_OUT_NO_MEMORY] = "no_memory",
	[PAGEMIG_OUT_MIGRATE_FAILED] = "migrate_failed",
	[PAGEMIG_OUT_IO] = "io_error",
	[PAGEMIG_OUT_WRONG_NODE] = "wrong_node",
	[PAGEMIG_OUT_FOLIO_MIXED] = "folio_mixed_targets",
	[PAGEMIG_OUT_NOT_ATTEMPTED] = "not_attempted",
};

/* Why a page ended with an outcome, completing "backed out at step X, <name>: <why>". */
static const char *const outcome_why[PAGEMIG_OUT__COUNT] = {
	[PAGEMIG_OUT_MOVED] = "moved",
	[PAGEMIG_OUT_ALREADY] = "already on the target node",
	[PAGEMIG_OUT_MOVED_FOLIO] = "refused by the kernel, but moved with its huge folio",
	[PAGEMIG_OUT_NOT_MAPPED] = "not mapped, the zero page, or in a mapping that cannot migrate",
	[PAGEMIG_OUT_NOT_PRESENT] = "page not present (never touched or swapped out)",
	[PAGEMIG_OUT_SHARED] = "mapped by several processes and PAGEMIG_MOVE_ALL not given",
	[PAGEMIG_OUT_BUSY] = "page could not be isolated (already isolated or not on the LRU)",
	[PAGEMIG_OUT_NO_MEMORY] = "no free memory on the target node",
	[PAGEMIG_OUT_MIGRATE_FAILED] = "page still locked, mapped or referenced",
	[PAGEMIG_OUT_IO] = "dirty page could not be written back",
	[PAGEMIG_OUT_WRONG_NODE] = "page is not on the node the kernel reported",
	[PAGEMIG_OUT_FOLIO_MIXED] =
		"part of a huge folio whose pages were asked onto different nodes",
	[PAGEMIG_OUT_NOT_ATTEMPTED] = "not reached: the call failed as a whole",
};

const char *pagemig_outcome_name(enum pagemig_outcome outcome)
{
	if ((unsigned int)outcome >= PAGEMIG_OUT__COUNT)
		return "?";
	return outcome_names[outcome];
}

int pagemig__outcome_errno(enum pagemig_outcome outcome)
{
	switch (outcome) {
	case PAGEMIG_OUT_NOT_MAPPED:
		return -EFAULT;
	case PAGEMIG_OUT_NOT_PRESENT:
		return -ENOENT;
	case PAGEMIG_OUT_SHARED:
		return -EACCES;
	case PAGEMIG_OUT_BUSY:
		return -EBUSY;
	case PAGEMIG_OUT_NO_MEMORY:
		return -ENOMEM;
	case PAGEMIG_OUT_MIGRATE_FAILED:
		return -EAGAIN;
	case PAGEMIG_OUT_IO:
		return -EIO;
	case PAGEMIG_OUT_WRONG_NODE:
		return -EXDEV;
	case PAGEMIG_OUT_FOLIO_MIXED:
		return -ENOTRECOVERABLE;
	case PAGEMIG_OUT_NOT_ATTEMPTED:
		return -ECANCELED;
	default:
		return 0;
	}
}

static struct pagemig_class make_class(enum pagemig_outcome outcome, enum pagemig_step step,
				       bool transient)
{
	return (struct pagemig_class){
		.outcome = outcome,
		.step = step,
		.transient = transient,
		.success = step == PAGEMIG_STEP_NONE,
	};
}

/*
 * Errnos the kernel writes into status[]. Since Linux 4.17 only the lookup and isolation phase
 * writes errnos (-EFAULT, -ENOENT, -EACCES, -EBUSY); older kernels also wrote what
 * migrate_pages() returned per page (-EAGAIN, -EBUSY, -EIO, -EINVAL, -ENOMEM).
 */
struct pagemig_class pagemig_classify_status(int status, int target)
{
	if (status >= 0) {
		if (status == target)
			return make_class(PAGEMIG_OUT_MOVED, PAGEMIG_STEP_NONE, false);
		return make_class(PAGEMIG_OUT_WRONG_NODE, PAGEMIG_STEP_VERIFY, true);
	}

	switch (-status) {
	case EFAULT: /* no VMA, !vma_migratable, zero page, or a PTE without struct page */
		return make_class(PAGEMIG_OUT_NOT_MAPPED, PAGEMIG_STEP_PRE, false);
	case ENOENT: /* nothing mapped there (or a zone-device page) */
		return make_class(PAGEMIG_OUT_NOT_PRESENT, PAGEMIG_STEP_PRE, false);
	case EACCES: /* mapped by several processes without MPOL_MF_MOVE_ALL */
		return make_class(PAGEMIG_OUT_SHARED, PAGEMIG_STEP_PRE, false);
	case EBUSY: /* folio_isolate_lru() failed; on < 4.17 also writeback in async mode */
		return make_class(PAGEMIG_OUT_BUSY, PAGEMIG_STEP_A1_ISOLATE, true);
	case EAGAIN: /* < 4.17: still mapped (B4) or referenced (B6) after ten passes */
		return make_class(PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B6_REFCOUNT, true);
	case ENOMEM: /* < 4.17: the allocator of step A2 found no page on the target */
		return make_class(PAGEMIG_OUT_NO_MEMORY, PAGEMIG_STEP_A2_ALLOC, false);
	case EIO:    /* < 4.17: writing back a dirty page failed */
	case EINVAL: /* < 4.17: dirty page, the filesystem cannot write it back */
		return make_class(PAGEMIG_OUT_IO, PAGEMIG_STEP_B2_WRITEBACK, false);
	case EHWPOISON: /* machine check while copying */
		return make_class(PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B12_COPY, false);
	default:
		return make_class(PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B1_B7, false);
	}
}

struct pagemig_class pagemig_classify_unwritten(void)
{
	return make_class(PAGEMIG_OUT_MIGRATE_FAILED, PAGEMIG_STEP_B1_B7, true);
}

struct pagemig_class pagemig_classify_call_error(int err)
{
	if (err == ENOMEM)
		return make_class(PAGEMIG_OUT_NO_MEMORY, PAGEMIG_STEP_A2_ALLOC, false);
	return make_class(PAGEMIG_OUT_NOT_ATTEMPTED, PAGEMIG_STEP_PRE, false);
}

static int explain_final(char *buf, size_t len, int final_status, int target)
{
	if (final_status == target)
		return snprintf(buf, len, "moved");
	if (final_status >= 0)
		return snprintf(buf, len, "still on node %d", final_status);
	return snprintf(buf, len, "gave up (%s)", strerror(-final_status));
}

int pagemig_explain(char *buf, size_t len, const struct pagemig_class *first, unsigned int retries,
		    int final_status, int target)
{
	const struct pagemig_step_info *info;
	char tail[96];

	if (!buf)
		len = 0;
	if (!first || (unsigned int)first->outcome >= PAGEMIG_OUT__COUNT ||
	    !(info = pagemig_step_info(first->step)))
		return snprintf(buf, len, "unknown outcome");

	explain_final(tail, sizeof(tail), final_status, target);
	if (first->success && final_status == target)
		return snprintf(buf, len, "%s", outcome_why[first->outcome]);
	if (first->success)
		return snprintf(buf, len, "%s, then %s", outcome_why[first->outcome], tail);
	if (retries == 0)
		return snprintf(buf, len, "backed out at step %s, %s: %s; %s", info->label,
				info->name, outcome_why[first->outcome], tail);
	return snprintf(buf, len, "backed out at step %s, %s: %s; retried %u\u00d7; %s",
			info->label, info->name, outcome_why[first->outcome], retries, tail);
}
