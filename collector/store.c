/* SPDX-License-Identifier: BSD-3-Clause */
/* store.c - tiered roll-ups of per-(ASN, country) counters and histograms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edgeprobe/ep_wire.h"
#include "store.h"

/* ------------------------------------------------------------------------ */
/* Views                                                                      */
/* ------------------------------------------------------------------------ */

int ep_view_init(struct ep_view *v, uint32_t ntiers, const uint64_t *steps,
		 const uint32_t *counts, uint32_t max_asns)
{
	uint32_t i;

	memset(v, 0, sizeof(*v));
	v->announce_tier = -1;
	if (ntiers < 1 || ntiers > EP_STORE_MAX_TIERS || max_asns < 1)
		return -EINVAL;
	for (i = 0; i < ntiers; i++) {
		if (!steps[i] || !counts[i] || (i && steps[i] % steps[i - 1]))
			return -EINVAL;
		/* A finer tier must hold at least one window of the next. */
		if (i && (uint64_t)counts[i - 1] * steps[i - 1] < steps[i])
			return -EINVAL;
	}
	v->ntiers = ntiers;
	v->max_asns = max_asns;
	for (i = 0; i < ntiers; i++) {
		v->t[i].step_ns = steps[i];
		v->t[i].count = counts[i];
		v->t[i].b = calloc(counts[i], sizeof(*v->t[i].b));
		if (!v->t[i].b) {
			ep_view_fini(v);
			return -ENOMEM;
		}
	}
	return 0;
}

void ep_view_fini(struct ep_view *v)
{
	uint32_t i, j;

	for (i = 0; i < v->ntiers; i++) {
		for (j = 0; v->t[i].b && j < v->t[i].count; j++)
			ep_cset_free(&v->t[i].b[j].set);
		free(v->t[i].b);
		v->t[i].b = NULL;
	}
	v->ntiers = 0;
}

static void add_entry(struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
		      const struct ep_centry *src, uint64_t windows);

/* Merge bucket b of tier ti into tier ti + 1 and mark it closed. */
static void close_bucket(struct ep_view *v, uint32_t ti, struct ep_bucket *b)
{
	uint32_t i;

	b->closed = 1;
	if (ti + 1 >= v->ntiers)
		return;
	for (i = 0; i < b->set.n; i++)
		add_entry(v, ti + 1, b->start, b->newest_end, &b->set.e[i], i == 0 ? b->windows : 0);
}

static void persist_one(struct ep_view *v, struct ep_tier *t, struct ep_bucket *b);

/* A bucket about to be recycled or freed goes to storage first, as it is. */
static void persist_before_free(struct ep_view *v, uint32_t ti, struct ep_bucket *b)
{
	if (v->on_persist && (v->persist_tiers >> ti & 1) && !b->persisted)
		persist_one(v, &v->t[ti], b);
}

/* The bucket of tier ti for start, created (its slot recycled) when create. */
static struct ep_bucket *bucket_for(struct ep_view *v, uint32_t ti, uint64_t start, int create)
{
	struct ep_tier *t = &v->t[ti];
	uint64_t aligned = start - start % t->step_ns;
	struct ep_bucket *b = &t->b[(aligned / t->step_ns) % t->count];

	if (b->used && b->start == aligned)
		return b;
	if (!create || (b->used && b->start > aligned))
		return NULL;
	if (b->used) {
		if (!b->closed && ti + 1 < v->ntiers) {
			v->ctr.forced_close++;
			close_bucket(v, ti, b);
		}
		persist_before_free(v, ti, b);
		v->bytes -= ep_cset_bytes(&b->set);
		ep_cset_free(&b->set);
	}
	memset(b, 0, sizeof(*b));
	b->used = 1;
	b->start = aligned;
	/* Created after its window was rolled up: it is closed from the start. */
	if (ti + 1 < v->ntiers) {
		uint64_t next = v->t[ti + 1].step_ns;

		if (aligned - aligned % next + next <= t->closed_upto)
			b->closed = 1;
	}
	return b;
}

