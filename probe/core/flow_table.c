/* SPDX-License-Identifier: BSD-3-Clause */
/* flow_table.c - bounded flow pool, bucketized hash index and LRU lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flow_table.h"

/*
 * Zeroed memory for a large array, mapped rather than touched: pages appear as
 * they are used, as transparent huge pages where the kernel allows (a random
 * walk over a 12 MiB index otherwise takes thousands of 4 KiB faults).
 */
static void *table_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void table_release(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

_Static_assert(sizeof(struct ep_flow) == 128, "a flow record is two cache lines, index included");

int ep_flow_table_new(uint32_t max_flows, struct ep_flow_table **out)
{
	struct ep_flow_table *t;

	*out = NULL;
	if (max_flows < 1 || max_flows > (1u << 30))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->capacity = max_flows;
	t->flows = table_alloc((size_t)max_flows * sizeof(struct ep_flow));
	if (!t->flows) {
		free(t);
		return -ENOMEM;
	}
	t->free_head = EP_FLOW_NONE;
	t->fresh = 0;
	t->nchains = 1;
	t->mask_lo = 0;
	t->mask_hi = 1;
	t->head[0] = t->head[1] = t->tail[0] = t->tail[1] = EP_FLOW_NONE;
	*out = t;
	return 0;
}

void ep_flow_table_free(struct ep_flow_table *t)
{
	if (!t)
		return;
	table_release(t->flows, (size_t)t->capacity * sizeof(struct ep_flow));
	free(t);
}

static void list_unlink(struct ep_flow_table *t, struct ep_flow *f)
{
	uint32_t i = (uint32_t)(f - t->flows);
	enum ep_lru l = ep_flow_lru(f);

	if (f->lru_prev != EP_FLOW_NONE)
		t->flows[f->lru_prev].lru_next = f->lru_next;
	else if (t->head[l] == i)
		t->head[l] = f->lru_next;
	if (f->lru_next != EP_FLOW_NONE)
		t->flows[f->lru_next].lru_prev = f->lru_prev;
	else if (t->tail[l] == i)
		t->tail[l] = f->lru_prev;
	t->nlist[l]--;
}

static void list_push(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru, uint32_t now_ms)
{
	uint32_t i = (uint32_t)(f - t->flows);

	f->tcp.owner = (uint16_t)((((now_ms >> EP_FLOW_TICK_SHIFT) & EP_FLOW_TICK_MASK) << 1) | lru);
	f->lru_prev = EP_FLOW_NONE;
	f->lru_next = t->head[lru];
	if (t->head[lru] != EP_FLOW_NONE)
		t->flows[t->head[lru]].lru_prev = i;
	else
		t->tail[lru] = i;
	t->head[lru] = i;
	t->nlist[lru]++;
}

/*
 * Add chain number nchains, the record about to be used for the first time:
 * the flows of the chain it splits from whose address at the next level is
 * the new chain move to it.
 */
static void grow(struct ep_flow_table *t)
{
	uint32_t nw = t->nchains, *p = &t->flows[nw - (t->mask_lo + 1)].bucket, *q = &t->flows[nw].bucket;

	*q = 0;
	while (*p) {
		struct ep_flow *f = &t->flows[*p - 1];

		if (((uint32_t)(ep_flow_key_hash(&f->key) >> 32) & t->mask_hi) == nw) {
			*p = f->chain; /* unlink, append to the new chain */
			f->chain = 0;
			*q = (uint32_t)(f - t->flows) + 1;
			q = &f->chain;
		} else {
			p = &f->chain;
		}
	}
	if (++t->nchains > t->mask_hi) {
		t->mask_lo = t->mask_hi;
		t->mask_hi = t->mask_hi * 2 + 1;
	}
}

struct ep_flow *ep_flow_insert(struct ep_flow_table *t, const struct ep_flow_key *key,
			       uint64_t hash, enum ep_lru lru, uint32_t now_ms, int *err)
{
	struct ep_flow *f, *c;
	uint32_t i, bucket;

	if (t->free_head != EP_FLOW_NONE) {
		i = t->free_head;
		t->free_head = t->flows[i].lru_next;
	} else if (t->fresh < t->capacity) {
		i = t->fresh++;
		if (t->fresh > t->nchains)
			grow(t);
	} else {
		*err = -ENOSPC;
		return NULL;
	}
	f = &t->flows[i];
	bucket = f->bucket; /* another chain's head: not this flow's to clear */
	memset(f, 0, sizeof(*f));
	f->bucket = bucket;
	f->key = *key;
	f->last_ms = now_ms;
	c = ep_flow_chain_of(t, hash);
	f->chain = c->bucket;
	c->bucket = i + 1;
	list_push(t, f, lru, now_ms);
	t->count++;
	*err = 0;
	return f;
}

void ep_flow_remove(struct ep_flow_table *t, struct ep_flow *f)
{
	uint32_t i = (uint32_t)(f - t->flows), *p = &ep_flow_chain_of(t, ep_flow_key_hash(&f->key))->bucket;

	while (*p && *p != i + 1)
		p = &t->flows[*p - 1].chain;
	if (*p)
		*p = f->chain;
	f->chain = 0;
	list_unlink(t, f);
	f->lru_next = t->free_head;
	t->free_head = i;
	t->count--;
	f->key.family = 0; /* a stale pointer to f no longer matches any key */
}

void ep_flow_requeue(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru, uint32_t now_ms)
{
	list_unlink(t, f);
	list_push(t, f, lru, now_ms);
}

struct ep_flow *ep_flow_expired(struct ep_flow_table *t, enum ep_lru lru, uint32_t now_ms,
				uint32_t timeout_ms)
{
	struct ep_flow *f;

	if (t->tail[lru] == EP_FLOW_NONE)
		return NULL;
	f = &t->flows[t->tail[lru]];
	return now_ms - f->last_ms >= timeout_ms ? f : NULL;
}

struct ep_flow *ep_flow_victim(struct ep_flow_table *t, enum ep_lru lru)
{
	return t->tail[lru] == EP_FLOW_NONE ? NULL : &t->flows[t->tail[lru]];
}

uint32_t ep_flow_table_count(const struct ep_flow_table *t)
{
	return t->count;
}

uint32_t ep_flow_table_count_list(const struct ep_flow_table *t, enum ep_lru lru)
{
	return t->nlist[lru];
}

uint32_t ep_flow_table_capacity(const struct ep_flow_table *t)
{
	return t->capacity;
}

size_t ep_flow_table_bytes(const struct ep_flow_table *t)
{
	return (size_t)t->capacity * sizeof(struct ep_flow);
}

void ep_flow_table_foreach(struct ep_flow_table *t, void (*cb)(struct ep_flow *, void *), void *arg)
{
	int l;

	for (l = 0; l < 2; l++) {
		uint32_t i = t->head[l];

		while (i != EP_FLOW_NONE) {
			uint32_t next = t->flows[i].lru_next;

			cb(&t->flows[i], arg);
			i = next;
		}
	}
}
