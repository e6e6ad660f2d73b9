/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shist.h - sparse HDR histograms for the collector's roll-ups: only the
 * non-zero buckets, ascending by counts index, all in one configuration
 * (the collector's).  Adding is an exact merge; percentiles go through a
 * dense ep_hist so that they are HdrHistogram's by construction.
 */
#ifndef EP_SHIST_H
#define EP_SHIST_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

struct ep_shist {
	uint32_t n, cap;
	struct ep_hbin *b;
	uint64_t total;
};

/*
 * Add n ascending bins into s.
 * @return 0, or -ENOMEM (s unchanged).  Counts that would pass 2^32-1 in one
 *         bucket are held there and added to *saturated (may be NULL).
 */
int ep_shist_add_bins(struct ep_shist *s, const struct ep_hbin *bins, uint32_t n,
		      uint64_t *saturated);

static inline int ep_shist_add(struct ep_shist *dst, const struct ep_shist *src,
			       uint64_t *saturated)
{
	return ep_shist_add_bins(dst, src->b, src->n, saturated);
}

void ep_shist_free(struct ep_shist *s);

/* Heap bytes held by s. */
static inline size_t ep_shist_bytes(const struct ep_shist *s)
{
	return (size_t)s->cap * sizeof(struct ep_hbin);
}

/* Add s into the dense histogram h (same configuration, indexes checked). */
void ep_shist_to_hist(const struct ep_shist *s, struct ep_hist *h);

#endif
