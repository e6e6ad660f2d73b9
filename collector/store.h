/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store.h - the collector's roll-ups of one view (all probes, or one probe):
 * tiers of ring buffers of time buckets (e.g. 100 ms for minutes, 1 s for an
 * hour, 1 min for a day), each bucket holding per-(ASN, country) counters
 * and sparse histograms.
 *
 * Data enters the finest tier.  When the watermark (newest data minus a
 * grace) passes the end of a coarser window, the finer buckets inside it are
 * merged into it and marked closed; data arriving later for a closed bucket
 * goes to both.  Every datum is therefore counted exactly once in
 * "the tier-i buckets plus the lower tiers' unclosed buckets", which is what
 * queries read.  A bucket about to be reused is closed first, so nothing is
 * lost before the coarsest tier's retention.
 */
#ifndef EP_STORE_H
#define EP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "shist.h"

#define EP_STORE_MAX_TIERS 4

/*
 * One (ASN, country)'s numbers in a bucket, or a group's in a query result
 * (api_int.h: an ASN's, a country's, a region's).
 */
struct ep_centry {
	uint32_t asn;
	uint16_t cc;     /* country.h, 0 unknown */
	uint64_t c[EP_AC__COUNT];
	struct ep_shist h[EP_AH__COUNT];
};

/* Open-addressed set of entries keyed by (ASN, country), hashed by ASN. */
struct ep_cset {
	struct ep_centry *e;
	uint32_t n, cap;
	uint32_t *index; /* entry + 1, 0 empty */
	uint32_t mask;
};

struct ep_bucket {
	int used;         /* the slot holds a window */
	uint64_t start;   /* window start (ns) */
	int closed;       /* merged into the next tier */
	int announced;    /* reported to the close callback */
	int persisted;    /* handed to the persist callback since its last change */
	uint32_t handed;  /* times handed to the persist callback (a loaded bucket: 1) */
	uint64_t windows; /* probe windows merged in */
	uint64_t newest_end; /* newest window end merged in */
	struct ep_cset set;
};

struct ep_tier {
	uint64_t step_ns;
	uint32_t count;
	struct ep_bucket *b;
	uint64_t closed_upto; /* windows of the next tier ending at or before are closed */
	uint64_t shed_below;  /* buckets starting before were freed (--memcap): read coarser */
	uint64_t persist_upto; /* buckets starting before were persisted (unless dirty) */
	int persist_dirty;     /* a bucket before persist_upto changed: scan the tier */
};

/* Counters of a view (some shared by the caller across views). */
struct ep_store_ctr {
	uint64_t records;       /* ASN records added */
	uint64_t too_old;       /* records older than every tier's retention */
	uint64_t asn_cap;       /* records folded into "other": bucket full */
	uint64_t nomem;         /* records or merges lost to allocation failure */
	uint64_t saturated;     /* histogram counts above 2^32-1 in one bucket */
	uint64_t forced_close;  /* buckets closed early because their slot was reused */
	uint64_t late;          /* records for already closed buckets (still merged) */
	uint64_t shed;          /* buckets freed to stay under a memory cap */
};

/* A bucket given as its entries (read back from storage); @return 0 to go on. */
typedef int (*ep_store_rows_cb)(uint64_t start_ns, uint64_t newest_end_ns, uint64_t windows,
				const struct ep_centry *e, uint32_t n, void *ctx);

/* Called once per bucket of the announce tier when it closes. */
typedef void (*ep_store_close_cb)(const struct ep_bucket *b, uint64_t step_ns, void *ctx);

struct ep_view {
	struct ep_tier t[EP_STORE_MAX_TIERS];
	uint32_t ntiers;
	uint32_t max_asns;        /* distinct ASNs per bucket; beyond -> EP_ASN_OTHER */
	uint64_t newest_end;      /* newest window end added */
	uint64_t bytes;           /* heap held by buckets */
	struct ep_store_ctr ctr;
	int announce_tier;        /* tier whose closed buckets are reported, -1 none */
	ep_store_close_cb on_close;
	void *cb_ctx;
	uint32_t persist_tiers;   /* bit per tier whose complete buckets go to on_persist */
	ep_store_close_cb on_persist; /* called (again after late data) per complete bucket */
	void *persist_ctx;
};

