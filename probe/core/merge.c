/* SPDX-License-Identifier: BSD-3-Clause */
/* merge.c - exact merge of per-source windows by interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

struct mwin {
	int used;
	uint64_t start_ns, end_ns;
	struct ep_window_asn *asns; /* sorted by ep_akey; histograms and org owned */
	uint32_t n, cap;
};

struct ep_merge {
	struct mwin win[EP_MERGE_MAX_OPEN];
	struct mwin out;             /* the last popped window, freed on the next pop */
	uint64_t dropped;
	struct ep_hist **pool;       /* emptied histograms, reused (no 10 KiB calloc per ASN) */
	uint32_t npool, pool_cap;
};

int ep_merge_new(struct ep_merge **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/* Back to the pool, emptied (only its touched range is zeroed); freed when the pool cannot grow. */
static void hist_put(struct ep_merge *m, struct ep_hist *h)
{
	if (!h)
		return;
	if (m->npool == m->pool_cap) {
		uint32_t cap = m->pool_cap ? m->pool_cap * 2 : 256;
		struct ep_hist **p = realloc(m->pool, cap * sizeof(*p));

		if (!p) {
			ep_hist_free(h);
			return;
		}
		m->pool = p;
		m->pool_cap = cap;
	}
	ep_hist_reset(h);
	m->pool[m->npool++] = h;
}

/* An empty histogram configured like src. @return 0 or -ENOMEM, -EINVAL. */
static int cfg_same(const struct ep_hdr_cfg *a, const struct ep_hdr_cfg *b)
{
	return a->lowest == b->lowest && a->highest == b->highest && a->sig_digits == b->sig_digits;
}

static int hist_get(struct ep_merge *m, const struct ep_hdr_cfg *cfg, struct ep_hist **out)
{
	while (m->npool) {
		struct ep_hist *h = m->pool[--m->npool];

		if (cfg_same(&h->cfg, cfg)) {
			*out = h;
			return 0;
		}
		ep_hist_free(h); /* another configuration: not worth keeping */
	}
	return ep_hist_new(cfg->lowest, cfg->highest, cfg->sig_digits, out);
}

static void mwin_clear(struct ep_merge *m, struct mwin *w)
{
	uint32_t i, k;

	for (i = 0; i < w->n; i++) {
		free((char *)w->asns[i].org);
		for (k = 0; k < EP_AH__COUNT; k++)
			hist_put(m, (struct ep_hist *)w->asns[i].h[k]);
	}
	free(w->asns);
	memset(w, 0, sizeof(*w));
}

void ep_merge_free(struct ep_merge *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < EP_MERGE_MAX_OPEN; i++)
		mwin_clear(m, &m->win[i]);
	mwin_clear(m, &m->out);
	while (m->npool)
		ep_hist_free(m->pool[--m->npool]);
	free(m->pool);
	free(m);
}

uint64_t ep_merge_dropped(const struct ep_merge *m)
{
	return m->dropped;
}

static struct mwin *find_window(struct ep_merge *m, uint64_t start, uint64_t end, int *dropped)
{
	struct mwin *free_w = NULL, *oldest = NULL;
	int i;

	for (i = 0; i < EP_MERGE_MAX_OPEN; i++) {
		struct mwin *w = &m->win[i];

		if (w->used && w->start_ns == start)
			return w;
		if (!w->used && !free_w)
			free_w = w;
		if (w->used && (!oldest || w->start_ns < oldest->start_ns))
			oldest = w;
	}
	if (!free_w) {
		mwin_clear(m, oldest);
		m->dropped++;
		*dropped = 1;
		free_w = oldest;
	}
	free_w->used = 1;
	free_w->start_ns = start;
	free_w->end_ns = end;
	return free_w;
}

static inline uint64_t wkey(const struct ep_window_asn *a)
{
	return ep_akey(a->asn, a->cc);
}

static struct ep_window_asn *find_asn(struct mwin *w, uint64_t key, const char *org)
{
	uint32_t lo = 0, hi = w->n;
	struct ep_window_asn *a;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (wkey(&w->asns[mid]) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->n && wkey(&w->asns[lo]) == key)
		return &w->asns[lo];
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? w->cap * 2 : 64;
		struct ep_window_asn *p = realloc(w->asns, cap * sizeof(*p));

