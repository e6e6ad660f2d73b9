/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_agg.c - per-ASN window aggregates with a dirty list and a histogram pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn_agg.h"
#include "edgeprobe/ep_flow_key.h"

const char *const ep_asn_counter_names[EP_AC__COUNT] = {
#define EP_X(n) #n,
	EP_ASN_COUNTERS(EP_X)
#undef EP_X
};

const char *const ep_asn_hist_names[EP_AH__COUNT] = {"rtt_hs", "rtt_data", "retx_ppm"};

static uint32_t hash_asn(uint32_t asn)
{
	return (uint32_t)(ep_mix64(asn) >> 32);
}

int ep_asn_agg_init(struct ep_asn_agg *a, uint32_t max_asns, const struct ep_hdr_cfg *cfg)
{
	uint32_t size = 1;

	memset(a, 0, sizeof(*a));
	if (max_asns < 1 || max_asns >= EP_ASN_AGG_MAX_SLOTS)
		return -EINVAL;
	a->cap = max_asns + 1;
	while (size < a->cap * 2)
		size <<= 1;
	a->index_mask = size - 1;
	a->cfg = *cfg;
	a->gen = 1;
	a->slots = calloc(a->cap, sizeof(*a->slots));
	a->index = calloc(size, sizeof(*a->index));
	a->dirty = calloc(a->cap, sizeof(*a->dirty));
	a->pool_cap = a->cap * EP_AH__COUNT;
	a->pool = calloc(a->pool_cap, sizeof(*a->pool));
	if (!a->slots || !a->index || !a->dirty || !a->pool) {
		ep_asn_agg_fini(a);
		return -ENOMEM;
	}
	/* The "other" slot is slot 0 and is not in the index. */
	a->slots[0].asn = EP_ASN_OTHER;
	a->slots[0].org = "other (ASN table full)";
	a->other = 0;
	a->nslots = 1;
	return 0;
}

void ep_asn_agg_fini(struct ep_asn_agg *a)
{
	uint32_t i, k;

	if (a->slots)
		for (i = 0; i < a->nslots; i++)
			for (k = 0; k < EP_AH__COUNT; k++)
				ep_hist_free(a->slots[i].h[k]);
	for (i = 0; i < a->npool; i++)
		ep_hist_free(a->pool[i]);
	free(a->slots);
	free(a->index);
	free(a->dirty);
	free(a->pool);
	memset(a, 0, sizeof(*a));
}

uint32_t ep_asn_agg_slot(struct ep_asn_agg *a, uint32_t asn, const char *org)
{
	uint32_t i = hash_asn(asn) & a->index_mask;

	while (a->index[i]) {
		uint32_t s = a->index[i] - 1;

		if (a->slots[s].asn == asn)
			return s;
		i = (i + 1) & a->index_mask;
	}
	if (a->nslots == a->cap) {
		a->overflow++;
		return a->other;
	}
	a->slots[a->nslots].asn = asn;
	a->slots[a->nslots].org = org ? org : "";
	a->index[i] = a->nslots + 1;
	return a->nslots++;
}

struct ep_hist *ep_asn_agg_hist_get(struct ep_asn_agg *a)
{
	struct ep_hist *h;
	uint32_t *counts;

	if (a->npool)
		return a->pool[--a->npool];
	h = malloc(sizeof(*h));
	counts = calloc(1, ep_hist_counts_bytes(&a->cfg));
	if (!h || !counts) {
		free(h);
		free(counts);
		return NULL;
	}
	ep_hist_init_preallocated(h, &a->cfg, counts);
	return h;
}

void ep_asn_agg_clear(struct ep_asn_agg *a)
{
	uint32_t i, k;

	for (i = 0; i < a->ndirty; i++) {
		struct ep_asn_slot *s = &a->slots[a->dirty[i]];

		memset(s->c, 0, sizeof(s->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			if (!s->h[k])
				continue;
			ep_hist_reset(s->h[k]);
			if (a->npool < a->pool_cap)
				a->pool[a->npool++] = s->h[k];
			else
				ep_hist_free(s->h[k]);
			s->h[k] = NULL;
		}
	}
	a->ndirty = 0;
	a->gen++;
}