/* One incoming (ASN, country) record: counters and ascending sparse histogram bins. */
struct ep_crec {
	uint32_t asn;
	uint16_t cc;
	uint64_t c[EP_AC__COUNT];
	const struct ep_hbin *bins[EP_AH__COUNT];
	uint32_t nbins[EP_AH__COUNT];
};

/*
 * @param steps tier steps in ns, finest first, each a multiple of the previous
 * @param counts buckets per tier
 * @return 0, -EINVAL (steps), -ENOMEM
 */
int ep_view_init(struct ep_view *v, uint32_t ntiers, const uint64_t *steps,
		 const uint32_t *counts, uint32_t max_asns);
void ep_view_fini(struct ep_view *v);

/* Add one probe window's records for [start_ns, end_ns). */
void ep_view_add(struct ep_view *v, uint64_t start_ns, uint64_t end_ns,
		 const struct ep_crec *recs, uint32_t n);

/* Close (roll up) every window that ends at or before upto_ns. */
void ep_view_advance(struct ep_view *v, uint64_t upto_ns);

/*
 * Put a bucket read back from storage into tier ti (coarsest tier first, so
 * that a finer bucket whose window the next tier already holds is marked
 * closed).  It counts as announced and persisted; late data reopens it.
 * @return 0, -ERANGE (older than the tier holds), -ENOMEM
 */
int ep_view_load(struct ep_view *v, uint32_t ti, uint64_t start, uint64_t newest_end,
		 uint64_t windows, const struct ep_centry *e, uint32_t n);

/* Whose buckets a read of storage returns (a shared store holds several collectors'). */
enum ep_whose {
	EP_WHOSE_EVERY,  /* every collector's, merged */
	EP_WHOSE_OWN,    /* only this collector's (a restart) */
	EP_WHOSE_OTHERS, /* every other collector's, merged (beside this one's memory) */
};

/* What a read of storage returns. */
struct ep_read {
	enum ep_whose whose;
	uint32_t asn; /* only this ASN's rows (0: every ASN's) */
	int sum;      /* one bucket, the sum over the range (for a reader that only adds up) */
	int finer;    /* before the step's oldest bucket, the finer retained step's (an answer,
		       * not a restore: a history kept before a coarser step was added) */
	uint64_t edge_step; /* the windows the range cuts at this finer step, where held */
	int held_only;      /* only if the step's rows reach back to the range's start (the
			     * history's oldest row is at or before it), else -ENODATA */
};

/* Visitor over the buckets that together hold [start, end) exactly once. */
typedef void (*ep_view_visit_cb)(const struct ep_bucket *b, uint64_t step_ns, void *ctx);

/*
 * Visit the data of [start_ns, end_ns): the finest tier whose retention still
 * reaches start_ns, whose step divides min_step_ns (0: any), plus the finer
 * tiers' unclosed buckets.
 * @return the step of the tier used, 0 when the view holds nothing.
 */
uint64_t ep_view_visit(const struct ep_view *v, uint64_t start_ns, uint64_t end_ns,
		       uint64_t min_step_ns, ep_view_visit_cb cb, void *ctx);

/*
 * Free the oldest bucket that a shedding level allows, to stay under a memory
 * cap.  Level 0: a closed bucket of a finer tier (its data is in the next
 * tier: only resolution is lost).  Level 1: a bucket of the coarsest tier,
 * never its newest (history is lost).  Queries read around what was freed.
 * @return bytes freed, 0 when the level has nothing left
 */
uint64_t ep_view_shed(struct ep_view *v, int level);

/*
 * As ep_view_visit, but a tier whose buckets over the range hold more than
 * max_entries ASN entries is passed over for the next coarser one (the
 * coarsest is always taken): a query's cost is bounded whatever the
 * cardinality.  max_entries 0: no bound.  Without min_step (a sum over the
 * range), the edges are exact as in ep_view_visit_exact.
 */
uint64_t ep_view_visit_budget(const struct ep_view *v, uint64_t start, uint64_t end,
			      uint64_t min_step, uint64_t max_entries, ep_view_visit_cb cb,
			      void *ctx);

