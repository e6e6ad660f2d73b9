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
	/* Half-full buckets at capacity keep bucket overflow rare. */
	t->nbuckets = (max_flows + EP_FLOW_BUCKET_ENTRIES / 2 - 1) / (EP_FLOW_BUCKET_ENTRIES / 2);
	t->flows = table_alloc((size_t)max_flows * sizeof(struct ep_flow));
	t->buckets = table_alloc((size_t)t->nbuckets * sizeof(struct ep_flow_bucket));
	if (!t->flows || !t->buckets) {
		ep_flow_table_free(t);
		return -ENOMEM;
	}
	t->free_head = EP_FLOW_NONE;
	t->fresh = 0;
	t->head[0] = t->head[1] = t->tail[0] = t->tail[1] = EP_FLOW_NONE;
	*out = t;
	return 0;
}

void ep_flow_table_free(struct ep_flow_table *t)
{
	if (!t)
		return;
	table_release(t->flows, (size_t)t->capacity * sizeof(struct ep_flow));
	table_release(t->buckets, (size_t)t->nbuckets * sizeof(struct ep_flow_bucket));
	free(t);
}

static void list_unlink(struct ep_flow_table *t, struct ep_flow *f)
{
	uint32_t i = (uint32_t)(f - t->flows);

	if (f->lru_prev != EP_FLOW_NONE)
		t->flows[f->lru_prev].lru_next = f->lru_next;
	else if (t->head[f->tcp.lru] == i)
		t->head[f->tcp.lru] = f->lru_next;
	if (f->lru_next != EP_FLOW_NONE)
		t->flows[f->lru_next].lru_prev = f->lru_prev;
	else if (t->tail[f->tcp.lru] == i)
		t->tail[f->tcp.lru] = f->lru_prev;
}

static void list_push(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru)
{
	uint32_t i = (uint32_t)(f - t->flows);

	f->tcp.lru = (uint8_t)lru;
	f->lru_prev = EP_FLOW_NONE;
	f->lru_next = t->head[lru];
	if (t->head[lru] != EP_FLOW_NONE)
		t->flows[t->head[lru]].lru_prev = i;
	else
		t->tail[lru] = i;
	t->head[lru] = i;
}

struct ep_flow *ep_flow_insert(struct ep_flow_table *t, const struct ep_flow_key *key,
			       uint64_t hash, enum ep_lru lru, uint32_t now_ms, int *err)
{
	struct ep_flow_bucket *b = &t->buckets[ep_flow_bucket_of(t, hash)];
	struct ep_flow *f;
	uint32_t i;
	int slot;

	if (t->free_head == EP_FLOW_NONE && t->fresh == t->capacity) {
		*err = -ENOSPC;
		return NULL;
	}
	for (slot = 0; slot < EP_FLOW_BUCKET_ENTRIES && b->sig[slot]; slot++)
		;
	if (slot == EP_FLOW_BUCKET_ENTRIES) {
		*err = -EBUSY;
		return NULL;
	}
	if (t->free_head != EP_FLOW_NONE) {
		i = t->free_head;
		t->free_head = t->flows[i].lru_next;
	} else {
		i = t->fresh++;
	}
	f = &t->flows[i];
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->last_ms = now_ms;
	f->queued_ms = now_ms;
	b->sig[slot] = ep_flow_sig_of(hash);
	b->idx[slot] = i;
	list_push(t, f, lru);
	t->count++;
	*err = 0;
	return f;
}

void ep_flow_remove(struct ep_flow_table *t, struct ep_flow *f)
{
	struct ep_flow_bucket *b = &t->buckets[ep_flow_bucket_of(t, ep_flow_key_hash(&f->key))];
	uint32_t i = (uint32_t)(f - t->flows);
	int s;

	for (s = 0; s < EP_FLOW_BUCKET_ENTRIES; s++) {
		if (b->sig[s] && b->idx[s] == i) {
			b->sig[s] = 0;
			break;
		}
	}
	list_unlink(t, f);
	f->lru_next = t->free_head;
	t->free_head = i;
	t->count--;
	f->key.family = 0; /* a stale pointer to f no longer matches any key */
}

void ep_flow_prefetch(const struct ep_flow_table *t, uint64_t hash)
{
	__builtin_prefetch(&t->buckets[ep_flow_bucket_of(t, hash)]);
}

void ep_flow_requeue(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru, uint32_t now_ms)
{
	list_unlink(t, f);
	list_push(t, f, lru);
	f->queued_ms = now_ms;
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

struct ep_flow *ep_flow_bucket_oldest(struct ep_flow_table *t, uint64_t hash, uint32_t now_ms)
{
	const struct ep_flow_bucket *b = &t->buckets[ep_flow_bucket_of(t, hash)];
	struct ep_flow *old = NULL;
	int s;

	for (s = 0; s < EP_FLOW_BUCKET_ENTRIES; s++) {
		struct ep_flow *f;

		if (!b->sig[s])
			continue;
		f = &t->flows[b->idx[s]];
		/* Half-open and closing flows go first, then the least recent. */
		if (!old || f->tcp.lru < old->tcp.lru ||
		    (f->tcp.lru == old->tcp.lru && now_ms - f->last_ms > now_ms - old->last_ms))
			old = f;
	}
	return old;
}

uint32_t ep_flow_table_count(const struct ep_flow_table *t)
{
	return t->count;
}

uint32_t ep_flow_table_capacity(const struct ep_flow_table *t)
{
	return t->capacity;
}

size_t ep_flow_table_bytes(const struct ep_flow_table *t)
{
	return (size_t)t->capacity * sizeof(struct ep_flow) +
	       (size_t)t->nbuckets * sizeof(struct ep_flow_bucket);
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
