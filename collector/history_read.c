/* SPDX-License-Identifier: BSD-3-Clause */
/* history_read.c - the history's reads: a range across steps, its cut edges, other collectors. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "history_state.h"
#include "store.h"

/* The coarsest retained step finer than step_ns that divides it, or 0. */
static uint64_t finer_step(const struct ep_history *h, uint64_t step_ns)
{
	uint64_t best = 0;
	uint32_t i;

	for (i = 0; i < h->cfg.nretain; i++) {
		uint64_t f = h->cfg.retain_step[i];

		if (f < step_ns && step_ns % f == 0 && f > best)
			best = f;
	}
	return best;
}

/*
 * The oldest bucket of probe at step_ns (UINT64_MAX: none), looked up at most
 * every OLDEST_EVERY_NS: it moves only when retention deletes (later, by a
 * retention period) or a new probe's first rows arrive.  Under read_lock.
 * @return 0, or a negative errno
 */
static int oldest_at(struct ep_history *h, const char *probe, uint64_t step_ns, enum ep_whose whose,
		     uint64_t *oldest)
{
	struct oldest_seen *o = NULL, *lru = &h->oldest[0];
	uint64_t now = ep_history_now(), newest;
	uint32_t i;
	int ret;

	for (i = 0; i < OLDEST_SLOTS && !o; i++) {
		struct oldest_seen *x = &h->oldest[i];

		if (x->step_ns == step_ns && x->whose == whose && !strcmp(x->probe, probe))
			o = x;
		else if (x->looked_ns < lru->looked_ns)
			lru = x;
	}
	if (o && now - o->looked_ns < OLDEST_EVERY_NS) {
		*oldest = o->oldest;
		return 0;
	}
	ret = h->ops->bounds(h->be, probe, step_ns, whose, oldest, &newest);
	if (ret == -ENOENT)
		*oldest = UINT64_MAX;
	else if (ret < 0)
		return ret;
	if (!o) {
		o = lru;
		snprintf(o->probe, sizeof(o->probe), "%s", probe);
		o->step_ns = step_ns;
		o->whose = whose;
	}
	o->looked_ns = now;
	o->oldest = *oldest;
	return 0;
}

/*
 * want->finer: before the oldest bucket of step_ns that probe has, read the
 * finer step's buckets (a history written before the step was added).
 */
static long read_finer(struct ep_history *h, const char *probe, uint64_t step_ns,
		       uint64_t *start_ns, uint64_t end_ns, const struct ep_read *want,
		       ep_history_cb cb, void *ctx, uint64_t *corrupt)
{
	uint64_t f = finer_step(h, step_ns), from = *start_ns, oldest, upto;
	int ret;

	if (!f)
		return 0;
	ret = oldest_at(h, probe, step_ns, want->whose, &oldest);
	if (ret < 0)
		return ret;
	if (from >= oldest)
		return 0;
	upto = end_ns < oldest ? end_ns : oldest;
	*start_ns = upto;
	return h->ops->read(h->be, probe, f, from, upto, want, cb, ctx, corrupt);
}

/* [start_ns, end_ns) at step_ns, with want->finer's part before it. */
static long read_step(struct ep_history *h, const char *probe, uint64_t step_ns, uint64_t start_ns,
		      uint64_t end_ns, const struct ep_read *want, ep_history_cb cb, void *ctx,
		      uint64_t *corrupt)
{
	long n = 0, m;

	if (want->finer)
		n = read_finer(h, probe, step_ns, &start_ns, end_ns, want, cb, ctx, corrupt);
	if (n >= 0 && start_ns < end_ns) {
		m = h->ops->read(h->be, probe, step_ns, start_ns, end_ns, want, cb, ctx, corrupt);
		n = m < 0 ? m : n + m;
	}
	return n;
}

/*
 * want->edge_step: the windows of step_ns that [start_ns, end_ns) cuts are read at
 * the edge step where the history holds that step there (its rows may have
 * expired sooner), else whole.
 */
static long read_edges(struct ep_history *h, const char *probe, uint64_t step_ns, uint64_t start_ns,
		       uint64_t end_ns, const struct ep_read *want, ep_history_cb cb, void *ctx,
		       uint64_t *corrupt)
{
	uint64_t e = want->edge_step, a, b, oldest;
	long n = 0, m = 0, l = 0;

	ep_view_cuts(step_ns, start_ns, end_ns, &a, &b);
	if (oldest_at(h, probe, e, want->whose, &oldest) < 0)
		oldest = UINT64_MAX;
	if (start_ns < a)
		n = start_ns >= oldest
			? read_step(h, probe, e, start_ns - start_ns % e, a, want, cb, ctx, corrupt)
			: read_step(h, probe, step_ns, a - step_ns, a, want, cb, ctx, corrupt);
	if (n >= 0 && a < b)
		m = read_step(h, probe, step_ns, a, b, want, cb, ctx, corrupt);
	if (n >= 0 && m >= 0 && b < end_ns)
		l = b >= oldest ? read_step(h, probe, e, b, end_ns, want, cb, ctx, corrupt)
				: read_step(h, probe, step_ns, b, end_ns, want, cb, ctx, corrupt);
	return n < 0 ? n : m < 0 ? m : l < 0 ? l : n + m + l;
}

