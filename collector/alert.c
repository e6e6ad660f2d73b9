/* SPDX-License-Identifier: BSD-3-Clause */
/* alert.c - the alert engine's evaluation: per closed window, per second, and the players'. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_int.h"
#include "qoe.h"

#define EP_X(n, h) #n,
const char *const ep_alc_names[EP_ALC__COUNT] = {EP_ALERT_COUNTERS(EP_X)};
#undef EP_X
#define EP_X(n, h) h,
const char *const ep_alc_help[EP_ALC__COUNT] = {EP_ALERT_COUNTERS(EP_X)};
#undef EP_X

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                 */
/* ------------------------------------------------------------------------ */

/* The verdict on one evaluation: 1 bad, 0 clean (no data and no baseline are clean). */
static void judge(struct ep_alerts *a, const struct ep_collector *c, struct astate *s, int bad,
		  uint64_t win_start, uint64_t win_end, uint64_t now_wall)
{
	const struct ep_alert_rule *r = &a->rules.r[s->rule];

	s->window_end = win_end;
	s->eval_wall = now_wall;
	if (bad) {
		s->good = 0;
		s->bad++;
		if (s->st == ST_NORMAL || s->st == ST_RESOLVED) {
			s->st = ST_PENDING;
			a->active++;
			s->since_ns = win_start;
			s->peak = s->value;
			s->episode = ++a->episodes;
			s->fired_wall = 0;
		}
		if (s->value > s->peak || isnan(s->peak))
			s->peak = s->value;
		if (s->st == ST_PENDING && s->bad > r->pending) {
			s->st = ST_FIRING;
			s->fired_ns = win_end;
			s->fired_wall = now_wall;
			a->ctr[EP_ALC_alerts_fired]++;
			a->firing++;
			ep_alert_emit(a, c, s, EP_AE_FIRING, now_wall);
		}
		return;
	}
	s->bad = 0;
	if (s->st == ST_PENDING) {
		s->st = ST_NORMAL;
		a->active--;
	} else if (s->st == ST_FIRING && ++s->good >= r->resolve) {
		s->st = ST_RESOLVED;
		s->resolved_ns = win_end;
		s->resolved_wall = now_wall;
		a->ctr[EP_ALC_alerts_resolved]++;
		a->firing--;
		a->active--;
		ep_alert_emit(a, c, s, EP_AE_RESOLVED, now_wall);
		a->resolved[a->nresolved++ % RESOLVED_KEEP] = *s;
		a->resolved[(a->nresolved - 1) % RESOLVED_KEEP].ring = NULL;
		s->st = ST_NORMAL;
		s->good = 0;
	}
}

/* What a span adds up to for one rule: a histogram (RTT) or two counters (retransmissions). */
struct sum {
	struct ep_hist *h;
	int hk;          /* histogram index, -1: retransmissions, -2: rebuffering (QoE) */
	uint64_t segs, retx, play, stall;
	uint64_t samples; /* RTT: what the quantile rests on (ep_centry_samples) */
	uint16_t cc;     /* the rule's country: only its entries (0: all) */
	unsigned region; /* the rule's region (0: all) */
	int none;        /* the rule names a region the collector does not know: nothing */
	const struct ep_regions *regions;
	uint32_t took;   /* entries added */
};

static void add_entry(const struct ep_centry *e, void *ctx)
{
	struct sum *u = ctx;

	if (u->none || (u->cc && e->cc != u->cc) ||
	    (u->region && ep_region_of(u->regions, e->cc) != u->region))
		return;
	u->took++;
	if (u->hk >= 0) {
		ep_shist_to_hist(&e->h[u->hk], u->h);
		u->samples += ep_centry_samples(e, (unsigned)u->hk);
	} else if (u->hk == -2) {
		u->play += e->c[EP_QC_play_ms];
		u->stall += e->c[EP_QC_stall_ms];
	} else {
		u->segs += e->c[EP_AC_segs_out];
		u->retx += e->c[EP_AC_retx_out];
	}
}

