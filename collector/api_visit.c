/* SPDX-License-Identifier: BSD-3-Clause */
/* api_visit.c - a request's buckets: memory, the history before it, and other collectors' rows. */
#include <inttypes.h>
#include <stdio.h>

#include "api_int.h"
#include "edgeprobe/ep_wire.h"

struct older {
	ep_view_visit_cb cb;
	void *ctx;
	uint64_t step;
	long read; /* what the last read returned: buckets, or a negative errno */
	int nomem;
};

/* A bucket read back from the history, as a bucket of the view. */
static int older_bucket(uint64_t start, uint64_t newest_end, uint64_t windows,
			const struct ep_centry *e, uint32_t n, void *ctx)
{
	struct older *o = ctx;
	struct ep_bucket b = {.used = 1, .start = start, .closed = 1, .announced = 1,
			      .persisted = 1, .windows = windows, .newest_end = newest_end};
	uint64_t bytes = 0, saturated = 0;
	uint32_t i;

	for (i = 0; i < n && !o->nomem; i++) {
		struct ep_centry *d = ep_cset_get(&b.set, e[i].asn, e[i].cc, &bytes);

		if (!d || ep_centry_add(d, &e[i], &bytes, &saturated) < 0)
			o->nomem = 1;
	}
	if (!o->nomem)
		o->cb(&b, o->step, o->ctx);
	ep_cset_free(&b.set);
	return o->nomem;
}

/*
 * Where memory's tier ti is whole: its newest unbroken run of buckets.
 * Before it, the history answers (a complete bucket is always written, and
 * one freed or recycled was written first).
 */
static uint64_t held_from(const struct ep_view *v, uint32_t ti)
{
	const struct ep_tier *t = &v->t[ti];
	uint64_t held = ep_view_tier_run(v, ti);

	if (!held)
		held = UINT64_MAX;
	return held < t->shed_below ? t->shed_below : held;
}

/* The coarsest tier whose step divides min_step (0: the coarsest), or -1. */
static int answer_tier(const struct ep_view *v, uint64_t min_step)
{
	int ti;

	for (ti = (int)v->ntiers - 1; ti >= 0; ti--)
		if (!min_step || (v->t[ti].step_ns <= min_step && min_step % v->t[ti].step_ns == 0))
			return ti;
	return -1;
}

/*
 * Other collectors' buckets of [from, end) at step (a shared store), for the
 * all-probes answer beside this collector's own buckets: read unlocked, as
 * the history is.  edge (0: none): the windows of step the range cuts are
 * read at that finer step where the store holds it, as for the collector's
 * own part.  Buckets they have not written yet (their last second or two, or
 * their open window of step without edge) are missing from the answer.
 */
static void add_others(struct ep_collector *c, const struct range *r, uint64_t step,
		       uint64_t edge, uint64_t from, uint64_t end, struct older *o)
{
	const struct ep_read want = {.whose = EP_WHOSE_OTHERS, .asn = r->asn, .sum = r->sum,
				     .finer = 1, .edge_step = edge};

	if (!edge)
		from -= from % step;
	pthread_mutex_unlock(&c->lock);
	if (c->others(c->older_ctx, step, from - from % step, end)) {
		o->step = step;
		c->older(c->older_ctx, "" /* all probes */, step, from, end, &want, older_bucket, o);
	}
	pthread_mutex_lock(&c->lock);
}

/* The step of the tier finer than ti, where storage holds it too (0: none). */
static uint64_t edge_step(const struct ep_view *v, int ti)
{
	return ti > 0 && (v->persist_tiers >> (ti - 1) & 1) ? v->t[ti - 1].step_ns : 0;
}

/* The finest tier of v that storage holds too (1 s and coarser), or -1. */
static int first_persisted(const struct ep_view *v)
{
	uint32_t ti;

	for (ti = 0; ti < v->ntiers; ti++)
		if (v->persist_tiers >> ti & 1)
			return (int)ti;
	return -1;
}

/*
 * [from, upto) of probe at step from the history, without the collector's lock;
 * a probe's view is looked up again after.  @return 0, or -1 when the probe was
 * evicted meanwhile (its history is all there is)
 */
static int older_read(struct ep_collector *c, struct range *r, const char *probe, uint64_t step,
		      uint64_t from, uint64_t upto, const struct ep_read *want, struct older *o)
{
	pthread_mutex_unlock(&c->lock);
	o->read = c->older(c->older_ctx, probe, step, from, upto, want, older_bucket, o);
	pthread_mutex_lock(&c->lock);
	if (r->probe) {
		struct ep_cprobe *p = ep_collector_probe(c, probe);

		if (!p || !p->view)
			return -1;
		r->view = p->view;
		r->probe = p->id;
	}
	return 0;
}

