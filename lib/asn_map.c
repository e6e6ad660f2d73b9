/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_map.c - prefixes flattened into disjoint intervals, joined with countries; lookups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn_map_int.h"
#include "edgeprobe/ep_types.h"

/* ------------------------------------------------------------------------ */
/* Flattening prefixes into disjoint intervals                                */
/* ------------------------------------------------------------------------ */

static int prefix_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

static void emit_cc(struct family_table *t, u128 first, u128 last, uint32_t asn, uint32_t org,
		    uint16_t cc)
{
	struct interval *prev = t->n ? &t->iv[t->n - 1] : NULL;

	if (prev && prev->asn == asn && prev->org == org && prev->cc == cc &&
	    prev->last + 1 == first) {
		prev->last = last;
		return;
	}
	t->iv[t->n].first = first;
	t->iv[t->n].last = last;
	t->iv[t->n].asn = asn;
	t->iv[t->n].org = org;
	t->iv[t->n].cc = cc;
	t->n++;
}

static void emit(struct family_table *t, u128 first, u128 last, uint32_t asn, uint32_t org)
{
	emit_cc(t, first, last, asn, org, EP_CC_NONE);
}

static int flatten(struct prefix *p, size_t n, int width, struct family_table *t)
{
	struct {
		u128 last;
		uint32_t asn, org;
		u128 first;
		uint8_t len;
	} st[130];
	int sp = 0, done = 0;
	u128 cur = 0;
	size_t i;

	if (n)
		qsort(p, n, sizeof(*p), prefix_cmp);
	/* Each prefix yields at most two intervals (before and after nested ones). */
	t->iv = malloc((2 * n + 1) * sizeof(*t->iv));
	if (!t->iv)
		return -ENOMEM;
	t->n = 0;
	t->prefixes = n;
	for (i = 0; i < n; i++) {
		u128 last = width == 128 && p[i].len == 0
				    ? ~(u128)0
				    : p[i].first + (((u128)1 << (width - p[i].len)) - 1);

		/* Close every open prefix that ends before this one starts. */
		while (sp > 0 && st[sp - 1].last < p[i].first) {
			sp--;
			if (!done && cur <= st[sp].last)
				emit(t, cur, st[sp].last, st[sp].asn, st[sp].org);
			cur = st[sp].last + 1;
		}
		if (sp > 0 && st[sp - 1].first == p[i].first && st[sp - 1].len == p[i].len) {
			st[sp - 1].asn = p[i].asn; /* duplicate: the later line wins */
			st[sp - 1].org = p[i].org;
			continue;
		}
		if (sp > 0 && cur < p[i].first)
			emit(t, cur, p[i].first - 1, st[sp - 1].asn, st[sp - 1].org);
		cur = p[i].first;
		done = 0;
		st[sp].first = p[i].first;
		st[sp].last = last;
		st[sp].len = p[i].len;
		st[sp].asn = p[i].asn;
		st[sp].org = p[i].org;
		sp++;
	}
	while (sp > 0) {
		sp--;
		if (!done && cur <= st[sp].last)
			emit(t, cur, st[sp].last, st[sp].asn, st[sp].org);
		if (st[sp].last == (width == 32 ? (u128)0xffffffffu : ~(u128)0))
			done = 1; /* cur would wrap */
		cur = st[sp].last + 1;
	}
	return 0;
}

/*
 * The ASN intervals a and the country intervals c (asn holds the country) of one
 * family into t: every address covered by either gets one interval with its ASN
 * (0 where only a country is known) and its country (EP_CC_NONE where only an ASN
 * is).  Both inputs are sorted and disjoint; each step emits one interval and
 * passes at least one of their 2 (na + nc) boundaries.
 */
static int join_countries(const struct family_table *a, const struct family_table *c, int width,
			  struct family_table *t)
{
	const u128 top = width == 32 ? (u128)0xffffffffu : ~(u128)0;
	size_t i = 0, j = 0;
	u128 cur = 0;