		if (!p)
			return NULL;
		w->asns = p;
		w->cap = cap;
	}
	memmove(&w->asns[lo + 1], &w->asns[lo], (w->n - lo) * sizeof(*w->asns));
	a = &w->asns[lo];
	memset(a, 0, sizeof(*a));
	a->asn = (uint32_t)(key >> 16);
	a->cc = (uint16_t)key;
	a->org = strdup(org ? org : "");
	if (!a->org) {
		memmove(&w->asns[lo], &w->asns[lo + 1], (w->n - lo) * sizeof(*w->asns));
		return NULL;
	}
	w->n++;
	return a;
}

/* Add src's counters and histograms into a. @return 0, -ENOMEM, -EINVAL. */
static int add_into(struct ep_merge *m, struct ep_window_asn *a, const struct ep_window_asn *src)
{
	uint32_t k;
	int ret;

	for (k = 0; k < EP_AC__COUNT; k++)
		a->c[k] += src->c[k];
	for (k = 0; k < EP_AH__COUNT; k++) {
		const struct ep_hist *h = src->h[k];
		struct ep_hist *dst = (struct ep_hist *)a->h[k];

		if (!h || !h->total)
			continue;
		if (!dst) {
			if ((ret = hist_get(m, &h->cfg, &dst)) < 0)
				return ret;
			a->h[k] = dst;
		}
		if ((ret = ep_hist_add(dst, h)) < 0)
			return ret;
	}
	return 0;
}

/* The same from a sparse record of configuration cfg. */
static int add_into_sparse(struct ep_merge *m, struct ep_window_asn *a,
			   const struct ep_sparse_asn *src, const struct ep_hdr_cfg *cfg)
{
	uint32_t k;
	int ret;

	for (k = 0; k < EP_AC__COUNT; k++)
		a->c[k] += src->c[k];
	for (k = 0; k < EP_AH__COUNT; k++) {
		struct ep_hist *dst = (struct ep_hist *)a->h[k];

		if (!src->nbins[k] && !src->clamped[k])
			continue;
		if (!dst) {
			if ((ret = hist_get(m, cfg, &dst)) < 0)
				return ret;
			a->h[k] = dst;
		} else if (!cfg_same(&dst->cfg, cfg)) {
			return -EINVAL;
		}
		if ((ret = ep_hist_add_bins(dst, src->bins[k], src->nbins[k], src->clamped[k])) < 0)
			return ret;
	}
	return 0;
}

/* One source's records: dense histograms, or sparse ones of a configuration. */
struct src {
	const struct ep_window_asn *dense;
	const struct ep_sparse_asn *sparse;
	const struct ep_hdr_cfg *cfg;
};

/* The (ASN, country) key of record i. */
static inline uint64_t src_key(const struct src *s, uint32_t i)
{
	return s->dense ? wkey(&s->dense[i]) : ep_akey(s->sparse[i].asn, s->sparse[i].cc);
}

static inline const char *src_org(const struct src *s, uint32_t i)
{
	return s->dense ? s->dense[i].org : s->sparse[i].org;
}

static int src_add(struct ep_merge *m, struct ep_window_asn *a, const struct src *s, uint32_t i)
{
	return s->dense ? add_into(m, a, &s->dense[i]) : add_into_sparse(m, a, &s->sparse[i], s->cfg);
}

/*
 * Merge n records sorted by (ASN, country) into w (also sorted): count the new ones,
 * make room, and merge from the back, so that each record moves once
 * (inserting one by one moved the tail of the array for every new ASN).
 */