/*
 * The buckets of the 1 s tier ti of v for the n seconds before end (ent[k]:
 * the second ending k seconds before end; NULL: none), looked up once for
 * every rule of an ASN.  At a window's close the 1 s tier holds those seconds
 * whole (the finer tier's buckets are closed into it).
 */
static void gather(const struct ep_view *v, uint32_t ti, uint64_t end, uint32_t n,
		   const struct ep_cset **ent)
{
	const struct ep_tier *t = &v->t[ti];
	uint32_t k;

	for (k = 0; k < n; k++) {
		uint64_t st = end - (uint64_t)(k + 1) * t->step_ns;
		const struct ep_bucket *b = &t->b[(st / t->step_ns) % t->count];

		ent[k] = b->used && b->start == st && b->set.n ? &b->set : NULL;
	}
}

/*
 * The rule's value over [start, end) of view v (tier ti and finer, or the
 * gathered entries ent of the span when not NULL). @return its samples
 */
static uint64_t span_value(struct ep_alerts *a, const struct ep_alert_rule *r,
			   const struct ep_view *v, uint32_t ti, uint64_t start, uint64_t end,
			   uint32_t asn, const struct ep_cset *const *ent, double *value,
			   uint64_t *cover)
{
	uint32_t ri = (uint32_t)(r - a->rules.r);
	struct sum u = {.h = a->h, .hk = r->metric == EP_AM_RTT_HS ? EP_AH_RTT_HS
					  : r->metric == EP_AM_RTT_DATA ? EP_AH_RTT_DATA
					  : r->metric == EP_AM_REBUFFER ? -2 : -1,
			.cc = r->cc, .region = a->region_id[ri], .regions = a->regions,
			.none = r->region[0] && !a->region_id[ri]};
	uint64_t n;
	uint32_t k, buckets = 0;

	/* Every country's entry of the ASN: the rules are per ASN. */
	if (ent) {
		for (k = 0; k < r->over; k++) {
			uint32_t before = u.took;

			if (ent[k])
				ep_cset_each_asn(ent[k], asn, add_entry, &u);
			buckets += u.took > before;
		}
	} else {
		/* (With a country or region, a bucket that held only other countries counts too.) */
		buckets = ep_view_visit_asn(v, ti, start, end, asn, add_entry, &u);
		if (!u.took)
			buckets = 0;
	}
	if (cover)
		*cover = (uint64_t)buckets * v->t[ti].step_ns;
	if (u.hk == -2) { /* samples: seconds of viewing */
		*value = u.play + u.stall ? (double)u.stall / (double)(u.play + u.stall) : 0.0;
		return (u.play + u.stall) / 1000;
	}
	if (u.hk < 0) {
		*value = u.segs ? (double)u.retx / (double)u.segs : 0.0;
		return u.segs;
	}
	n = u.samples;
	*value = u.h->total ? (double)ep_hist_percentile(u.h, r->q * 100.0) : 0.0;
	ep_hist_reset(u.h);
	return n;
}

/* The finest tier of at least step (or the coarsest). */
static int tier_of(const struct ep_view *v, uint64_t step)
{
	uint32_t t;

	for (t = 0; t < v->ntiers; t++)
		if (v->t[t].step_ns >= step)
			return (int)t;
	return (int)v->ntiers - 1;
}

/* The coarsest tier whose step is at most a twentieth of the baseline. */
static uint32_t baseline_tier(const struct ep_view *v, uint64_t span, uint32_t min_ti)
{
	uint32_t t, best = min_ti;

	for (t = min_ti; t < v->ntiers; t++)
		if (v->t[t].step_ns <= span / 20)
			best = t;
	return best;
}

