// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <numaif.h>
#include <string.h>

#include "fake_kernel.h"

#define FK_PMD_PAGES 512

void fk_init(struct fake_kernel *fk, size_t npages, int nnodes)
{
	memset(fk, 0, sizeof(*fk));
	fk->npages = npages;
	fk->nnodes = nnodes;
	fk->alive = true;
	fk->pmd_visible = true;
	for (int n = 0; n < 8; n++)
		fk->capacity[n] = -1;
	for (size_t i = 0; i < npages; i++)
		fk->page[i] = (struct fk_page){.present = true, .mapped = true, .drift_to = -1};
}

void fk_folio(struct fake_kernel *fk, size_t first, size_t n, int id)
{
	for (size_t i = first; i < first + n && i < fk->npages; i++)
		fk->page[i].folio = id;
}

void *fk_addr(size_t i)
{
	return (void *)(FK_BASE + i * FK_PAGE);
}

/* Page index of an address, or -1 outside the model. */
static long index_of(const struct fake_kernel *fk, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (a < FK_BASE || a >= FK_BASE + fk->npages * FK_PAGE)
		return -1;
	return (long)((a - FK_BASE) / FK_PAGE);
}

/* First page and size of the folio holding page i. */
static void folio_of(const struct fake_kernel *fk, size_t i, size_t *first, size_t *n)
{
	size_t a = i, b = i + 1;

	if (fk->page[i].folio > 0) {
		while (a > 0 && fk->page[a - 1].folio == fk->page[i].folio)
			a--;
		while (b < fk->npages && fk->page[b].folio == fk->page[i].folio)
			b++;
	}
	*first = a;
	*n = b - a;
}

static int lookup(const struct fake_kernel *fk, const void *addr, long *ret_idx)
{
	long i = index_of(fk, addr);

	*ret_idx = i;
	if (i < 0 || !fk->page[i].mapped)
		return -EFAULT;
	if (!fk->page[i].present)
		return -ENOENT;
	return 0;
}

struct batch {
	size_t first[FK_MAX_PAGES]; /* folios queued */
	size_t n;
	bool isolated[FK_MAX_PAGES]; /* by first page of folio */
};

static struct batch batch;

/* migrate_pages() for the queued folios: failed folio count, or -ENOMEM. */
static long migrate(struct fake_kernel *fk, int node)
{
	long failed = 0;

	fk->flushes++;
	for (size_t b = 0; b < batch.n; b++) {
		size_t first = batch.first[b], n, j;
		bool pinned = false;

		folio_of(fk, first, &first, &n);
		batch.isolated[first] = false;
		for (j = first; j < first + n; j++)
			if (fk->page[j].pinned > 0) {
				fk->page[j].pinned--;
				pinned = true;
			}
		if (pinned) {
			failed++;
			continue;
		}
		if (fk->capacity[node] >= 0 && fk->capacity[node] < (long)n) {
			for (size_t c = b + 1; c < batch.n; c++)
				batch.isolated[batch.first[c]] = false;
			batch.n = 0;
			return -ENOMEM;
		}
		for (j = first; j < first + n; j++) {
			struct fk_page *p = &fk->page[j];

			if (fk->capacity[node] >= 0)
				fk->capacity[node]--;
			if (fk->capacity[p->node] >= 0)
				fk->capacity[p->node]++;
			p->node = node;
			if (p->drift_to >= 0) {
				p->node = p->drift_to;
				p->drift_to = -1;
			}
		}
	}
	batch.n = 0;
	return failed;
}

/* move_pages_and_store_status() */
static long flush(struct fake_kernel *fk, int node, int *status, size_t start, size_t i, size_t nr)
{
	long err;

	if (!batch.n)
		return 0;
	err = migrate(fk, node);
	if (err > 0)
		return err + (long)(nr - i);
	if (err < 0)
		return err;
	for (size_t j = start; j < i; j++)
		status[j] = node;
	return 0;
}

static long fk_query(struct fake_kernel *fk, unsigned long count, void **pages, int *status)
{
	fk->query_calls++;
	fk->query_entries += (long)count;
	for (unsigned long i = 0; i < count; i++) {
		long idx;
		int err = lookup(fk, pages[i], &idx);

		status[i] = err ? err : fk->page[idx].node;
	}
	return 0;
}

