/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * asn_agg.h - per-(ASN, country) window aggregates of one worker: counters
 * and the rtt_hs / rtt_data / retx_ppm histograms, with a dirty list so that
 * a window flush walks only the aggregates that changed.  An ASN seen in two
 * countries is two slots; max_asns bounds the slots.
 *
 * Slots are stable for the life of the worker (flows keep their slot index);
 * histogram storage is taken from a pool when an ASN first records in a
 * window and returned at the flush.  Beyond max_asns, everything lands in an
 * "other" slot (EP_ASN_OTHER), counted.
 */
#ifndef EP_ASN_AGG_H
#define EP_ASN_AGG_H

#include <stdint.h>

#include "edgeprobe/ep_tcp.h"

#include "asn_map.h"
#include "hist.h"
#include "stats.h"
#include "window.h"

/* Slots (max_asns + 1) a flow record can name: 24 bits (flow_table.h). */
#define EP_ASN_AGG_MAX_SLOTS 0xffffffu


struct ep_asn_slot {
	uint32_t asn;
	uint16_t cc;                         /* country.h, 0 unknown */
	uint32_t gen;                        /* window generation of the last change */
	const char *org;                     /* owned by the ASN map or static */
	uint64_t c[EP_AC__COUNT];
	struct ep_hist *h[EP_AH__COUNT];     /* NULL when nothing recorded this window */
};

struct ep_asn_agg {
	struct ep_asn_slot *slots;
	uint32_t nslots, cap;                /* cap = max_asns + 1 ("other") */
	uint32_t *index;                     /* open addressing asn -> slot + 1 */
	uint32_t index_mask;
	uint32_t *dirty;                     /* slots changed in this window */
	uint32_t ndirty;
	uint32_t gen;
	uint32_t other;                      /* slot of EP_ASN_OTHER */
	struct ep_hist **pool;               /* free histograms */
	uint32_t npool, pool_cap;
	struct ep_hdr_cfg cfg;
	struct ep_window_asn *out;           /* the window's records (ep_asn_agg_view) */
	uint64_t *order, *order_tmp;         /* (asn << 32 | slot) of the dirty slots, sorted */
	uint64_t overflow;                   /* lookups sent to "other" */
	uint64_t hist_nomem;                 /* samples lost to allocation failure */
};

/*
 * @param max_asns distinct ASNs kept apart (>= 1)
 * @param cfg histogram configuration
 * @return 0, -EINVAL, -ENOMEM
 */
int ep_asn_agg_init(struct ep_asn_agg *a, uint32_t max_asns, const struct ep_hdr_cfg *cfg);
void ep_asn_agg_fini(struct ep_asn_agg *a);

/* Slot of (asn, cc), created on first use; the "other" slot when full. */
uint32_t ep_asn_agg_slot(struct ep_asn_agg *a, uint32_t asn, uint16_t cc, const char *org);

static inline struct ep_asn_slot *ep_asn_agg_touch(struct ep_asn_agg *a, uint32_t slot)
{
	struct ep_asn_slot *s = &a->slots[slot];

	if (s->gen != a->gen) {
		s->gen = a->gen;
		a->dirty[a->ndirty++] = slot;
	}
	return s;
}

static inline void ep_asn_agg_count(struct ep_asn_agg *a, uint32_t slot, enum ep_asn_counter c,
				    uint64_t n)
{
	ep_asn_agg_touch(a, slot)->c[c] += n;
}

/* Take a histogram from the pool (allocating when empty). */
struct ep_hist *ep_asn_agg_hist_get(struct ep_asn_agg *a);

static inline void ep_asn_agg_record(struct ep_asn_agg *a, uint32_t slot, enum ep_asn_hist k,
				     int64_t value, uint32_t n)
{
	struct ep_asn_slot *s = ep_asn_agg_touch(a, slot);

	if (!s->h[k] && !(s->h[k] = ep_asn_agg_hist_get(a))) {
		a->hist_nomem++;
		return;
	}
	ep_hist_record_n(s->h[k], value, n);
}

/*
 * Add n ascending (index, count) bins to histogram k of a slot (a histogram
 * taken from the pool when it has none yet).
 * @return 0, -EINVAL (an index outside the configuration: nothing added), -ENOMEM
 */
int ep_asn_agg_add_bins(struct ep_asn_agg *a, uint32_t slot, enum ep_asn_hist k,
			const struct ep_hbin *b, uint32_t n);

/*
 * The window's records of every dirty slot, in (ASN, country) order, in a->out (valid
 * until ep_asn_agg_clear()); histograms that recorded nothing are NULL.
 * @return the number of records
 */
uint32_t ep_asn_agg_view(struct ep_asn_agg *a, struct ep_window_asn **out);

/* Reset every dirty slot, return its histograms to the pool, start a new generation. */
void ep_asn_agg_clear(struct ep_asn_agg *a);

#endif /* EP_ASN_AGG_H */