/* Is rule ri pending or firing for asn (of probe)? */
static int key_bad(struct ep_alerts *a, uint32_t ri, uint32_t asn, uint32_t probe)
{
	const struct astate *s = ep_alert_find(a, ri, asn, probe, 0);

	return s && (s->st == ST_PENDING || s->st == ST_FIRING);
}

/* Players' rules read the QoE view, in the wall-clock tick: the probes' windows skip them. */
static int is_qoe(const struct ep_alert_rule *r)
{
	return r->metric == EP_AM_REBUFFER;
}

/* Evaluate rule ri for asn (of probe's view v, "" all) on the window ending at end. */
static void eval_asn(struct ep_alerts *a, const struct ep_collector *c, uint32_t ri,
		     const struct ep_view *v, uint32_t probe, uint32_t asn,
		     const struct ep_cset *const *ent, uint64_t end, uint64_t now_wall)
{
	const struct ep_alert_rule *r = &a->rules.r[ri];
	int ti = tier_of(v, NS_PER_S);
	uint64_t span = (uint64_t)r->over * NS_PER_S, start = end > span ? end - span : 0;
	struct astate *s = ep_alert_find(a, ri, asn, probe, 1);
	int bad = 0;
	uint32_t k;

	if (!s || s->window_end == end)
		return;
	a->ctr[EP_ALC_alert_evaluations]++;
	s->samples = span_value(a, r, v, (uint32_t)ti, start, end, asn, ent, &s->value, NULL);
	if (r->baseline_ns && s->st == ST_NORMAL) {
		uint64_t every = r->baseline_ns / 60 > NS_PER_S ? r->baseline_ns / 60 : NS_PER_S;

		if (!s->base_at || end >= s->base_at + every) {
			if (a->budget) {
				uint64_t be = start > r->offset_ns ? start - r->offset_ns : 0;
				uint64_t bs = be > r->baseline_ns ? be - r->baseline_ns : 0;

				a->budget--;
				a->ctr[EP_ALC_alert_baselines]++;
				s->base_samples = span_value(a, r, v,
							     baseline_tier(v, r->baseline_ns, (uint32_t)ti),
							     bs, be, asn, NULL, &s->baseline,
							     &s->base_cover);
				s->base_at = end;
			} else {
				a->ctr[EP_ALC_alert_baseline_deferred]++;
			}
		}
	}
	if (s->samples < r->min_samples) {
		a->ctr[EP_ALC_alert_few_samples]++;
	} else if (r->baseline_ns && (!s->base_at || s->base_samples < r->min_samples ||
					s->base_cover < r->baseline_ns / 2)) {
		/* No baseline yet: too few samples, or data over less than half its span. */
		a->ctr[EP_ALC_alert_no_baseline]++;
	} else {
		double t = ep_alert_threshold(r, s);

		bad = s->value >= t && (r->baseline_ns || r->above > 0 || s->value > 0);
	}
	/* requires = / unless = another rule's state for the same ASN (rebuffering with, or
	 * without, the network getting worse). */
	if (bad && r->nrequires) {
		int any = 0;

		for (k = 0; k < r->nrequires && !any; k++)
			any = key_bad(a, r->requires[k], asn, probe);
		bad = any;
	}
	for (k = 0; bad && k < r->nunless; k++)
		bad = !key_bad(a, r->unless[k], asn, probe);
	judge(a, c, s, bad, end - NS_PER_S, end, now_wall);
}

/*
 * Once a minute (or when full): forget normal keys not evaluated for
 * STALE_NS, rebuilding the table only when a quarter of it is stale.
 */
static void purge(struct ep_alerts *a, uint64_t end)
{
	uint32_t i, stale = 0;

	if (end < a->last_purge + 60 * NS_PER_S && a->n < a->cfg.max_states)
		return;
	a->last_purge = end;
	for (i = 0; i < a->cap; i++)
		stale += a->st[i].used && a->st[i].st == ST_NORMAL &&
			 end > a->st[i].window_end + STALE_NS;
	if (stale && (stale >= a->n / 4 || a->n >= a->cfg.max_states))
		ep_alert_rebuild(a, NULL, end);
}

