/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_table.h - bounded TCP flow table: a fixed pool of 128-byte flow records
 * that is also the hash index (record i holds the head of hash chain i: no
 * memory beside the records).  The chains grow with the records in use by
 * linear hashing (each record taken for the first time splits one chain), so
 * that memory is touched only as flows arrive and chains stay about one flow
 * long.  Two lists (short: half-open and closing
 * flows; long: established flows) in the order flows were queued.  A packet
 * stamps its flow's last_ms and moves it to the head only when it was queued
 * more than about a second ago, so most packets write to no other record while
 * the lists stay in order of last activity to within that granularity: expiry
 * and eviction take the tail.
 *
 * Sized once at creation; never grows.  One writer (its worker), no locks.
 */
#ifndef EP_FLOW_TABLE_H
#define EP_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "edgeprobe/ep_flow_key.h"
#include "edgeprobe/ep_tcp.h"

#define EP_FLOW_NONE UINT32_MAX
#define EP_FLOW_MAX_AGG 0xffffffu /* ASN slots a record can name (24 bits) */

/*
 * The queue time is kept in 15 bits of 64 ms ticks (it wraps every 35 min):
 * a flow goes back to its list's head when EP_FLOW_REQUEUE_TICKS have passed,
 * or when it was idle for 30 min (so that a wrapped tick never hides a move:
 * a flow's queue time stays within about a second of its last packet).
 */
#define EP_FLOW_TICK_SHIFT 6
#define EP_FLOW_TICK_MASK 0x7fffu
#define EP_FLOW_REQUEUE_TICKS 16u /* 1,024 ms: list order granularity */
/* A flow idle this long is requeued whatever its tick says (the tick may have wrapped). */
#define EP_FLOW_IDLE_REQUEUE_MS (30u * 60 * 1000)

enum ep_lru { EP_LRU_SHORT = 0, EP_LRU_LONG = 1 };

/*
 * One tracked connection: 128 bytes, index included.  The protocol state is
 * ep_track.h's struct ep_tcp (shared with the BPF programs); tcp.owner holds
 * the list (bit 0, enum ep_lru) and the queue tick (bits 1-15); key.owner the
 * ASN aggregate slot of the remote side.  Side 0 is key A, side 1 is key B.
 */