/*
 * [x, y), inside one window of memory's tier ti, for a sum: from the finer
 * tier where it holds x.  The part before the finer tier's reach (its ring
 * moved on, or the memory cap shed it) is read from the history at the finer
 * step, where the history reaches back to x (else the window is taken whole,
 * as ep_view_visit_exact does).  @return 0, or -1 when the probe was evicted
 * meanwhile
 */
static int edge(struct ep_collector *c, struct range *r, uint32_t ti, uint64_t x, uint64_t y,
		enum ep_whose whose, struct older *o, ep_view_visit_cb cb, void *ctx)
{
	const struct ep_view *v = r->view;
	const uint64_t f = v->t[ti - 1].step_ns, reach = ep_view_tier_reach(v, ti - 1);
	const struct ep_read want = {.whose = whose, .asn = r->asn, .sum = r->sum,
				     .edge_step = edge_step(v, (int)ti - 1), .held_only = 1};
	uint64_t upto = y < reach ? y : reach;
	char probe[EP_WIRE_PROBE_MAX + 1];

	if (x >= reach) {
		ep_view_visit_exact(v, ti - 1, x, y, cb, ctx);
		return 0;
	}
	snprintf(probe, sizeof(probe), "%s", r->probe ? r->probe : "");
	o->step = f;
	if (older_read(c, r, probe, f, x, upto, &want, o) < 0)
		return -1;
	v = r->view;
	if (o->read < 0)
		ep_view_visit_tier(v, ti, x, y, cb, ctx); /* not in the history: the window whole */
	else if (upto < y)
		ep_view_visit_exact(v, ti - 1, upto, y, cb, ctx); /* what it let go meanwhile: lost */
	return 0;
}

/*
 * A sum over [start, end) from memory's tier ti, exact at its edges: the
 * windows of tier ti the range cuts are read as edge() says, the whole ones
 * between from tier ti.
 */
static uint64_t memory_exact(struct ep_collector *c, struct range *r, uint32_t ti,
			     uint64_t start, uint64_t end, enum ep_whose whose, struct older *o,
			     ep_view_visit_cb cb, void *ctx)
{
	const uint64_t step = r->view->t[ti].step_ns;
	uint64_t a, b;

	if (!edge_step(r->view, (int)ti))
		return ep_view_visit_exact(r->view, ti, start, end, cb, ctx);
	ep_view_cuts(step, start, end, &a, &b);
	if (start < a && edge(c, r, ti, start, a, whose, o, cb, ctx) < 0)
		return step; /* evicted meanwhile: its history is all there is */
	if (a < b)
		ep_view_visit_tier(r->view, ti, a, b, cb, ctx);
	if (b < end)
		edge(c, r, ti, b, end, whose, o, cb, ctx);
	return step;
}

/*
 * The history is read without the collector's lock (a slow database must not
 * hold ingest up): the visitors write only the request's own state.  After
 * the lock is taken again the probe's view is looked up anew (it may have
 * been evicted meanwhile); if memory let buckets go meanwhile (their slots
 * recycled for newer data), those are read from the history too, again
 * unlocked, at most twice more.  A bucket let go during the read and not yet
 * written by the history's writer is missing from that one answer.  A failed
 * read is counted by the history (history_read_errors): the answer lacks it.
 *
 * Several collectors sharing a store: the all-probes answer is the other
 * collectors' buckets from the store plus this collector's own (memory, and
 * the store before memory), each at a step both hold (1 s or coarser).
 */