void ep_alerts_window(struct ep_alerts *a, const struct ep_collector *c, const struct ep_bucket *b,
		      uint64_t step_ns, uint64_t now_wall)
{
	const struct ep_cset *ent[EP_ALERT_OVER_MAX_S];
	uint64_t end = b->start + step_ns;
	uint32_t ri, i, p, over_asn = 0, over_probe = 0;

	if (!a || !a->rules.n || step_ns != NS_PER_S)
		return;
	/* Region names to the collector's numbers (the file may have been replaced). */
	a->regions = &c->regions;
	for (ri = 0; ri < a->rules.n; ri++)
		a->region_id[ri] = a->rules.r[ri].region[0]
					   ? ep_region_find(&c->regions, a->rules.r[ri].region) : 0;
	if (!a->h || a->h_highest != c->cfg.hist_highest || a->h_digits != c->cfg.hist_digits) {
		ep_hist_free(a->h);
		a->h = NULL;
		if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits,
				&a->h) < 0)
			return;
		a->h_highest = c->cfg.hist_highest;
		a->h_digits = c->cfg.hist_digits;
	}
	purge(a, end);
	a->budget = a->cfg.baseline_budget;
	for (ri = 0; ri < a->rules.n; ri++) {
		const struct ep_alert_rule *r = &a->rules.r[ri];

		if (r->scope == EP_AS_ASN && r->over > over_asn)
			over_asn = r->over;
		if (r->scope == EP_AS_PROBE_ASN && r->over > over_probe)
			over_probe = r->over;
	}
	/* ASN-major: each ASN's span is looked up once for all its rules. */
	if (over_asn && c->all.t[tier_of(&c->all, NS_PER_S)].step_ns == NS_PER_S) {
		uint32_t ti = (uint32_t)tier_of(&c->all, NS_PER_S);

		gather(&c->all, ti, end, over_asn, ent);
		for (i = 0; i < b->set.n; i++) {
			uint32_t asn = b->set.e[i].asn;

			if (asn == EP_ASN_OTHER || !ep_cset_first_of_asn(&b->set, &b->set.e[i]))
				continue;
			for (ri = 0; ri < a->rules.n; ri++)
				if (a->rules.r[ri].scope == EP_AS_ASN && !is_qoe(&a->rules.r[ri]))
					eval_asn(a, c, ri, &c->all, 0, asn, ent, end, now_wall);
		}
	}
	for (p = 0; over_probe && p < c->nprobes; p++) {
		const struct ep_view *v = c->probes[p].view;
		const struct ep_tier *t;
		const struct ep_bucket *pb;
		uint32_t pn;
		int ti;

		if (!v)
			continue;
		ti = tier_of(v, NS_PER_S);
		t = &v->t[ti];
		if (t->step_ns != NS_PER_S)
			continue;
		pb = &t->b[(b->start / NS_PER_S) % t->count];
		if (!pb->used || pb->start != b->start || !pb->set.n)
			continue;
		if (!(pn = ep_alert_probe_num(a, c->probes[p].id))) {
			a->ctr[EP_ALC_alert_states_cap]++;
			continue;
		}
		gather(v, (uint32_t)ti, end, over_probe, ent);
		for (i = 0; i < pb->set.n; i++) {
			uint32_t asn = pb->set.e[i].asn;

			if (asn == EP_ASN_OTHER || !ep_cset_first_of_asn(&pb->set, &pb->set.e[i]))
				continue;
			for (ri = 0; ri < a->rules.n; ri++)
				if (a->rules.r[ri].scope == EP_AS_PROBE_ASN)
					eval_asn(a, c, ri, v, pn, asn, ent, end, now_wall);
		}
	}
	/* Keys pending or firing that this window did not hold: evaluated too (to resolve). */
	for (i = 0; a->active && i < a->cap; i++) {
		struct astate *s = &a->st[i];
		const struct ep_alert_rule *r;
		const struct ep_view *v = &c->all;

		if (!s->used || (s->st != ST_PENDING && s->st != ST_FIRING) || s->window_end == end)
			continue;
		r = &a->rules.r[s->rule];
		if (r->scope == EP_AS_PROBE || is_qoe(r))
			continue;
		if (s->probe) {
			const struct ep_cprobe *p =
				ep_collector_probe((struct ep_collector *)c, ep_alert_probe_name(a, s));

			v = p ? p->view : NULL;
		}
		if (v)
			eval_asn(a, c, s->rule, v, s->probe, s->asn, NULL, end, now_wall);
		else
			judge(a, c, s, 0, end - NS_PER_S, end, now_wall);
	}
}

