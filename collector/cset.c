/* SPDX-License-Identifier: BSD-3-Clause */
/* cset.c - open-addressed sets of (ASN, country) entries, hashed by ASN, and their merge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static uint32_t asn_hash(uint32_t asn)
{
	return asn * 2654435761u;
}

/* ------------------------------------------------------------------------ */
/* Entry sets                                                                 */
/* ------------------------------------------------------------------------ */

static int cset_grow(struct ep_cset *s, uint64_t *bytes)
{
	uint32_t cap = s->cap ? s->cap * 2 : 8, mask = cap * 2 - 1, i;
	struct ep_centry *e;
	uint32_t *index;

	e = realloc(s->e, (size_t)cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	s->e = e;
	index = calloc((size_t)mask + 1, sizeof(*index));
	if (!index)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		uint32_t h = asn_hash(e[i].asn) & mask;

		while (index[h])
			h = (h + 1) & mask;
		index[h] = i + 1;
	}
	free(s->index);
	*bytes += (size_t)(cap - s->cap) * sizeof(*e) + (size_t)(mask - s->mask) * sizeof(*index);
	s->index = index;
	s->mask = mask;
	s->cap = cap;
	return 0;
}

/*
 * Entries are hashed by ASN alone, so that an ASN's entries (one per country)
 * lie in one probe run: every entry whose hash slot is h sits between h and
 * the first empty slot after it.
 */
const struct ep_centry *ep_cset_find(const struct ep_cset *s, uint32_t asn, uint16_t cc)
{
	uint32_t h;

	if (!s->cap)
		return NULL;
	for (h = asn_hash(asn) & s->mask; s->index[h]; h = (h + 1) & s->mask) {
		const struct ep_centry *e = &s->e[s->index[h] - 1];

		if (e->asn == asn && e->cc == cc)
			return e;
	}
	return NULL;
}

uint32_t ep_cset_each_asn(const struct ep_cset *s, uint32_t asn,
			  void (*cb)(const struct ep_centry *e, void *ctx), void *ctx)
{
	uint32_t h, n = 0;

	if (!s->cap)
		return 0;
	for (h = asn_hash(asn) & s->mask; s->index[h]; h = (h + 1) & s->mask) {
		const struct ep_centry *e = &s->e[s->index[h] - 1];

		if (e->asn == asn) {
			cb(e, ctx);
			n++;
		}
	}
	return n;
}

int ep_cset_first_of_asn(const struct ep_cset *s, const struct ep_centry *e)
{
	uint32_t h;

	for (h = asn_hash(e->asn) & s->mask; s->index[h]; h = (h + 1) & s->mask) {
		const struct ep_centry *o = &s->e[s->index[h] - 1];

		if (o->asn == e->asn)
			return o == e;
	}
	return 0;
}

struct ep_centry *ep_cset_get(struct ep_cset *s, uint32_t asn, uint16_t cc, uint64_t *bytes)
{
	struct ep_centry *e = (struct ep_centry *)ep_cset_find(s, asn, cc);
	uint32_t h;

	if (e)
		return e;
	if (s->n == s->cap && cset_grow(s, bytes) < 0)
		return NULL;
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	e->asn = asn;
	e->cc = cc;
	for (h = asn_hash(asn) & s->mask; s->index[h]; h = (h + 1) & s->mask)
		;
	s->index[h] = ++s->n;
	return e;
}

int ep_centry_add(struct ep_centry *dst, const struct ep_centry *src, uint64_t *bytes,
		  uint64_t *saturated)
{
	uint32_t k;
	int ret = 0;

	for (k = 0; k < EP_AC__COUNT; k++)
		dst->c[k] += src->c[k];
	for (k = 0; k < EP_AH__COUNT; k++) {
		size_t before = ep_shist_bytes(&dst->h[k]);

		if (ep_shist_add(&dst->h[k], &src->h[k], saturated) < 0)
			ret = -ENOMEM;
		*bytes += ep_shist_bytes(&dst->h[k]) - before;
	}
	return ret;
}

uint64_t ep_centry_samples(const struct ep_centry *e, unsigned hk)
{
	if (hk >= EP_AH__COUNT)
		return 0;
	if (hk == EP_AH_RTT_DATA && e->c[EP_AC_rtt_data_timed])
		return e->c[EP_AC_rtt_data_timed];
	return e->h[hk].total;
}

size_t ep_cset_bytes(const struct ep_cset *s)
{
	size_t n = (size_t)s->cap * sizeof(*s->e) + (s->cap ? (size_t)(s->mask + 1) * 4 : 0);
	uint32_t i, k;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			n += ep_shist_bytes(&s->e[i].h[k]);
	return n;
}

void ep_cset_free(struct ep_cset *s)
{
	uint32_t i, k;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_shist_free(&s->e[i].h[k]);
	free(s->e);
	free(s->index);
	memset(s, 0, sizeof(*s));
}
