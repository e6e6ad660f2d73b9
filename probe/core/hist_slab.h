/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hist_slab.h - zeroed storage for the histograms of one owner (a merge: the
 * run summary, the DPDK main lcore's windows), carved from anonymous mappings
 * of 1 MiB or more,
 * populated when mapped: the kernel fills a megabyte in one call for less
 * than the page faults that calloc()'s clearing (or the first read and then
 * write of a count in a lazily mapped page: two faults) would take one page
 * at a time (~15 us each on a small VM), and no fault is left for the
 * recording path.  The histograms' headers are packed apart from their
 * counts, 64 to a page.  Histograms taken here go back to their owner's pool,
 * never to ep_hist_free(); ep_hist_slab_fini() unmaps them all.
 *
 * A worker's own ASN aggregates keep calloc()ed histograms: with 1M flows and
 * ~23k ASNs per window, recording into slab histograms measured ~25 % more
 * cycles per packet (interleaved runs of bench_core; the cause was not found:
 * not the layout of headers and counts, not the stride, not the populating).
 */
#ifndef EP_HIST_SLAB_H
#define EP_HIST_SLAB_H

#include <stddef.h>

#include "hist.h"

/* Bump allocation from zero-filled mappings (the first bytes of each link them). */
struct ep_slab_region {
	void *chunks;
	unsigned char *cur;
	size_t left;
};

struct ep_hist_slab {
	struct ep_slab_region heads;  /* struct ep_hist */
	struct ep_slab_region counts; /* their counts arrays */
};

/* An empty histogram for cfg, or NULL (out of memory). */
struct ep_hist *ep_hist_slab_take(struct ep_hist_slab *s, const struct ep_hdr_cfg *cfg);

/* Unmap every histogram taken from s; s is empty again. */
void ep_hist_slab_fini(struct ep_hist_slab *s);

#endif /* EP_HIST_SLAB_H */