	t->iv = malloc((2 * (a->n + c->n) + 1) * sizeof(*t->iv));
	if (!t->iv)
		return -ENOMEM;
	t->n = 0;
	t->prefixes = a->prefixes;
	while (i < a->n || j < c->n) {
		const struct interval *x = i < a->n ? &a->iv[i] : NULL;
		const struct interval *y = j < c->n ? &c->iv[j] : NULL;
		u128 xs = x ? (x->first > cur ? x->first : cur) : top;
		u128 ys = y ? (y->first > cur ? y->first : cur) : top;
		u128 s0 = x && (!y || xs <= ys) ? xs : ys, e;
		int inx = x && xs == s0, iny = y && ys == s0;

		e = inx ? x->last : y->last;
		if (iny && y->last < e)
			e = y->last;
		if (x && !inx && xs - 1 < e)
			e = xs - 1;
		if (y && !iny && ys - 1 < e)
			e = ys - 1;
		emit_cc(t, s0, e, inx ? x->asn : EP_ASN_UNKNOWN, inx ? x->org : 0,
			iny ? (uint16_t)y->asn : EP_CC_NONE);
		if (e == top)
			break;
		cur = e + 1;
		if (x && x->last < cur)
			i++;
		if (y && y->last < cur)
			j++;
	}
	return 0;
}

/* Flatten a family's ASN prefixes and, when there are any, its country prefixes into t. */
static int build_family(struct prefix_vec *asn, struct prefix_vec *cc, int width,
			struct family_table *t)
{
	struct family_table a = {0}, c = {0};
	int ret;

	if (!cc->n)
		return flatten(asn->v, asn->n, width, t);
	ret = flatten(asn->v, asn->n, width, &a);
	if (!ret)
		ret = flatten(cc->v, cc->n, width, &c);
	if (!ret)
		ret = join_countries(&a, &c, width, t);
	free(a.iv);
	free(c.iv);
	return ret;
}