/* A probe counter pair at this tick: (numerator, denominator part). */
static struct snap probe_snap(const struct ep_alert_rule *r, const struct ep_cprobe *p)
{
	struct snap x = {0, 0};

	switch (r->metric) {
	case EP_AM_MSG_LOSS:
		x.a = p->seq.lost;
		x.b = p->seq.accepted;
		break;
	case EP_AM_SRC_DROPS:
		x.a = p->stats[EP_ST_src_drops] + p->stats[EP_ST_src_ifdrops];
		x.b = p->stats[EP_ST_packets];
		break;
	case EP_AM_EVICTIONS:
		x.a = p->stats[EP_ST_flows_evicted];
		break;
	default:
		break;
	}
	return x;
}

static void eval_probe(struct ep_alerts *a, const struct ep_collector *c, uint32_t ri,
		       const struct ep_cprobe *p, uint64_t now_wall)
{
	const struct ep_alert_rule *r = &a->rules.r[ri];
	uint32_t pn = ep_alert_probe_num(a, p->id);
	struct astate *s = pn ? ep_alert_find(a, ri, 0, pn, 1) : NULL;
	uint64_t end = now_wall - now_wall % NS_PER_S;
	int bad;

	if (!s) {
		if (!pn)
			a->ctr[EP_ALC_alert_states_cap]++;
		return;
	}
	a->ctr[EP_ALC_alert_evaluations]++;
	if (r->metric == EP_AM_SILENT) {
		s->value = (double)(now_wall - p->last_seen) / 1e9;
		s->samples = 1;
	} else {
		struct snap now = probe_snap(r, p), old;
		uint32_t k = r->over < s->nsnap ? r->over : s->nsnap;
		uint64_t da, db;

		if (!s->ring && !(s->ring = calloc(EP_ALERT_OVER_MAX_S + 1, sizeof(*s->ring))))
			return;
		old = k ? s->ring[(s->nsnap - k) % (EP_ALERT_OVER_MAX_S + 1)] : now;
		s->ring[s->nsnap++ % (EP_ALERT_OVER_MAX_S + 1)] = now;
		/* Counters start again at a probe's restart: count from zero then. */
		da = now.a >= old.a ? now.a - old.a : now.a;
		db = now.b >= old.b ? now.b - old.b : now.b;
		if (r->metric == EP_AM_EVICTIONS) {
			s->value = k ? (double)da / (double)k : 0.0;
			s->samples = k ? r->min_samples : 0;
		} else {
			s->value = da + db ? (double)da / (double)(da + db) : 0.0;
			s->samples = da + db;
		}
		if (k < r->over) {
			s->samples = 0; /* not a whole span yet */
		}
	}
	if (s->samples < r->min_samples && r->metric != EP_AM_SILENT) {
		a->ctr[EP_ALC_alert_few_samples]++;
		bad = 0;
	} else {
		bad = s->value >= r->above && s->value > 0;
	}
	judge(a, c, s, bad, end - NS_PER_S, end, now_wall);
}