static void add_entry(struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
		      const struct ep_centry *src, uint64_t windows)
{
	struct ep_bucket *b;
	struct ep_centry *e;

	for (; ti < v->ntiers; ti++) {
		if (start < v->t[ti].shed_below)
			continue; /* freed under the memory cap: only coarser tiers hold it */
		b = bucket_for(v, ti, start, 1);
		if (b)
			break;
		/* Older than this tier holds: it was rolled up into the next one already. */
	}
	if (ti >= v->ntiers) {
		v->ctr.too_old++;
		return;
	}
	b->windows += windows;
	if (end > b->newest_end)
		b->newest_end = end;
	if (b->start < v->t[ti].persist_upto) {
		/* Late data for a bucket handed to storage: hand it again. */
		b->persisted = 0;
		v->t[ti].persist_dirty = 1;
	}
	e = NULL;
	if (b->set.n >= v->max_asns && !ep_cset_find(&b->set, src->asn, src->cc)) {
		v->ctr.asn_cap++;
		e = ep_cset_get(&b->set, EP_ASN_OTHER, 0, &v->bytes);
	} else {
		e = ep_cset_get(&b->set, src->asn, src->cc, &v->bytes);
	}
	if (!e || ep_centry_add(e, src, &v->bytes, &v->ctr.saturated) < 0) {
		v->ctr.nomem++;
		return;
	}
	if (b->closed && ti + 1 < v->ntiers) {
		if (ti == 0)
			v->ctr.late++;
		add_entry(v, ti + 1, start, end, src, windows);
	}
}

void ep_view_add(struct ep_view *v, uint64_t start_ns, uint64_t end_ns,
		 const struct ep_crec *recs, uint32_t n)
{
	struct ep_centry tmp;
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.asn = recs[i].asn;
		tmp.cc = recs[i].cc;
		memcpy(tmp.c, recs[i].c, sizeof(tmp.c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			uint32_t j;

			/* A read-only view of the record's bins: merged, never grown. */
			tmp.h[k].b = (struct ep_hbin *)(uintptr_t)recs[i].bins[k];
			tmp.h[k].n = tmp.h[k].cap = recs[i].nbins[k];
			for (j = 0; j < recs[i].nbins[k]; j++)
				tmp.h[k].total += recs[i].bins[k][j].count;
		}
		add_entry(v, 0, start_ns, end_ns, &tmp, i == 0 ? 1 : 0);
		v->ctr.records++;
	}
	if (n == 0) {
		/* An empty window still counts as received in its bucket. */
		struct ep_bucket *b = bucket_for(v, 0, start_ns, 1);

		if (b) {
			b->windows++;
			if (end_ns > b->newest_end)
				b->newest_end = end_ns;
		}
	}
	if (end_ns > v->newest_end)
		v->newest_end = end_ns;
}

