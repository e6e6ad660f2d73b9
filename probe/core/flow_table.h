/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.h - bounded TCP flow table: a fixed pool of flow records, a
 * bucketized hash index (8 entries per bucket, 16-bit signatures), and two
 * lists (short: half-open and closing flows; long: established flows) in the
 * order flows were queued.  A packet stamps its flow's last_ms and moves it to
 * the head only when it was queued more than EP_FLOW_REQUEUE_MS ago, so most
 * packets write to no other record while the lists stay in order of last
 * activity to within that granularity: expiry and eviction take the tail.
 *
 * Sized once at creation; never grows.  One writer (its worker), no locks.
 */
#ifndef EP_FLOW_TABLE_H
#define EP_FLOW_TABLE_H

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "edgeprobe/ep_flow_key.h"
#include "edgeprobe/ep_tcp.h"

#define EP_FLOW_NONE UINT32_MAX
#define EP_FLOW_REQUEUE_MS 1000 /* list order granularity */

enum ep_lru { EP_LRU_SHORT = 0, EP_LRU_LONG = 1 };

/*
 * One tracked connection: the index and list links here, the protocol state
 * in ep_track.h's struct ep_tcp (shared with the BPF programs).  128 bytes.
 * Side 0 is key A, side 1 is key B; the list (enum ep_lru) is tcp.lru.
 */
struct ep_flow {
	struct ep_flow_key key;
	uint32_t last_ms;                 /* time of the last packet (ms, wraps) */
	uint32_t queued_ms;               /* when it was put at its list's head */
	uint32_t lru_prev, lru_next;
	uint32_t agg;                     /* ASN aggregate slot of the remote side */
	struct ep_tcp tcp;
};

struct ep_flow_table;

/*
 * @param max_flows capacity, >= 1
 * @return 0, -EINVAL, -ENOMEM
 */
int ep_flow_table_new(uint32_t max_flows, struct ep_flow_table **out);
void ep_flow_table_free(struct ep_flow_table *t);

/*
 * The table's layout is in the header only so that the per-packet lookup
 * inlines into the tracker; everything else goes through the functions.
 */
#define EP_FLOW_BUCKET_ENTRIES 8

struct ep_flow_bucket {
	uint16_t sig[EP_FLOW_BUCKET_ENTRIES];  /* 0 = empty; 16 bytes, compared at once where SSE2 is */
	uint32_t idx[EP_FLOW_BUCKET_ENTRIES];
};

struct ep_flow_table {
	struct ep_flow *flows;
	struct ep_flow_bucket *buckets;
	uint32_t nbuckets;
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head;   /* removed records chained through lru_next */
	uint32_t fresh;       /* records below this index have been used: pages touched lazily */
	uint32_t head[2], tail[2];
};

static inline uint32_t ep_flow_bucket_of(const struct ep_flow_table *t, uint64_t hash)
{
	return (uint32_t)(((hash >> 32) * (uint64_t)t->nbuckets) >> 32);
}

static inline uint16_t ep_flow_sig_of(uint64_t hash)
{
	uint16_t s = (uint16_t)hash;

	return s ? s : 1;
}

/* The flow with key (hash = ep_flow_key_hash(key)), or NULL. */
static inline struct ep_flow *ep_flow_lookup(struct ep_flow_table *t, const struct ep_flow_key *key,
					     uint64_t hash)
{
	const struct ep_flow_bucket *b = &t->buckets[ep_flow_bucket_of(t, hash)];
	uint16_t sig = ep_flow_sig_of(hash);
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

	for (i = 0; i < EP_FLOW_BUCKET_ENTRIES; i++) {
		if (b->sig[i] == sig) {
			struct ep_flow *f = &t->flows[b->idx[i]];

			if (ep_flow_key_eq(&f->key, key))
				return f;
		}
	}
#endif
	return NULL;
}

/*
 * Insert a zeroed flow for key at the head of list lru.
 * @return the flow; NULL when the pool is full (-ENOSPC) or the key's bucket
 *         is full (-EBUSY): *err says which.  The caller evicts and retries.
 */
struct ep_flow *ep_flow_insert(struct ep_flow_table *t, const struct ep_flow_key *key,
			       uint64_t hash, enum ep_lru lru, uint32_t now_ms, int *err);

/* Start loading the bucket of hash into the cache (batched lookups). */
void ep_flow_prefetch(const struct ep_flow_table *t, uint64_t hash);

/* Remove f from the index and its list, and return it to the pool; its key no longer matches. */
void ep_flow_remove(struct ep_flow_table *t, struct ep_flow *f);

/* Stamp f with now_ms; it goes to the head of list lru when it changes list or was queued long ago. */
static inline void ep_flow_touch(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru,
				 uint32_t now_ms);

/*
 * The tail of list lru when it has been idle for timeout_ms or more, else NULL
 * (every other flow of the list was active later, to within EP_FLOW_REQUEUE_MS).
 */
struct ep_flow *ep_flow_expired(struct ep_flow_table *t, enum ep_lru lru, uint32_t now_ms,
				uint32_t timeout_ms);

/* The least recently active flow of list lru (its tail), or NULL. */
struct ep_flow *ep_flow_victim(struct ep_flow_table *t, enum ep_lru lru);

/* The longest idle flow in key's bucket, half-open ones first (for -EBUSY). */
struct ep_flow *ep_flow_bucket_oldest(struct ep_flow_table *t, uint64_t hash, uint32_t now_ms);

/* Move f to the head of list lru (out of line: only on list changes). */
void ep_flow_requeue(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru, uint32_t now_ms);

static inline void ep_flow_touch(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru,
				 uint32_t now_ms)
{
	f->last_ms = now_ms;
	if (f->tcp.lru != lru || now_ms - f->queued_ms >= EP_FLOW_REQUEUE_MS)
		ep_flow_requeue(t, f, lru, now_ms);
}

uint32_t ep_flow_table_count(const struct ep_flow_table *t);
uint32_t ep_flow_table_capacity(const struct ep_flow_table *t);
/* Bytes allocated for records and index. */
size_t ep_flow_table_bytes(const struct ep_flow_table *t);

/* Visit every flow (for the final flush); cb may not remove flows. */
void ep_flow_table_foreach(struct ep_flow_table *t, void (*cb)(struct ep_flow *, void *), void *arg);

#endif /* EP_FLOW_TABLE_H */