uint64_t ep_api_visit(struct ep_collector *c, struct range *r, uint64_t start, uint64_t end,
		      uint64_t min_step, uint64_t budget, ep_view_visit_cb cb, void *ctx)
{
	const struct ep_view *v = r->view;
	int round, exact, shared = c->older && c->others && !r->probe, ti = answer_tier(v, min_step);
	struct ep_read want = {.whose = shared ? EP_WHOSE_OWN : EP_WHOSE_EVERY, .asn = r->asn,
			       .sum = r->sum, .finer = 1};
	uint64_t step, held, from;
	struct older o = {.cb = cb, .ctx = ctx};
	char probe[EP_WIRE_PROBE_MAX + 1];

	if (r->remote) {
		/* another collector's probe: all of it from the store, at a step it holds */
		const struct ep_read every = {.whose = EP_WHOSE_EVERY, .asn = r->asn,
					      .sum = r->sum, .finer = 1};

		if (ti < 0 || !(v->persist_tiers >> ti & 1))
			ti = (int)v->ntiers - 1;
		step = o.step = v->t[ti].step_ns;
		snprintf(probe, sizeof(probe), "%s", r->remote);
		pthread_mutex_unlock(&c->lock);
		c->older(c->older_ctx, probe, step, start - start % step, end, &every, older_bucket, &o);
		pthread_mutex_lock(&c->lock);
		if (o.nomem)
			c->all.ctr.nomem++;
		return step;
	}

	if (!c->older || ti < 0 || !(v->persist_tiers >> ti & 1) ||
	    start >= held_from(v, (uint32_t)ti)) {
		/* memory holds the range */
		ti = shared ? first_persisted(v) : c->older && !min_step ? 0 : -1;
		if (ti >= 0)
			ti = ep_view_pick(v, (uint32_t)ti, start, end, min_step, budget);
		if (ti < 0)
			return ep_view_visit_budget(v, start, end, min_step, budget, cb, ctx);
		step = v->t[ti].step_ns;
		if (shared)
			add_others(c, r, step, min_step ? 0 : edge_step(v, ti), start, end, &o);
		/* the all-probes view stays; what memory let go meanwhile is missing */
		if (!min_step)
			step = memory_exact(c, r, (uint32_t)ti, start, end,
					    shared ? EP_WHOSE_OWN : EP_WHOSE_EVERY, &o, cb, ctx);
		else
			ep_view_visit_tier(v, (uint32_t)ti, start, end, cb, ctx);
		if (o.nomem)
			c->all.ctr.nomem++;
		return step;
	}
	step = o.step = v->t[ti].step_ns;
	/*
	 * A sum over the range (no min_step): the windows of step that the range
	 * cuts are read at the finer persisted step where the history holds it, as
	 * memory does (ep_view_visit_exact), the other collectors' part too.
	 */
	exact = !min_step && edge_step(v, ti);
	if (exact)
		want.edge_step = edge_step(v, ti);
	if (shared)
		add_others(c, r, step, want.edge_step, start, end, &o);
	held = held_from(v, (uint32_t)ti);
	snprintf(probe, sizeof(probe), "%s", r->probe ? r->probe : "");
	from = exact ? start : start - start % step;
	for (round = 0; round < 3 && from < held && from < end; round++) {
		uint64_t upto = end < held ? end : held;

		if (older_read(c, r, probe, step, from, upto, &want, &o) < 0)
			return step; /* evicted meanwhile: its history is all there is */
		v = r->view;
		from = upto;
		if ((uint32_t)ti >= v->ntiers || v->t[ti].step_ns != step)
			break;
		held = held_from(v, (uint32_t)ti);
	}
	if (from < end && (uint32_t)ti < v->ntiers && v->t[ti].step_ns == step) {
		if (exact)
			memory_exact(c, r, (uint32_t)ti, from, end, want.whose, &o, cb, ctx);
		else
			ep_view_visit_tier(v, (uint32_t)ti, from, end, cb, ctx);
	}
	if (o.nomem)
		c->all.ctr.nomem++; /* merges lost to allocation failure */
	return step;
}

/*
 * A view of the collector's own that is not a probe's (the players', under its own lock
 * and name in the history): memory where it holds the range, the history before (every
 * collector's rows of that name), read with neither lock held.
 */
uint64_t ep_api_visit_named(struct ep_collector *c, struct ep_view *v, pthread_mutex_t *lock,
			    const char *name, uint64_t start, uint64_t end, uint64_t min_step,
			    uint64_t budget, ep_view_visit_cb cb, void *ctx)
{
	struct ep_read want = {.whose = EP_WHOSE_EVERY, .finer = 1};
	struct older o = {.cb = cb, .ctx = ctx};
	uint64_t step, held, from;
	int ti, exact;

	pthread_mutex_lock(lock);
	ti = answer_tier(v, min_step);
	if (!c->older || ti < 0 || !(v->persist_tiers >> ti & 1) ||
	    start >= held_from(v, (uint32_t)ti)) {
		step = ep_view_visit_budget(v, start, end, min_step, budget, cb, ctx);
		pthread_mutex_unlock(lock);
		return step;
	}
	step = o.step = v->t[ti].step_ns;
	held = held_from(v, (uint32_t)ti);
	exact = !min_step && edge_step(v, ti);
	if (exact)
		want.edge_step = edge_step(v, ti); /* exact edges, as ep_api_visit */
	from = exact ? start : start - start % step;
	pthread_mutex_unlock(lock);
	pthread_mutex_unlock(&c->lock);
	c->older(c->older_ctx, name, step, from, end < held ? end : held, &want, older_bucket, &o);
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(lock);
	if (o.nomem)
		c->all.ctr.nomem++;
	if (held < end && exact)
		ep_view_visit_exact(v, (uint32_t)ti, held, end, cb, ctx);
	else if (held < end)
		ep_view_visit_tier(v, (uint32_t)ti, held, end, cb, ctx);
	pthread_mutex_unlock(lock);
	return step;
}