static int build_idx4(struct ep_asn_map *m)
{
	size_t i = 0;
	uint32_t t;

	m->idx4 = malloc(65537 * sizeof(*m->idx4));
	if (!m->idx4)
		return -ENOMEM;
	for (t = 0; t <= 65536; t++) {
		while (i < m->v4.n && m->v4.iv[i].first < ((u128)t << 16))
			i++;
		m->idx4[t] = (uint32_t)i;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

/* A map with no ranges and no index yet (its string pool holds ""). */
static struct ep_asn_map *map_new(void)
{
	struct ep_asn_map *m = calloc(1, sizeof(*m));
	uint32_t off;

	if (m && ep_asn_pool_add(m, "", 0, &off) < 0) {
		ep_asn_map_free(m);
		return NULL;
	}
	return m;
}

int ep_asn_map_empty(struct ep_asn_map **out)
{
	struct ep_asn_map *m = map_new();

	*out = NULL;
	if (!m || build_idx4(m) < 0) {
		ep_asn_map_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

int ep_asn_map_load(const char *const *files, struct ep_asn_map **out, char *err, size_t errlen)
{
	struct loader ld = {.err = err, .errlen = errlen};
	int ret;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	ld.m = map_new();
	if (!ld.m)
		return -ENOMEM;
	for (; *files; files++) {
		ret = ep_asn_load_file(&ld, *files);
		if (ret < 0)
			goto cleanup;
	}
	ld.line = 0;
	ld.m->cc_prefixes4 = ld.cc4.n;
	ld.m->cc_prefixes6 = ld.cc6.n;
	ret = build_family(&ld.asn4, &ld.cc4, 32, &ld.m->v4);
	if (!ret)
		ret = build_family(&ld.asn6, &ld.cc6, 128, &ld.m->v6);
	if (!ret)
		ret = build_idx4(ld.m);
	if (ret < 0) {
		ep_asn_fail(&ld, ret, "out of memory");
		goto cleanup;
	}
	*out = ld.m;
	ld.m = NULL;
cleanup:
	free(ld.asn4.v);
	free(ld.asn6.v);
	free(ld.cc4.v);
	free(ld.cc6.v);
	ep_asn_map_free(ld.m);
	return ret;
}

void ep_asn_map_free(struct ep_asn_map *m)
{
	if (!m)
		return;
	free(m->v4.iv);
	free(m->v6.iv);
	free(m->idx4);
	free(m->pool);
	free(m->orgs);
	free(m);
}

/* Index of the last interval in [lo, hi) with first <= key, or lo - 1. */
static size_t upper(const struct interval *iv, size_t lo, size_t hi, u128 key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (iv[mid].first <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t ep_asn_map_lookup_cc(const struct ep_asn_map *m, int family, const uint8_t *addr,
			      const char **org, uint16_t *cc)
{
	const struct family_table *t;
	size_t pos;
	u128 key = 0;
	int i;

	if (family == 4) {
		uint32_t a = ep_be32(addr);

		t = &m->v4;
		key = a;
		pos = upper(t->iv, m->idx4[a >> 16], m->idx4[(a >> 16) + 1], key);
	} else {
		t = &m->v6;
		for (i = 0; i < 16; i++)
			key = key << 8 | addr[i];
		pos = upper(t->iv, 0, t->n, key);
	}
	if (pos > 0 && key <= t->iv[pos - 1].last) {
		if (org)
			*org = m->pool + t->iv[pos - 1].org;
		if (cc) /* AS 0 has no country: the BPF tries hold only ASN prefixes */
			*cc = t->iv[pos - 1].asn ? t->iv[pos - 1].cc : EP_CC_NONE;
		return t->iv[pos - 1].asn;
	}
	if (org)
		*org = m->pool;
	if (cc)
		*cc = EP_CC_NONE;
	return EP_ASN_UNKNOWN;
}

uint32_t ep_asn_map_lookup(const struct ep_asn_map *m, int family, const uint8_t *addr,
			   const char **org)
{
	return ep_asn_map_lookup_cc(m, family, addr, org, NULL);
}

const char *ep_asn_map_org(const struct ep_asn_map *m, uint32_t asn)
{
	size_t i;

	if (!m->orgs_cap)
		return m->pool;
	i = ep_asn_org_slot(m, asn);
	return m->orgs[i].used ? m->pool + m->orgs[i].org : m->pool;
}

void ep_asn_map_info(const struct ep_asn_map *m, struct ep_asn_map_info *info)
{
	info->lines = m->lines;
	info->org_fixed = m->org_fixed;
	info->prefixes4 = m->v4.prefixes;
	info->prefixes6 = m->v6.prefixes;
	info->intervals4 = m->v4.n;
	info->intervals6 = m->v6.n;
	info->asns = m->orgs_n;
	info->cc_lines = m->cc_lines;
	info->cc_prefixes4 = m->cc_prefixes4;
	info->cc_prefixes6 = m->cc_prefixes6;
	info->countries = 0;
	for (size_t c = 0; c <= EP_CC_MAX; c++)
		info->countries += m->cc_seen[c];
	info->bytes = (m->v4.n + m->v6.n) * sizeof(struct interval) + m->pool_cap +
		      m->orgs_cap * sizeof(struct asn_org) + 65537 * sizeof(uint32_t);
}

int ep_asn_map_prefixes(const struct ep_asn_map *m, int family, ep_asn_prefix_cb cb, void *ctx)
{
	const struct family_table *t = family == 4 ? &m->v4 : &m->v6;
	int bits = family == 4 ? 32 : 128;
	size_t i;

	/* Each flattened interval as the fewest prefixes that cover exactly it. */
	for (i = 0; i < t->n; i++) {
		u128 first = t->iv[i].first, last = t->iv[i].last;

		if (t->iv[i].asn == EP_ASN_UNKNOWN)
			continue; /* a country alone: no match gives AS 0 as well */

		for (;;) {
			uint8_t addr[16] = {0};
			int len = bits, j, ret;
			u128 size;

			/* Grow the block while it stays aligned and inside the interval. */
			while (len > 0 && bits - len + 1 < 128) {
				u128 bigger = (u128)1 << (bits - len + 1);

				if ((first & (bigger - 1)) != 0 || first + bigger - 1 > last)
					break;
				len--;
			}
			size = (u128)1 << (bits - len);
			for (j = 0; j < bits / 8; j++)
				addr[j] = (uint8_t)(first >> (bits - 8 - 8 * j));
			ret = cb(ctx, addr, len, t->iv[i].asn, t->iv[i].cc);
			if (ret)
				return ret;
			if (first + size - 1 >= last)
				break;
			first += size;
		}
	}
	return 0;
}