static int add_sorted(struct ep_merge *m, struct mwin *w, const struct src *src, uint32_t n)
{
	uint32_t i = 0, j = 0, fresh = 0, total;
	int64_t e, s, d;
	int ret = 0;

	while (j < n) {
		if (i < w->n && wkey(&w->asns[i]) < src_key(src, j)) {
			i++;
		} else {
			fresh += !(i < w->n && wkey(&w->asns[i]) == src_key(src, j));
			j++;
		}
	}
	total = w->n + fresh;
	if (total > w->cap) {
		uint32_t cap = w->cap ? w->cap : 64;
		struct ep_window_asn *p;

		while (cap < total)
			cap *= 2;
		if (!(p = realloc(w->asns, cap * sizeof(*p))))
			return -ENOMEM;
		w->asns = p;
		w->cap = cap;
	}
	e = (int64_t)w->n - 1;
	s = (int64_t)n - 1;
	d = (int64_t)total - 1;
	while (s >= 0 && !ret) {
		uint64_t sa = src_key(src, (uint32_t)s);

		if (e >= 0 && wkey(&w->asns[e]) > sa) {
			w->asns[d--] = w->asns[e--];
		} else if (e >= 0 && wkey(&w->asns[e]) == sa) {
			ret = src_add(m, &w->asns[e], src, (uint32_t)s);
			w->asns[d--] = w->asns[e--];
			s--;
		} else {
			struct ep_window_asn *a = &w->asns[d];
			const char *org = src_org(src, (uint32_t)s);

			memset(a, 0, sizeof(*a));
			a->asn = (uint32_t)(sa >> 16);
			a->cc = (uint16_t)sa;
			a->org = strdup(org ? org : "");
			if (!a->org) {
				ret = -ENOMEM;
				break;
			}
			d--;
			ret = src_add(m, a, src, (uint32_t)s--);
		}
	}
	/* Records [0, e] are in place; on an error, close the gap (e, d] before the placed ones. */
	if (d > e)
		memmove(&w->asns[e + 1], &w->asns[d + 1], (size_t)(total - 1 - d) * sizeof(*w->asns));
	w->n = (uint32_t)(e + 1 + ((int64_t)total - 1 - d));
	return ret;
}

static int add_src(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns, const struct src *src,
		   uint32_t n)
{
	int dropped = 0, ret = 0;
	struct mwin *w = find_window(m, start_ns, end_ns, &dropped);
	uint32_t i;

	for (i = 1; i < n && src_key(src, i - 1) < src_key(src, i); i++)
		;
	if (i >= n) {
		ret = add_sorted(m, w, src, n);
	} else {
		/* Not in order (not what the probes send): one by one. */
		for (i = 0; i < n && !ret; i++) {
			struct ep_window_asn *a = find_asn(w, src_key(src, i), src_org(src, i));

			ret = a ? src_add(m, a, src, i) : -ENOMEM;
		}
	}
	return ret ? ret : (dropped ? -EOVERFLOW : 0);
}

int ep_merge_add(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns,
		 const struct ep_window_asn *asns, uint32_t n)
{
	struct src src = {asns, NULL, NULL};

	return add_src(m, start_ns, end_ns, &src, n);
}

int ep_merge_add_sparse(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns,
			const struct ep_hdr_cfg *cfg, const struct ep_sparse_asn *asns, uint32_t n)
{
	struct src src = {NULL, asns, cfg};

	return add_src(m, start_ns, end_ns, &src, n);
}

static void view(const struct mwin *mw, struct ep_window *w)
{
	memset(w, 0, sizeof(*w));
	w->type = EP_WIN_WINDOW;
	w->start_ns = mw->start_ns;
	w->end_ns = mw->end_ns;
	w->asns = mw->asns;
	w->nasns = mw->n;
}

int ep_merge_peek(const struct ep_merge *m, uint64_t start_ns, struct ep_window *w)
{
	int i;

	for (i = 0; i < EP_MERGE_MAX_OPEN; i++) {
		if (m->win[i].used && m->win[i].start_ns == start_ns) {
			view(&m->win[i], w);
			return 1;
		}
	}
	memset(w, 0, sizeof(*w));
	return 0;
}

int ep_merge_pop(struct ep_merge *m, uint64_t before_ns, struct ep_window *w)
{
	struct mwin *oldest = NULL;
	int i;

	for (i = 0; i < EP_MERGE_MAX_OPEN; i++)
		if (m->win[i].used && m->win[i].start_ns < before_ns &&
		    (!oldest || m->win[i].start_ns < oldest->start_ns))
			oldest = &m->win[i];
	if (!oldest)
		return 0;
	mwin_clear(m, &m->out);
	m->out = *oldest;
	memset(oldest, 0, sizeof(*oldest));
	view(&m->out, w);
	return 1;
}