/* ASNs with players' data in a span of the QoE view (deduplicated by the caller's set). */
struct qoe_asns {
	struct ep_cset set;
	uint64_t bytes;
	int nomem;
};

static void qoe_asn(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct qoe_asns *q = ctx;
	uint32_t i;

	(void)step_ns;
	for (i = 0; i < b->set.n; i++)
		if (b->set.e[i].asn != EP_ASN_OTHER &&
		    !ep_cset_get(&q->set, b->set.e[i].asn, 0, &q->bytes))
			q->nomem = 1;
}

/*
 * The players' rules once a wall-clock second, on the QoE view's second that ended a
 * second ago (reports carry the players' clocks: a second of grace): every ASN with
 * reports in the longest span, and the keys pending or firing (to resolve).
 */
static void eval_qoe(struct ep_alerts *a, const struct ep_collector *c, uint64_t now_wall)
{
	struct ep_qoe *q = c->qoe;
	struct qoe_asns with = {0};
	uint64_t end = now_wall - now_wall % NS_PER_S - NS_PER_S;
	uint32_t ri, i, over = 0;

	for (ri = 0; ri < a->rules.n; ri++)
		if (is_qoe(&a->rules.r[ri]) && a->rules.r[ri].over > over)
			over = a->rules.r[ri].over;
	if (!q || !over)
		return;
	pthread_mutex_lock(&q->lock);
	ep_view_visit_budget(&q->view, end - (uint64_t)over * NS_PER_S, end, NS_PER_S, 0,
			     qoe_asn, &with);
	for (i = 0; i < with.set.n; i++)
		for (ri = 0; ri < a->rules.n; ri++)
			if (is_qoe(&a->rules.r[ri]))
				eval_asn(a, c, ri, &q->view, 0, with.set.e[i].asn, NULL, end,
					 now_wall);
	for (i = 0; a->active && i < a->cap; i++) {
		struct astate *s = &a->st[i];

		if (s->used && (s->st == ST_PENDING || s->st == ST_FIRING) &&
		    s->window_end != end && is_qoe(&a->rules.r[s->rule]))
			eval_asn(a, c, s->rule, &q->view, 0, s->asn, NULL, end, now_wall);
	}
	pthread_mutex_unlock(&q->lock);
	ep_cset_free(&with.set);
}

void ep_alerts_tick(struct ep_alerts *a, const struct ep_collector *c, uint64_t now_wall)
{
	uint32_t ri, i;

	if (!a || !a->rules.n)
		return;
	if (now_wall / NS_PER_S == a->last_tick)
		return;
	a->last_tick = now_wall / NS_PER_S;
	eval_qoe(a, c, now_wall);
	for (ri = 0; ri < a->rules.n; ri++) {
		if (a->rules.r[ri].scope != EP_AS_PROBE)
			continue;
		for (i = 0; i < c->nprobes; i++)
			if (c->probes[i].last_seen)
				eval_probe(a, c, ri, &c->probes[i], now_wall);
	}
	/*
	 * One pass over the table a second: a probe forgotten while its alert was on
	 * resolves (nothing bad is known any more), and firing alerts due for a re-send
	 * are re-sent (up to half a second early: the pass runs once a second).
	 */
	for (i = 0; a->active && i < a->cap; i++) {
		struct astate *s = &a->st[i];
		uint64_t end = now_wall - now_wall % NS_PER_S;

		if (!s->used || (s->st != ST_PENDING && s->st != ST_FIRING))
			continue;
		if (a->rules.r[s->rule].scope == EP_AS_PROBE && s->window_end != end)
			judge(a, c, s, 0, end - NS_PER_S, end, now_wall);
		if (s->st == ST_FIRING && now_wall + NS_PER_S / 2 >= s->last_sent + a->cfg.resend_ns)
			ep_alert_emit(a, c, s, EP_AE_REFRESH, now_wall);
	}
}