static long fk_move_pages(void *ctx, pid_t pid, unsigned long nr, void **pages, const int *nodes,
			  int *status, int flags)
{
	struct fake_kernel *fk = ctx;
	int current = -1;
	size_t start = 0, i;
	long err = 0, err1;

	if (!fk->alive)
		return -ESRCH;
	if (!nodes)
		return fk_query(fk, nr, pages, status);
	fk->move_calls++;
	if (fk->eintr_calls > 0) {
		fk->eintr_calls--;
		return -EINTR;
	}
	if (fk->exit_after_calls > 0 && fk->move_calls > fk->exit_after_calls) {
		fk->alive = false;
		return -ESRCH;
	}
	fk->entries += (long)nr;
	fk->now += nr * fk->ns_per_entry + fk->ns_per_call;
	fk->last_entries = (long)nr;
	if (fk->move_calls <= 64)
		fk->sizes[fk->move_calls - 1] = (long)nr;
	if ((long)nr > fk->max_entries)
		fk->max_entries = (long)nr;
	batch.n = 0;

	for (i = 0; i < nr; i++) {
		int node = nodes[i];
		long idx;
		size_t first, n;

		if (node < 0 || node >= fk->nnodes) {
			err = -ENODEV;
			goto out_flush;
		}
		if (current < 0) {
			current = node;
			start = i;
		} else if (node != current) {
			err = flush(fk, current, status, start, i, nr);
			if (err)
				return err;
			start = i;
			current = node;
		}
		err = lookup(fk, pages[i], &idx);
		if (!err) {
			struct fk_page *p = &fk->page[idx];

			folio_of(fk, (size_t)idx, &first, &n);
			if (batch.isolated[first])
				err = fk->tail_eacces ? -EACCES : -EBUSY;
			else if (p->node == node)
				err = 0;
			else if (p->shared && !(flags & MPOL_MF_MOVE_ALL))
				err = -EACCES;
			else if (p->busy > 0) {
				p->busy--;
				err = -EBUSY;
			} else {
				batch.isolated[first] = true;
				batch.first[batch.n++] = first;
				continue; /* queued */
			}
		}
		status[i] = err ? (int)err : current;
		err = flush(fk, current, status, start, i, nr);
		if (err) {
			if (err > 0)
				err--;
			return err;
		}
		current = -1;
	}
out_flush:
	err1 = current >= 0 ? flush(fk, current, status, start, i, nr) : 0;
	if (err >= 0)
		err = err1;
	return err;
}

static int fk_pidfd_open(void *ctx, pid_t pid)
{
	struct fake_kernel *fk = ctx;

	if (fk->alive)
		return 100;
	return fk->reused ? 101 : -ESRCH;
}

static void fk_pidfd_close(void *ctx, int fd)
{
}

static int fk_pidfd_alive(void *ctx, int fd)
{
	struct fake_kernel *fk = ctx;

	return fd == 100 && fk->alive ? 0 : -ESRCH;
}

static int fk_pmd_folio(void *ctx, struct pagemig_probe *probe, uintptr_t addr)
{
	struct fake_kernel *fk = ctx;
	long i = index_of(fk, (void *)addr);
	size_t first, n;

	if (!fk->pmd_visible)
		return -EPERM;
	if (i < 0 || fk->page[i].folio <= 0)
		return 0;
	folio_of(fk, (size_t)i, &first, &n);
	return first == (size_t)i && n == FK_PMD_PAGES;
}

/* Frames tell where a present page is; pages not present or not mapped have none. */
static int fk_frame_nodes(void *ctx, struct pagemig_probe *probe, size_t count,
			  void *const *pages, int *nodes)
{
	struct fake_kernel *fk = ctx;

	if (!fk->frames_visible)
		return -EPERM;
	fk->frame_reads++;
	for (size_t j = 0; j < count; j++) {
		long i = index_of(fk, pages[j]);

		nodes[j] = i < 0 || !fk->page[i].mapped || !fk->page[i].present ? PAGEMIG_SENTINEL
										 : fk->page[i].node;
	}
	return 0;
}

static void fk_sleep_us(void *ctx, unsigned int us)
{
	struct fake_kernel *fk = ctx;

	fk->sleeps++;
	fk->slept_us += us;
	fk->now += (uint64_t)us * 1000;
}

static uint64_t fk_now_ns(void *ctx)
{
	struct fake_kernel *fk = ctx;

	return fk->now += 1000;
}

static struct pagemig_sys fk_sys = {
	.move_pages = fk_move_pages,
	.pidfd_open = fk_pidfd_open,
	.pidfd_close = fk_pidfd_close,
	.pidfd_alive = fk_pidfd_alive,
	.pmd_folio = fk_pmd_folio,
	.frame_nodes = fk_frame_nodes,
	.sleep_us = fk_sleep_us,
	.now_ns = fk_now_ns,
};

void fk_install(struct fake_kernel *fk)
{
	fk_sys.ctx = fk;
	memset(&batch, 0, sizeof(batch));
	pagemig__set_sys(&fk_sys);
}
