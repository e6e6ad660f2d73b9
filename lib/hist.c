/* SPDX-License-Identifier: BSD-3-Clause */
/* hist.c - HDR histograms: storage, recording, merging, quantiles (the V2 codec: hist_codec.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* ------------------------------------------------------------------------ */
/* Storage, recording, merging                                                */
/* ------------------------------------------------------------------------ */

size_t ep_hist_counts_bytes(const struct ep_hdr_cfg *cfg)
{
	return (size_t)cfg->counts_len * sizeof(uint32_t);
}

void ep_hist_init_preallocated(struct ep_hist *h, const struct ep_hdr_cfg *cfg, uint32_t *counts)
{
	h->cfg = *cfg;
	h->total = 0;
	h->clamped = 0;
	h->min_idx = cfg->counts_len;
	h->max_idx = -1;
	h->counts = counts;
}

int ep_hist_new(int64_t lowest, int64_t highest, int32_t digits, struct ep_hist **out)
{
	struct ep_hdr_cfg cfg;
	struct ep_hist *h;
	uint32_t *counts;

	*out = NULL;
	if (ep_hdr_cfg_init(&cfg, lowest, highest, digits) < 0)
		return -EINVAL;
	h = malloc(sizeof(*h));
	counts = calloc((size_t)cfg.counts_len, sizeof(uint32_t));
	if (!h || !counts) {
		free(h);
		free(counts);
		return -ENOMEM;
	}
	ep_hist_init_preallocated(h, &cfg, counts);
	*out = h;
	return 0;
}

void ep_hist_free(struct ep_hist *h)
{
	if (!h)
		return;
	free(h->counts);
	free(h);
}

void ep_hist_reset(struct ep_hist *h)
{
	if (h->max_idx >= h->min_idx)
		memset(h->counts + h->min_idx, 0,
		       (size_t)(h->max_idx - h->min_idx + 1) * sizeof(uint32_t));
	h->total = 0;
	h->clamped = 0;
	h->min_idx = h->cfg.counts_len;
	h->max_idx = -1;
}

static int cfg_same(const struct ep_hdr_cfg *a, const struct ep_hdr_cfg *b)
{
	return a->lowest == b->lowest && a->highest == b->highest &&
	       a->sig_digits == b->sig_digits;
}

int ep_hist_add(struct ep_hist *dst, const struct ep_hist *src)
{
	int32_t i;

	if (!cfg_same(&dst->cfg, &src->cfg))
		return -EINVAL;
	for (i = src->min_idx; i <= src->max_idx; i++) {
		uint64_t sum = (uint64_t)dst->counts[i] + src->counts[i];

		if (!src->counts[i])
			continue;
		if (sum > UINT32_MAX) {
			dst->clamped += (int64_t)(sum - UINT32_MAX);
			sum = UINT32_MAX;
		}
		dst->counts[i] = (uint32_t)sum;
	}
	dst->total += src->total;
	dst->clamped += src->clamped;
	if (src->total) {
		if (src->min_idx < dst->min_idx)
			dst->min_idx = src->min_idx;
		if (src->max_idx > dst->max_idx)
			dst->max_idx = src->max_idx;
	}
	return 0;
}

int ep_hist_add_bins(struct ep_hist *dst, const struct ep_hbin *b, uint32_t n, int64_t clamped)
{
	uint32_t i;

	if (n && (b[0].idx < 0 || b[n - 1].idx >= dst->cfg.counts_len))
		return -EINVAL; /* ascending: the ends bound every index */
	for (i = 0; i < n; i++) {
		uint64_t sum = (uint64_t)dst->counts[b[i].idx] + b[i].count;

		if (sum > UINT32_MAX) {
			dst->clamped += (int64_t)(sum - UINT32_MAX);
			sum = UINT32_MAX;
		}
		dst->counts[b[i].idx] = (uint32_t)sum;
		dst->total += b[i].count;
	}
	dst->clamped += clamped;
	if (n) {
		if (b[0].idx < dst->min_idx)
			dst->min_idx = b[0].idx;
		if (b[n - 1].idx > dst->max_idx)
			dst->max_idx = b[n - 1].idx;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                    */
/* ------------------------------------------------------------------------ */

static int64_t highest_equivalent(const struct ep_hist *h, int32_t idx)
{
	int64_t v = ep_hdr_value_at_index(&h->cfg, idx);

	return v + ep_hdr_range_size(&h->cfg, v) - 1;
}

int64_t ep_hist_percentile(const struct ep_hist *h, double p)
{
	int64_t want, seen = 0;
	double frac;
	int32_t i;

	if (h->total == 0)
		return 0;
	if (p > 100.0)
		p = 100.0;
	if (p < 0.0)
		p = 0.0;
	/* As HdrHistogram (Java, JS): the ceil of the fractional count, at least 1. */
	frac = p / 100.0 * (double)h->total;
	want = (int64_t)ceil(frac - frac * 1e-12);
	if (want < 1)
		want = 1;
	for (i = h->min_idx; i <= h->max_idx; i++) {
		seen += h->counts[i];
		if (seen >= want)
			return p == 0.0 ? ep_hdr_value_at_index(&h->cfg, i) : highest_equivalent(h, i);
	}
	return highest_equivalent(h, h->max_idx);
}

int64_t ep_hist_min(const struct ep_hist *h)
{
	return h->total ? ep_hdr_value_at_index(&h->cfg, h->min_idx) : 0;
}

int64_t ep_hist_max(const struct ep_hist *h)
{
	return h->total ? highest_equivalent(h, h->max_idx) : 0;
}
