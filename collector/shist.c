/* SPDX-License-Identifier: BSD-3-Clause */
/* shist.c - sparse histogram merge and expansion. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shist.h"

static int grow(struct ep_shist *s, uint32_t need)
{
	struct ep_hbin *b;
	uint32_t cap = s->cap ? s->cap : 8;

	while (cap < need)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	b = realloc(s->b, (size_t)cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	s->b = b;
	s->cap = cap;
	return 0;
}

int ep_shist_add_bins(struct ep_shist *s, const struct ep_hbin *bins, uint32_t n,
		      uint64_t *saturated)
{
	uint32_t i, j, k, total_n;
	uint64_t sum = 0;

	if (n == 0)
		return 0;
	if (grow(s, s->n + n) < 0)
		return -ENOMEM;
	for (j = 0; j < n; j++)
		sum += bins[j].count;
	if (s->n == 0) {
		memcpy(s->b, bins, (size_t)n * sizeof(*bins));
		s->n = n;
		s->total += sum;
		return 0;
	}
	/* Merge from the back into the grown array, then close the gap duplicates left. */
	i = s->n;
	j = n;
	k = s->n + n;
	while (j > 0) {
		if (i > 0 && s->b[i - 1].idx > bins[j - 1].idx) {
			s->b[--k] = s->b[--i];
		} else if (i > 0 && s->b[i - 1].idx == bins[j - 1].idx) {
			uint64_t c = (uint64_t)s->b[i - 1].count + bins[j - 1].count;

			if (c > UINT32_MAX) {
				if (saturated)
					*saturated += c - UINT32_MAX;
				sum -= c - UINT32_MAX;
				c = UINT32_MAX;
			}
			s->b[--k] = (struct ep_hbin){ s->b[i - 1].idx, (uint32_t)c };
			i--;
			j--;
		} else {
			s->b[--k] = bins[--j];
		}
	}
	/* s->b[0 .. i) is in place; s->b[k .. s->n + n) holds the merged tail. */
	total_n = i + (s->n + n - k);
	if (k > i)
		memmove(s->b + i, s->b + k, (size_t)(s->n + n - k) * sizeof(*s->b));
	s->n = total_n;
	s->total += sum;
	return 0;
}

void ep_shist_free(struct ep_shist *s)
{
	free(s->b);
	memset(s, 0, sizeof(*s));
}

void ep_shist_to_hist(const struct ep_shist *s, struct ep_hist *h)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		int32_t idx = s->b[i].idx;
		uint64_t c;

		if (idx < 0 || idx >= h->cfg.counts_len)
			continue;
		c = (uint64_t)h->counts[idx] + s->b[i].count;
		if (c > UINT32_MAX) {
			h->clamped += (int64_t)(c - UINT32_MAX);
			c = UINT32_MAX;
		}
		h->counts[idx] = (uint32_t)c;
		h->total += s->b[i].count;
		if (idx < h->min_idx)
			h->min_idx = idx;
		if (idx > h->max_idx)
			h->max_idx = idx;
	}
}