long ep_history_read(struct ep_history *h, const char *probe, uint64_t step_ns, uint64_t start_ns,
		     uint64_t end_ns, const struct ep_read *want, ep_history_cb cb, void *ctx)
{
	uint64_t corrupt = 0, e = want->edge_step, oldest;
	long n;

	pthread_mutex_lock(&h->read_lock);
	if (want->held_only &&
	    (oldest_at(h, probe, step_ns, want->whose, &oldest) < 0 || start_ns < oldest))
		n = -ENODATA; /* not an error: the caller reads what it has instead */
	else if (e && e < step_ns && step_ns % e == 0 && start_ns < end_ns)
		n = read_edges(h, probe, step_ns, start_ns, end_ns, want, cb, ctx, &corrupt);
	else
		n = read_step(h, probe, step_ns, start_ns, end_ns, want, cb, ctx, &corrupt);
	pthread_mutex_unlock(&h->read_lock);
	pthread_mutex_lock(&h->lock);
	h->ctr[EP_HC_rows_corrupt] += corrupt;
	if (n < 0 && n != -ENODATA)
		h->ctr[EP_HC_read_errors]++;
	pthread_mutex_unlock(&h->lock);
	return n;
}

int ep_history_probes(struct ep_history *h, uint64_t step_ns, uint64_t since_ns,
		      int (*cb)(const char *probe, void *ctx), void *ctx)
{
	int n;

	pthread_mutex_lock(&h->read_lock);
	n = h->ops->probes(h->be, step_ns, since_ns, cb, ctx);
	pthread_mutex_unlock(&h->read_lock);
	return n;
}

int ep_history_bounds(struct ep_history *h, const char *probe, uint64_t step_ns,
		      enum ep_whose whose, uint64_t *oldest, uint64_t *newest)
{
	int ret;

	pthread_mutex_lock(&h->read_lock);
	ret = h->ops->bounds(h->be, probe, step_ns, whose, oldest, newest);
	pthread_mutex_unlock(&h->read_lock);
	return ret;
}

static int others_at(struct ep_history *h, uint64_t step_ns, uint64_t start_ns, uint64_t end_ns)
{
	struct others_seen *o = NULL;
	uint64_t now = ep_history_now();
	uint32_t i;
	int ret;

	if (!h->ops->shared)
		return 0;
	pthread_mutex_lock(&h->read_lock);
	for (i = 0; i < EP_STORE_MAX_TIERS && !o; i++)
		if (h->others[i].step_ns == step_ns || !h->others[i].step_ns)
			o = &h->others[i];
	if (!o) {
		pthread_mutex_unlock(&h->read_lock);
		return 1; /* a step never persisted: ask the database */
	}
	if (!o->step_ns || now - o->looked_ns >= OTHERS_EVERY_NS) {
		ret = h->ops->bounds(h->be, EP_HISTORY_ALL, step_ns, EP_WHOSE_OTHERS, &o->oldest,
				     &o->newest);
		o->step_ns = step_ns;
		o->looked_ns = now;
		o->none = ret == -ENOENT;
		if (ret < 0 && ret != -ENOENT) /* unknown: ask with the read itself */
			o->oldest = 0, o->newest = UINT64_MAX - OTHERS_MARGIN_NS - step_ns;
	}
	/* What they write meanwhile lands after newest: a margin of a few seconds. */
	ret = !o->none && start_ns < o->newest + step_ns + OTHERS_MARGIN_NS && end_ns > o->oldest;
	pthread_mutex_unlock(&h->read_lock);
	return ret;
}

int ep_history_others(struct ep_history *h, uint64_t step_ns, uint64_t start_ns, uint64_t end_ns)
{
	uint64_t f;

	if (!h->ops->shared)
		return 0;
	if (others_at(h, step_ns, start_ns, end_ns))
		return 1;
	/* What they kept before step_ns was added is read at the finer step (want->finer). */
	f = finer_step(h, step_ns);
	return f && others_at(h, f, start_ns, end_ns);
}
