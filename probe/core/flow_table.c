/* SPDX-License-Identifier: BSD-3-Clause */
/* flow_table.c - bounded flow pool, bucketized hash index and LRU lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "flow_table.h"

#define BUCKET_ENTRIES 8

struct bucket {
	uint16_t sig[BUCKET_ENTRIES];  /* 0 = empty; 16 bytes, compared at once where SSE2 is */
	uint32_t idx[BUCKET_ENTRIES];
};

struct ep_flow_table {
	struct ep_flow *flows;
	struct bucket *buckets;
	uint32_t nbuckets;
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head;   /* removed records chained through lru_next */
	uint32_t fresh;       /* records below this index have been used: pages touched lazily */
	uint32_t head[2], tail[2];
};

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

static inline uint32_t bucket_of(const struct ep_flow_table *t, uint64_t hash)
{
	return (uint32_t)(((hash >> 32) * (uint64_t)t->nbuckets) >> 32);
}

static inline uint16_t sig_of(uint64_t hash)
{
	uint16_t s = (uint16_t)hash;

	return s ? s : 1;
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
	t->nbuckets = (max_flows + BUCKET_ENTRIES / 2 - 1) / (BUCKET_ENTRIES / 2);
	t->flows = table_alloc((size_t)max_flows * sizeof(struct ep_flow));
	t->buckets = table_alloc((size_t)t->nbuckets * sizeof(struct bucket));
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
	table_release(t->buckets, (size_t)t->nbuckets * sizeof(struct bucket));
	free(t);
}

struct ep_flow *ep_flow_lookup(struct ep_flow_table *t, const struct ep_flow_key *key, uint64_t hash)
{
	const struct bucket *b = &t->buckets[bucket_of(t, hash)];
	uint16_t sig = sig_of(hash);
#ifdef __SSE2__
	/* One compare of all 8 signatures; each matching entry sets 2 mask bits. */
	unsigned int m = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi16(
		_mm_loadu_si128((const __m128i *)b->sig), _mm_set1_epi16((short)sig)));

	while (m) {
		int i = __builtin_ctz(m) >> 1;
		struct ep_flow *f = &t->flows[b->idx[i]];

		if (ep_flow_key_eq(&f->key, key))
			return f;
		m &= m - 1;
		m &= m - 1;
	}
#else
	int i;

	for (i = 0; i < BUCKET_ENTRIES; i++) {
		if (b->sig[i] == sig) {
			struct ep_flow *f = &t->flows[b->idx[i]];

			if (ep_flow_key_eq(&f->key, key))
				return f;
		}
	}
#endif
	return NULL;
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
	struct bucket *b = &t->buckets[bucket_of(t, hash)];
	struct ep_flow *f;
	uint32_t i;
	int slot;

	if (t->free_head == EP_FLOW_NONE && t->fresh == t->capacity) {
		*err = -ENOSPC;
		return NULL;
	}
	for (slot = 0; slot < BUCKET_ENTRIES && b->sig[slot]; slot++)
		;
	if (slot == BUCKET_ENTRIES) {
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
	b->sig[slot] = sig_of(hash);
	b->idx[slot] = i;
	list_push(t, f, lru);
	t->count++;
	*err = 0;
	return f;
}

void ep_flow_remove(struct ep_flow_table *t, struct ep_flow *f)
{
	struct bucket *b = &t->buckets[bucket_of(t, ep_flow_key_hash(&f->key))];
	uint32_t i = (uint32_t)(f - t->flows);
	int s;

	for (s = 0; s < BUCKET_ENTRIES; s++) {
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
	__builtin_prefetch(&t->buckets[bucket_of(t, hash)]);
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
	const struct bucket *b = &t->buckets[bucket_of(t, hash)];
	struct ep_flow *old = NULL;
	int s;

	for (s = 0; s < BUCKET_ENTRIES; s++) {
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
	       (size_t)t->nbuckets * sizeof(struct bucket);
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