/* The tier ep_view_visit_budget visits, from tier first up. @return its index, or -1 */
int ep_view_pick(const struct ep_view *v, uint32_t first, uint64_t start, uint64_t end,
		 uint64_t min_step, uint64_t max_entries);

/*
 * As ep_view_visit_tier, but the windows of tier ti that the range cuts (at
 * its start and its end) are read from the finer tiers that still hold them:
 * the range is then exact to the finest step that holds each edge, not
 * widened to whole windows of tier ti (an edge the finer tier no longer holds
 * is read whole).  For sums over a range (min_step 0); a series wants whole
 * slots.  @return tier ti's step
 */
uint64_t ep_view_visit_exact(const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			     ep_view_visit_cb cb, void *ctx);

/*
 * Where [start, end) cuts the windows of step: [start, *a) is the first window's
 * part, [*a, *b) whole windows, [*b, end) the last window's part (each may be empty).
 */
void ep_view_cuts(uint64_t step, uint64_t start, uint64_t end, uint64_t *a, uint64_t *b);

/* Visit tier ti over [start, end), with the finer tiers' unclosed buckets. @return its step */
uint64_t ep_view_visit_tier(const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			    ep_view_visit_cb cb, void *ctx);

/*
 * Call cb with asn's entries (every country's) in every bucket that lies wholly in [start, end)
 * and holds its data once: tier ti's, and the finer tiers' unclosed ones.
 * Buckets are looked up by slot: the cost is the buckets in the range.
 * @return the buckets that held the ASN
 */
uint32_t ep_view_visit_asn(const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			   uint32_t asn, void (*cb)(const struct ep_centry *e, void *ctx), void *ctx);

/*
 * Start of the newest unbroken run of buckets of tier ti (0 when empty): a
 * slot recycled for newer data leaves a hole that only storage can fill.
 */
uint64_t ep_view_tier_run(const struct ep_view *v, uint32_t ti);

/*
 * The oldest start from which tier ti holds every window: its ring's reach, or
 * what the memory cap shed before.  Before it, ep_view_visit_exact of the next
 * coarser tier reads that tier's windows whole.
 */
uint64_t ep_view_tier_reach(const struct ep_view *v, uint32_t ti);

/* Oldest bucket start held by tier ti (0 when empty). */
uint64_t ep_view_tier_oldest(const struct ep_view *v, uint32_t ti);

/* Oldest bucket start still held by any tier (0 when empty). */
uint64_t ep_view_oldest(const struct ep_view *v);

/* Sets: find or create the entry of (asn, cc). @return NULL on allocation failure. */
struct ep_centry *ep_cset_get(struct ep_cset *s, uint32_t asn, uint16_t cc, uint64_t *bytes);
const struct ep_centry *ep_cset_find(const struct ep_cset *s, uint32_t asn, uint16_t cc);
/* cb on each entry of asn, whatever its country. @return how many */
uint32_t ep_cset_each_asn(const struct ep_cset *s, uint32_t asn,
			  void (*cb)(const struct ep_centry *e, void *ctx), void *ctx);
/* 1 when e (of s) is the first of its ASN's entries: to take each ASN once. */
int ep_cset_first_of_asn(const struct ep_cset *s, const struct ep_centry *e);
/*
 * The samples a quantile of e's histogram hk (enum ep_asn_hist) rests on: the
 * histogram's count, but for the in-flow RTT the RTTs measured
 * (rtt_data_timed), as its count weighs each by the echoes it stands for.
 * Data of wire version 3 (history rows) did not count them: its entries, with
 * rtt_data_timed 0, give the histogram's count.
 */
uint64_t ep_centry_samples(const struct ep_centry *e, unsigned hk);
/* Add src's counters and histograms into dst. @return 0 or -ENOMEM. */
int ep_centry_add(struct ep_centry *dst, const struct ep_centry *src, uint64_t *bytes,
		  uint64_t *saturated);
void ep_cset_free(struct ep_cset *s);
/* Heap bytes a set holds (entries, index, histograms). */
size_t ep_cset_bytes(const struct ep_cset *s);

#endif