struct ep_flow {
	struct ep_flow_key key;
	uint32_t last_ms;                 /* time of the last packet (ms, wraps) */
	uint32_t lru_prev, lru_next;      /* list links (lru_next: free list when unused) */
	uint32_t chain;                   /* next flow of this flow's hash chain + 1, 0 at the end */
	uint32_t bucket;                  /* first flow of hash chain number (this record's index) + 1 */
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
struct ep_flow_table {
	struct ep_flow *flows;
	uint32_t capacity;    /* records */
	uint32_t nchains;     /* hash chains: max(1, fresh) */
	uint32_t mask_lo, mask_hi; /* 2^L - 1 and 2^(L+1) - 1, 2^L <= nchains < 2^(L+1) */
	uint32_t count;
	uint32_t free_head;   /* removed records chained through lru_next */
	uint32_t fresh;       /* records at and above this index were never used */
	uint32_t head[2], tail[2];
	uint32_t nlist[2];    /* flows on each list */
};

/* The ASN slot, in the key's three owner bytes (one load: family and owner together). */
static inline uint32_t ep_flow_agg(const struct ep_flow *f)
{
	uint32_t w;

	__builtin_memcpy(&w, &f->key.family, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w >> 8;
#else
	return w & 0xffffffu;
#endif
}

static inline void ep_flow_set_agg(struct ep_flow *f, uint32_t slot)
{
	uint32_t w;

	__builtin_memcpy(&w, &f->key.family, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = (w & 0xffu) | (slot & EP_FLOW_MAX_AGG) << 8;
#else
	w = (w & 0xff000000u) | (slot & EP_FLOW_MAX_AGG);
#endif
	__builtin_memcpy(&f->key.family, &w, 4);
}

static inline enum ep_lru ep_flow_lru(const struct ep_flow *f)
{
	return (enum ep_lru)(f->tcp.owner & 1);
}

/* The record holding the head of key's hash chain (hash = ep_flow_key_hash(key)). */
static inline struct ep_flow *ep_flow_chain_of(const struct ep_flow_table *t, uint64_t hash)
{
	uint32_t a = (uint32_t)(hash >> 32) & t->mask_hi;

	return &t->flows[a < t->nchains ? a : a & t->mask_lo];
}

/* The first flow of key's hash chain (a candidate, not yet compared), or NULL. */
static inline struct ep_flow *ep_flow_first(const struct ep_flow_table *t, uint64_t hash)
{
	uint32_t i = ep_flow_chain_of(t, hash)->bucket;

	return i ? &t->flows[i - 1] : NULL;
}

/* The flow with key found from candidate f (ep_flow_first()), or NULL. */
static inline struct ep_flow *ep_flow_find_from(const struct ep_flow_table *t, struct ep_flow *f,
						const struct ep_flow_key *key)
{
	while (f) {
		if (ep_flow_key_eq(&f->key, key))
			return f;
		f = f->chain ? &t->flows[f->chain - 1] : NULL;
	}
	return NULL;
}

/* The flow with key (hash = ep_flow_key_hash(key)), or NULL. */
static inline struct ep_flow *ep_flow_lookup(struct ep_flow_table *t, const struct ep_flow_key *key,
					     uint64_t hash)
{
	return ep_flow_find_from(t, ep_flow_first(t, hash), key);
}

/* Start loading the head of hash's chain into the cache (batched lookups). */
static inline void ep_flow_prefetch(const struct ep_flow_table *t, uint64_t hash)
{
	__builtin_prefetch(&ep_flow_chain_of(t, hash)->bucket);
}

/*
 * Insert a zeroed flow for key at the head of list lru.
 * @return the flow; NULL when the pool is full (*err = -ENOSPC): the caller
 *         evicts and retries.
 */
struct ep_flow *ep_flow_insert(struct ep_flow_table *t, const struct ep_flow_key *key,
			       uint64_t hash, enum ep_lru lru, uint32_t now_ms, int *err);

/* Remove f from the index and its list, and return it to the pool; its key no longer matches. */
void ep_flow_remove(struct ep_flow_table *t, struct ep_flow *f);

/*
 * The tail of list lru when it has been idle for timeout_ms or more, else NULL
 * (every other flow of the list was active later, to within a second).
 */
struct ep_flow *ep_flow_expired(struct ep_flow_table *t, enum ep_lru lru, uint32_t now_ms,
				uint32_t timeout_ms);

/* The least recently active flow of list lru (its tail), or NULL. */
struct ep_flow *ep_flow_victim(struct ep_flow_table *t, enum ep_lru lru);

/* Move f to the head of list lru (out of line: only on list changes). */
void ep_flow_requeue(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru, uint32_t now_ms);

/* Stamp f with now_ms; it goes to the head of list lru when it changes list or was queued long ago. */
static inline void ep_flow_touch(struct ep_flow_table *t, struct ep_flow *f, enum ep_lru lru,
				 uint32_t now_ms)
{
	uint32_t o = f->tcp.owner, idle = now_ms - f->last_ms;

	f->last_ms = now_ms;
	if ((o & 1) != (uint32_t)lru ||
	    (((now_ms >> EP_FLOW_TICK_SHIFT) - (o >> 1)) & EP_FLOW_TICK_MASK) >= EP_FLOW_REQUEUE_TICKS ||
	    idle >= EP_FLOW_IDLE_REQUEUE_MS)
		ep_flow_requeue(t, f, lru, now_ms);
}

uint32_t ep_flow_table_count(const struct ep_flow_table *t);
/* Flows on list lru (EP_LRU_SHORT: half-open and closing). */
uint32_t ep_flow_table_count_list(const struct ep_flow_table *t, enum ep_lru lru);
uint32_t ep_flow_table_capacity(const struct ep_flow_table *t);
/* Bytes allocated for records and index. */
size_t ep_flow_table_bytes(const struct ep_flow_table *t);

/* Visit every flow (for the final flush); cb may not remove flows. */
void ep_flow_table_foreach(struct ep_flow_table *t, void (*cb)(struct ep_flow *, void *), void *arg);

#endif /* EP_FLOW_TABLE_H */