static int cmp_bucket_start(const void *a, const void *b)
{
	const struct ep_bucket *x = *(const struct ep_bucket *const *)a;
	const struct ep_bucket *y = *(const struct ep_bucket *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void announce(struct ep_view *v, uint64_t upto)
{
	struct ep_tier *t = &v->t[v->announce_tier];
	struct ep_bucket **list;
	uint32_t i, n = 0;

	list = malloc((size_t)t->count * sizeof(*list));
	if (!list) {
		v->ctr.nomem++;
		return;
	}
	for (i = 0; i < t->count; i++) {
		struct ep_bucket *b = &t->b[i];

		if (b->used && !b->announced && b->start + t->step_ns <= upto)
			list[n++] = b;
	}
	qsort(list, n, sizeof(*list), cmp_bucket_start);
	for (i = 0; i < n; i++) {
		list[i]->announced = 1;
		v->on_close(list[i], t->step_ns, v->cb_ctx);
	}
	free(list);
}

/* Hand b to storage; a bucket handed before is marked as such by the count. */
static void persist_one(struct ep_view *v, struct ep_tier *t, struct ep_bucket *b)
{
	b->persisted = 1;
	v->on_persist(b, t->step_ns, v->persist_ctx);
	b->handed++;
}

/* Hand every complete bucket of tier ti not yet persisted (or changed since) to on_persist. */
static void persist(struct ep_view *v, uint32_t ti, uint64_t upto)
{
	struct ep_tier *t = &v->t[ti];
	uint64_t end = upto - upto % t->step_ns, s;
	uint32_t j;

	if (end <= t->persist_upto && !t->persist_dirty)
		return;
	if (t->persist_dirty || !t->persist_upto ||
	    end - t->persist_upto >= (uint64_t)t->count * t->step_ns) {
		for (j = 0; j < t->count; j++) {
			struct ep_bucket *b = &t->b[j];

			if (b->used && !b->persisted && b->start < end)
				persist_one(v, t, b);
		}
		t->persist_dirty = 0;
	} else {
		for (s = t->persist_upto; s < end; s += t->step_ns) {
			struct ep_bucket *b = bucket_for(v, ti, s, 0);

			if (b && !b->persisted)
				persist_one(v, t, b);
		}
	}
	if (end > t->persist_upto)
		t->persist_upto = end;
}

void ep_view_advance(struct ep_view *v, uint64_t upto)
{
	uint32_t ti, j;

	for (ti = 0; ti < v->ntiers; ti++) {
		struct ep_tier *t = &v->t[ti];

		if ((int)ti == v->announce_tier && v->on_close)
			announce(v, upto);
		if (v->on_persist && (v->persist_tiers >> ti & 1))
			persist(v, ti, upto);
		if (ti + 1 < v->ntiers) {
			uint64_t next = v->t[ti + 1].step_ns, closed = upto - upto % next;

			if (closed <= t->closed_upto)
				continue;
			t->closed_upto = closed;
			for (j = 0; j < t->count; j++) {
				struct ep_bucket *b = &t->b[j];

				if (b->used && !b->closed && b->start - b->start % next + next <= closed)
					close_bucket(v, ti, b);
			}
		}
	}
}

int ep_view_load(struct ep_view *v, uint32_t ti, uint64_t start, uint64_t newest_end,
		 uint64_t windows, const struct ep_centry *e, uint32_t n)
{
	struct ep_tier *t = &v->t[ti];
	struct ep_bucket *b = ti < v->ntiers ? bucket_for(v, ti, start, 1) : NULL;
	uint64_t end;
	uint32_t i, j;

	if (!b)
		return -ERANGE;
	b->windows += windows;
	for (i = 0; i < n; i++) {
		struct ep_centry *d = ep_cset_get(&b->set, e[i].asn, e[i].cc, &v->bytes);

		if (!d || ep_centry_add(d, &e[i], &v->bytes, &v->ctr.saturated) < 0) {
			v->ctr.nomem++;
			return -ENOMEM;
		}
	}
	b->announced = b->persisted = 1;
	b->handed = 1;
	if (newest_end > b->newest_end)
		b->newest_end = newest_end;
	end = b->start + t->step_ns;
	if (end > t->persist_upto)
		t->persist_upto = end;
	/* The finer tier's windows inside this one are rolled up (none are held). */
	if (ti && end > v->t[ti - 1].closed_upto)
		v->t[ti - 1].closed_upto = end;
	/*
	 * A finer tier that is not persisted holds nothing of this window: reads
	 * (and late data) for it go to a coarser tier, as after shedding.
	 */
	for (j = 0; j < ti; j++)
		if (!(v->persist_tiers >> j & 1) && end > v->t[j].shed_below)
			v->t[j].shed_below = end;
	if (b->newest_end > v->newest_end)
		v->newest_end = b->newest_end;
	return 0;
}

static uint64_t tier_newest(const struct ep_tier *t)
{
	uint64_t newest = 0;
	uint32_t j;

	for (j = 0; j < t->count; j++)
		if (t->b[j].used && t->b[j].start > newest)
			newest = t->b[j].start;
	return newest;
}

uint64_t ep_view_shed(struct ep_view *v, int level)
{
	uint32_t ti, j, first = level ? v->ntiers - 1 : 0, last = level ? v->ntiers : v->ntiers - 1;
	struct ep_bucket *oldest = NULL;
	struct ep_tier *ot = NULL;
	uint64_t newest = 0, freed;

	for (ti = first; ti < last; ti++) {
		struct ep_tier *t = &v->t[ti];

		for (j = 0; j < t->count; j++) {
			struct ep_bucket *b = &t->b[j];

			if (!b->used || (!level && !b->closed))
				continue;
			if (b->start > newest)
				newest = b->start;
			if (!oldest || b->start < oldest->start) {
				oldest = b;
				ot = t;
			}
		}
	}
	if (!oldest || (level && oldest->start == newest))
		return 0;
	persist_before_free(v, (uint32_t)(ot - v->t), oldest);
	freed = ep_cset_bytes(&oldest->set);
	v->bytes -= freed;
	if (oldest->start + ot->step_ns > ot->shed_below)
		ot->shed_below = oldest->start + ot->step_ns;
	ep_cset_free(&oldest->set);
	memset(oldest, 0, sizeof(*oldest));
	v->ctr.shed++;
	return freed ? freed : 1;
}

uint64_t ep_view_tier_run(const struct ep_view *v, uint32_t ti)
{
	const struct ep_tier *t = &v->t[ti];
	uint64_t s = 0;
	uint32_t j, n;

	for (j = 0; j < t->count; j++)
		if (t->b[j].used && t->b[j].start > s)
			s = t->b[j].start;
	if (!s)
		return 0;
	for (n = 1; n < t->count && s >= t->step_ns; n++) {
		const struct ep_bucket *b = &t->b[((s - t->step_ns) / t->step_ns) % t->count];

		if (!b->used || b->start != s - t->step_ns)
			break;
		s -= t->step_ns;
	}
	return s;
}

uint64_t ep_view_tier_oldest(const struct ep_view *v, uint32_t ti)
{
	uint64_t oldest = 0;
	uint32_t j;

	for (j = 0; j < v->t[ti].count; j++)
		if (v->t[ti].b[j].used && (!oldest || v->t[ti].b[j].start < oldest))
			oldest = v->t[ti].b[j].start;
	return oldest;
}

uint64_t ep_view_oldest(const struct ep_view *v)
{
	uint64_t oldest = 0;
	uint32_t ti, j;

	for (ti = 0; ti < v->ntiers; ti++)
		for (j = 0; j < v->t[ti].count; j++)
			if (v->t[ti].b[j].used && (!oldest || v->t[ti].b[j].start < oldest))
				oldest = v->t[ti].b[j].start;
	return oldest;
}

/* Entries a visit of tier chosen over [s, end) would merge. */
static uint64_t visit_cost(const struct ep_view *v, int chosen, uint64_t s, uint64_t end)
{
	uint64_t n = 0;
	uint32_t j;
	int ti;

	for (ti = 0; ti <= chosen; ti++) {
		const struct ep_tier *t = &v->t[ti];

		for (j = 0; j < t->count; j++) {
			const struct ep_bucket *b = &t->b[j];

			if (b->used && b->start >= s && b->start < end && (ti == chosen || !b->closed))
				n += b->set.n;
		}
	}
	return n;
}

/* The oldest start tier t still holds whole: its ring's reach, or what was shed before. */
static uint64_t tier_reach(const struct ep_tier *t)
{
	uint64_t newest = tier_newest(t), span = (uint64_t)(t->count - 1) * t->step_ns;
	uint64_t reach = newest > span ? newest - span : 0;

	return reach < t->shed_below ? t->shed_below : reach;
}

uint64_t ep_view_tier_reach(const struct ep_view *v, uint32_t ti)
{
	return tier_reach(&v->t[ti]);
}

int ep_view_pick(const struct ep_view *v, uint32_t first, uint64_t start, uint64_t end,
		 uint64_t min_step, uint64_t max_entries)
{
	int ti, chosen = -1;

	for (ti = (int)first; ti < (int)v->ntiers; ti++) {
		const struct ep_tier *t = &v->t[ti];

		if (min_step && (t->step_ns > min_step || min_step % t->step_ns))
			break;
		chosen = ti;
		if (start >= tier_reach(t) &&
		    (!max_entries || ti + 1 == (int)v->ntiers ||
		     visit_cost(v, ti, start - start % t->step_ns, end) <= max_entries))
			break;
	}
	return chosen;
}

/* [x, y), inside one window of tier ti: from the finer tier where it holds x, else the window whole. */
static void visit_edge(const struct ep_view *v, uint32_t ti, uint64_t x, uint64_t y,
		       ep_view_visit_cb cb, void *ctx)
{
	if (x >= tier_reach(&v->t[ti - 1]))
		ep_view_visit_exact(v, ti - 1, x, y, cb, ctx);
	else
		ep_view_visit_tier(v, ti, x, y, cb, ctx);
}

uint64_t ep_view_visit_exact(const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			     ep_view_visit_cb cb, void *ctx)
{
	uint64_t a, b;

	if (!ti || start >= end)
		return ep_view_visit_tier(v, ti, start, end, cb, ctx);
	ep_view_cuts(v->t[ti].step_ns, start, end, &a, &b);
	if (start < a)
		visit_edge(v, ti, start, a, cb, ctx);
	if (a < b)
		ep_view_visit_tier(v, ti, a, b, cb, ctx);
	if (b < end)
		visit_edge(v, ti, b, end, cb, ctx);
	return v->t[ti].step_ns;
}

void ep_view_cuts(uint64_t step, uint64_t start, uint64_t end, uint64_t *a, uint64_t *b)
{
	*a = start % step ? start - start % step + step : start;
	if (*a > end)
		*a = end; /* inside one window: all of it is the first edge */
	*b = end - end % step;
	if (*b < *a)
		*b = *a;
}

uint64_t ep_view_visit_budget(const struct ep_view *v, uint64_t start, uint64_t end,
			      uint64_t min_step, uint64_t max_entries, ep_view_visit_cb cb,
			      void *ctx)
{
	int ti = ep_view_pick(v, 0, start, end, min_step, max_entries);

	if (ti < 0)
		return 0;
	if (!min_step)
		return ep_view_visit_exact(v, (uint32_t)ti, start, end, cb, ctx);
	return ep_view_visit_tier(v, (uint32_t)ti, start, end, cb, ctx);
}

uint64_t ep_view_visit_tier(const struct ep_view *v, uint32_t chosen, uint64_t start, uint64_t end,
			    ep_view_visit_cb cb, void *ctx)
{
	uint64_t s = start - start % v->t[chosen].step_ns;
	uint32_t ti, j;

	for (ti = 0; ti <= chosen; ti++) {
		const struct ep_tier *t = &v->t[ti];

		for (j = 0; j < t->count; j++) {
			const struct ep_bucket *b = &t->b[j];

			if (!b->used || b->start < s || b->start >= end)
				continue;
			if (ti < chosen && b->closed)
				continue;
			cb(b, t->step_ns, ctx);
		}
	}
	return v->t[chosen].step_ns;
}

uint32_t ep_view_visit_asn(const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			   uint32_t asn, void (*cb)(const struct ep_centry *e, void *ctx), void *ctx)
{
	uint32_t t, n = 0;

	for (t = 0; t <= ti && t < v->ntiers; t++) {
		const struct ep_tier *tr = &v->t[t];
		uint64_t step = tr->step_ns, s = start + step - 1;

		s -= s % step;
		if (t < ti) {
			/* Only unclosed buckets: those of next-tier windows not rolled up yet. */
			uint64_t next = v->t[t + 1].step_ns, lo = tr->closed_upto - tr->closed_upto % next;

			if (s < lo)
				s = lo;
		}
		if (end > s && (end - s) / step > tr->count)
			s = end - (uint64_t)tr->count * step - (end - (uint64_t)tr->count * step) % step;
		for (; s + step <= end; s += step) {
			const struct ep_bucket *b = &tr->b[(s / step) % tr->count];

			if (!b->used || b->start != s || (t < ti && b->closed))
				continue;
			n += ep_cset_each_asn(&b->set, asn, cb, ctx) > 0;
		}
	}
	return n;
}

uint64_t ep_view_visit(const struct ep_view *v, uint64_t start, uint64_t end, uint64_t min_step,
		       ep_view_visit_cb cb, void *ctx)
{
	return ep_view_visit_budget(v, start, end, min_step, 0, cb, ctx);
}
