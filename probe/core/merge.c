/* SPDX-License-Identifier: BSD-3-Clause */
/* merge.c - exact merge of per-source windows by interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

struct mwin {
	int used;
	uint64_t start_ns, end_ns;
	struct ep_window_asn *asns; /* sorted by asn; histograms and org owned */
	uint32_t n, cap;
};

struct ep_merge {
	struct mwin win[EP_MERGE_MAX_OPEN];
	struct mwin out;             /* the last popped window, freed on the next pop */
	uint64_t dropped;
};

int ep_merge_new(struct ep_merge **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void mwin_clear(struct mwin *w)
{
	uint32_t i, k;

	for (i = 0; i < w->n; i++) {
		free((char *)w->asns[i].org);
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_hist_free((struct ep_hist *)w->asns[i].h[k]);
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
		mwin_clear(&m->win[i]);
	mwin_clear(&m->out);
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
		mwin_clear(oldest);
		m->dropped++;
		*dropped = 1;
		free_w = oldest;
	}
	free_w->used = 1;
	free_w->start_ns = start;
	free_w->end_ns = end;
	return free_w;
}

static struct ep_window_asn *find_asn(struct mwin *w, uint32_t asn, const char *org)
{
	uint32_t lo = 0, hi = w->n;
	struct ep_window_asn *a;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (w->asns[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->n && w->asns[lo].asn == asn)
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
	a->asn = asn;
	a->org = strdup(org ? org : "");
	if (!a->org) {
		memmove(&w->asns[lo], &w->asns[lo + 1], (w->n - lo) * sizeof(*w->asns));
		return NULL;
	}
	w->n++;
	return a;
}

int ep_merge_add(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns,
		 const struct ep_window_asn *asns, uint32_t n)
{
	int dropped = 0, ret = 0;
	struct mwin *w = find_window(m, start_ns, end_ns, &dropped);
	uint32_t i, k;

	for (i = 0; i < n && !ret; i++) {
		struct ep_window_asn *a = find_asn(w, asns[i].asn, asns[i].org);

		if (!a)
			return -ENOMEM;
		for (k = 0; k < EP_AC__COUNT; k++)
			a->c[k] += asns[i].c[k];
		for (k = 0; k < EP_AH__COUNT && !ret; k++) {
			const struct ep_hist *src = asns[i].h[k];
			struct ep_hist *dst = (struct ep_hist *)a->h[k];

			if (!src || !src->total)
				continue;
			if (!dst) {
				ret = ep_hist_new(src->cfg.lowest, src->cfg.highest, src->cfg.sig_digits,
						  &dst);
				if (ret < 0)
					break;
				a->h[k] = dst;
			}
			ret = ep_hist_add(dst, src);
		}
	}
	return ret ? ret : (dropped ? -EOVERFLOW : 0);
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
	mwin_clear(&m->out);
	m->out = *oldest;
	memset(oldest, 0, sizeof(*oldest));
	view(&m->out, w);
	return 1;
}
