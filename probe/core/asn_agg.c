/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_agg.c - per-(ASN, country) window aggregates with a dirty list and a histogram pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn_agg.h"
#include "country.h"
#include "edgeprobe/ep_flow_key.h"

static uint32_t hash_key(uint32_t asn, uint16_t cc)
{
	return (uint32_t)(ep_mix64(ep_akey(asn, cc)) >> 32);
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
	a->out = calloc(a->cap, sizeof(*a->out));
	a->order = calloc(a->cap, sizeof(*a->order));
	a->order_tmp = calloc(a->cap, sizeof(*a->order_tmp));
	if (!a->slots || !a->index || !a->dirty || !a->pool || !a->out || !a->order || !a->order_tmp) {
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
	free(a->out);
	free(a->order);
	free(a->order_tmp);
	memset(a, 0, sizeof(*a));
}

uint32_t ep_asn_agg_slot(struct ep_asn_agg *a, uint32_t asn, uint16_t cc, const char *org)
{
	uint32_t i = hash_key(asn, cc) & a->index_mask;

	while (a->index[i]) {
		uint32_t s = a->index[i] - 1;

		if (a->slots[s].asn == asn && a->slots[s].cc == cc)
			return s;
		i = (i + 1) & a->index_mask;
	}
	if (a->nslots == a->cap) {
		a->overflow++;
		return a->other;
	}
	a->slots[a->nslots].asn = asn;
	a->slots[a->nslots].cc = cc;
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

int ep_asn_agg_add_bins(struct ep_asn_agg *a, uint32_t slot, enum ep_asn_hist k,
			const struct ep_hbin *b, uint32_t n)
{
	struct ep_asn_slot *s = ep_asn_agg_touch(a, slot);

	if (!s->h[k] && !(s->h[k] = ep_asn_agg_hist_get(a))) {
		a->hist_nomem += n;
		return -ENOMEM;
	}
	return ep_hist_add_bins(s->h[k], b, n, 0);
}

/* (ASN, country) of a sort key (asn << 32 | slot). */
static inline uint64_t key_of(const struct ep_asn_agg *a, uint64_t k)
{
	return ep_akey((uint32_t)(k >> 32), a->slots[(uint32_t)k].cc);
}

/*
 * Sort n keys (asn << 32 | slot) by (ASN, country): insertion sort when few,
 * else LSD radix sort: one counting pass on the country (skipped when every
 * key has the same), then the ASN's four bytes (tmp: n more).
 */
static void sort_keys(const struct ep_asn_agg *a, uint64_t *k, uint64_t *tmp, uint32_t n)
{
	uint64_t *in = k, *t;
	uint32_t i, pass, mixed = 0;

	if (n <= 64) {
		for (i = 1; i < n; i++) {
			uint64_t v = k[i], kv = key_of(a, v);
			uint32_t j = i;

			for (; j > 0 && key_of(a, k[j - 1]) > kv; j--)
				k[j] = k[j - 1];
			k[j] = v;
		}
		return;
	}
	for (i = 1; i < n && !mixed; i++)
		mixed = a->slots[(uint32_t)k[i]].cc != a->slots[(uint32_t)k[0]].cc;
	if (mixed) {
		uint32_t count[EP_CC_MAX + 2] = {0};

		for (i = 0; i < n; i++)
			count[a->slots[(uint32_t)k[i]].cc + 1]++;
		for (i = 0; i <= EP_CC_MAX; i++)
			count[i + 1] += count[i];
		for (i = 0; i < n; i++)
			tmp[count[a->slots[(uint32_t)k[i]].cc]++] = k[i];
		t = k;
		k = tmp;
		tmp = t;
	}
	for (pass = 0; pass < 4; pass++) {
		uint32_t count[257] = {0}, shift = 32 + 8 * pass;

		for (i = 0; i < n; i++)
			count[((k[i] >> shift) & 0xff) + 1]++;
		for (i = 0; i < 256; i++)
			count[i + 1] += count[i];
		for (i = 0; i < n; i++)
			tmp[count[(k[i] >> shift) & 0xff]++] = k[i];
		t = k;
		k = tmp;
		tmp = t;
	}
	if (k != in)
		memcpy(in, k, (size_t)n * sizeof(*k));
}

uint32_t ep_asn_agg_view(struct ep_asn_agg *a, struct ep_window_asn **out)
{
	uint32_t i, k;

	/* Sort small keys, then fill the records once, in place. */
	for (i = 0; i < a->ndirty; i++)
		a->order[i] = (uint64_t)a->slots[a->dirty[i]].asn << 32 | a->dirty[i];
	sort_keys(a, a->order, a->order_tmp, a->ndirty);
	for (i = 0; i < a->ndirty; i++) {
		const struct ep_asn_slot *s = &a->slots[(uint32_t)a->order[i]];
		struct ep_window_asn *o = &a->out[i];

		o->asn = s->asn;
		o->cc = s->cc;
		o->org = s->org;
		memcpy(o->c, s->c, sizeof(o->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			o->h[k] = s->h[k];
			o->enc[k] = NULL;
			o->enc_len[k] = 0;
		}
	}
	*out = a->out;
	return a->ndirty;
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
