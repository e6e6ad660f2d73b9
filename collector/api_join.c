/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_join.c - players' QoE joined with the probes' network numbers per ISP:
 * rank correlation over time steps and across ISPs (/api/v1/correlation), and a
 * verdict on one ISP's rebuffering (/api/v1/asns/ASN/explain).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "isotime.h"
#include "qoe.h"

/* The verdict's thresholds (docs/operations.md, "The join"). */
#define MIN_SESSIONS 5	   /* sessions in a span for a QoE number */
#define MIN_PLAY_MS 60000  /* and play time */
#define REBUF_FLOOR 0.01   /* rebuffering up: at least 1 % ... */
#define REBUF_FACTOR 2.0   /* ... and twice the baseline ... */
#define REBUF_MARGIN 0.005 /* ... and half a point above it */
#define RTT_MIN_SAMPLES 20
#define RTT_FACTOR 1.25 /* RTT up: p90 x1.25 and +20 ms */
#define RTT_MARGIN_US 20000.0
#define RETX_MIN_SEGS 1000
#define RETX_FACTOR 2.0 /* retransmissions up: x2 and +0.5 point */
#define RETX_MARGIN 0.005
#define POINT_PLAY_MS 10000 /* a correlation point needs 10 s of play ... */
#define POINT_RTT_SAMPLES 5 /* ... and 5 RTT samples (or 100 segments sent) */
#define POINT_SEGS 100
#define MAX_SLOTS 1440

/* Per-slot aggregates of one view over [start, start + n * step), grouped per ASN. */
struct slots {
	uint64_t start, step;
	uint32_t n;
	struct agg *a;
};

static void slot_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct slots *s = ctx;
	uint64_t i;

	if (b->start < s->start)
		return;
	i = (b->start - s->start) / s->step;
	if (i < s->n)
		ep_api_agg_bucket(b, step_ns, &s->a[i]);
}

static int slots_init(struct slots *s, uint64_t start, uint64_t end, uint64_t step,
		      const struct ep_where *w)
{
	uint32_t i;

	s->step = step;
	s->start = start - start % step;
	s->n = (uint32_t)((end - s->start + step - 1) / step);
	s->a = calloc(s->n + 1, sizeof(*s->a));
	if (!s->a)
		return -1;
	for (i = 0; i < s->n; i++) {
		s->a[i].where = *w;
		s->a[i].group = EP_GROUP_ASN;
	}
	return 0;
}

static int slots_nomem(const struct slots *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->a[i].nomem)
			return 1;
	return 0;
}

static void slots_free(struct slots *s)
{
	uint32_t i;

	for (i = 0; s->a && i < s->n; i++)
		ep_cset_free(&s->a[i].set);
	free(s->a);
	s->a = NULL;
}

static double rebuffer(const struct ep_centry *e, uint64_t min_play)
{
	uint64_t play = e ? e->c[EP_QC_play_ms] : 0, stall = e ? e->c[EP_QC_stall_ms] : 0;

	return play >= min_play && play ? (double)stall / (double)(play + stall) : NAN;
}

static double p90(const struct ep_centry *e, struct ep_hist *h, uint64_t min)
{
	return e && e->h[EP_AH_RTT_DATA].total >= min && min
		   ? ep_api_quantile_of(h, &e->h[EP_AH_RTT_DATA], 0.9)
		   : NAN;
}

static double retx(const struct ep_centry *e, uint64_t min_segs)
{
	return e && e->c[EP_AC_segs_out] >= min_segs && e->c[EP_AC_segs_out]
		   ? (double)e->c[EP_AC_retx_out] / (double)e->c[EP_AC_segs_out]
		   : NAN;
}

struct rank {
	double v;
	uint32_t i;
};

static int cmp_rank(const void *a, const void *b)
{
	double x = ((const struct rank *)a)->v, y = ((const struct rank *)b)->v;

	return x < y ? -1 : x > y;
}

/* Average ranks (ties share theirs) of v into r. @return 0, -1 out of memory */
static int ranks(const double *v, double *r, uint32_t n)
{
	struct rank *t = malloc((n + 1) * sizeof(*t));
	uint32_t i, j, k;

	if (!t)
		return -1;
	for (i = 0; i < n; i++)
		t[i] = (struct rank){v[i], i};
	qsort(t, n, sizeof(*t), cmp_rank);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && t[j].v == t[i].v; j++)
			;
		for (k = i; k < j; k++)
			r[t[k].i] = (i + j - 1) / 2.0 + 1;
	}
	free(t);
	return 0;
}

/* Spearman's rank correlation of n pairs; NAN below 3 pairs or without variance. */
static double spearman(const double *x, const double *y, uint32_t n)
{
	double *rx, *ry, mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, rho = NAN;
	uint32_t i;

	if (n < 3)
		return NAN;
	rx = malloc(2 * n * sizeof(*rx));
	if (!rx)
		return NAN;
	ry = rx + n;
	if (ranks(x, rx, n) == 0 && ranks(y, ry, n) == 0) {
		for (i = 0; i < n; i++) {
			mx += rx[i];
			my += ry[i];
		}
		mx /= n;
		my /= n;
		for (i = 0; i < n; i++) {
			sxy += (rx[i] - mx) * (ry[i] - my);
			sxx += (rx[i] - mx) * (rx[i] - mx);
			syy += (ry[i] - my) * (ry[i] - my);
		}
		if (sxx > 0 && syy > 0)
			rho = sxy / sqrt(sxx * syy);
	}
	free(rx);
	return rho;
}

/* name: v to decimals after the point (0: an integer), null when NaN. */
static void num(json_t *o, const char *name, double v, int decimals)
{
	json_object_set_new(o, name, decimals ? ep_jv_fixed(v, decimals) : ep_jv_int(v));
}

/* range= and end= for a join: by default the range ends at the newest probe data (at the
 * newest players' data when there is none). */
static int join_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
		      struct range *r, struct ep_api_resp *resp)
{
	uint64_t qend;

	if (!c->qoe) {
		ep_api_error(resp, 400, NULL, "no QoE here: the collector runs without --qoe%s",
			     "");
		return -1;
	}
	if (ep_api_get_range(c, q, dflt, r, resp) < 0)
		return -1;
	if (r->probe) {
		ep_api_error(resp, 400, "probe", "the join reads every probe%s", "");
		return -1;
	}
	qend = ep_api_qoe_newest(c);
	if (!q->arg(q->ctx, "end") && !r->end && qend) { /* no probe data: the players' end */
		r->end = qend;
		r->start = r->end > r->len ? r->end - r->len : 0;
	}
	return 0;
}

struct corr_row {
	uint32_t asn;
	uint32_t points, rpoints;
	double rebuf, p90, retx, rho_rtt, rho_retx, key;
};

static int cmp_corr(const void *a, const void *b)
{
	double x = ((const struct corr_row *)a)->key, y = ((const struct corr_row *)b)->key;

	return x > y ? -1 : x < y;
}

void ep_api_correlation(struct ep_collector *c, const struct ep_api_req *q,
			struct ep_api_resp *resp)
{
	const char *steps = q->arg(q->ctx, "step"), *mp = q->arg(q->ctx, "min_points");
	struct slots net = {0}, qoe = {0};
	struct agg tot = {.group = EP_GROUP_ASN}, ntot = {.group = EP_GROUP_ASN};
	struct corr_row *rows = NULL;
	struct ep_hist *h = NULL;
	double *x = NULL, *y = NULL, *ax = NULL, *ay = NULL, *az = NULL;
	uint32_t i, k, nrows = 0, min_points = 5, na = 0;
	uint64_t step;
	struct range r;
	json_t *doc, *across, *list;

	if (join_range(c, q, "1h", &r, resp) < 0)
		return;
	if (ep_parse_duration(steps ? steps : "1m", &step) < 0 || !step ||
	    (r.end - r.start) / step > MAX_SLOTS) {
		ep_api_error(resp, 400, "step",
			     "bad step '%s' (e.g. 30s, 1m; at most 1440 per range)", steps);
		return;
	}
	if (mp) {
		char *end;
		unsigned long v = strtoul(mp, &end, 10);

		if (end == mp || *end || v < 3 || v > MAX_SLOTS) {
			ep_api_error(resp, 400, "min_points", "bad min_points '%s' (3 .. 1440)",
				     mp);
			return;
		}
		min_points = (uint32_t)v;
	}
	tot.where = ntot.where = r.where;
	if (slots_init(&net, r.start, r.end, step, &r.where) < 0 ||
	    slots_init(&qoe, r.start, r.end, step, &r.where) < 0 ||
	    ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0)
		goto nomem;
	r.sum = 0;
	ep_api_visit(c, &r, net.start, r.end, step, 0, slot_bucket, &net);
	ep_api_qoe_visit(c, qoe.start, r.end, step, slot_bucket, &qoe);
	ep_api_qoe_visit(c, r.start, r.end, 0, ep_api_agg_bucket, &tot);
	r.sum = 1;
	ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, ep_api_agg_bucket, &ntot);
	if (slots_nomem(&net) || slots_nomem(&qoe) || tot.nomem || ntot.nomem)
		goto nomem;
	rows = calloc(tot.set.n + 1, sizeof(*rows));
	x = calloc(2 * (size_t)qoe.n + 3 * (size_t)tot.set.n + 5, sizeof(*x));
	if (!rows || !x)
		goto nomem;
	y = x + qoe.n + 1;
	ax = y + qoe.n + 1;
	ay = ax + tot.set.n + 1;
	az = ay + tot.set.n + 1;
	for (i = 0; i < tot.set.n; i++) {
		const struct ep_centry *e = &tot.set.e[i], *n;
		struct corr_row *row = &rows[nrows];
		uint32_t np = 0, nr = 0;

		if (e->c[EP_QC_sessions] == 0 && e->c[EP_QC_reports] == 0)
			continue;
		row->asn = e->asn;
		for (k = 0; k < qoe.n; k++) {
			const struct ep_centry *qe = ep_cset_find(&qoe.a[k].set, e->asn, 0);
			const struct ep_centry *ne = ep_cset_find(&net.a[k].set, e->asn, 0);
			double rb = rebuffer(qe, POINT_PLAY_MS), v = p90(ne, h, POINT_RTT_SAMPLES);

			if (isnan(rb))
				continue;
			if (!isnan(v)) {
				x[np] = rb;
				y[np++] = v;
			}
		}
		row->points = np;
		row->rho_rtt = np >= min_points ? spearman(x, y, np) : NAN;
		for (k = 0; k < qoe.n; k++) {
			const struct ep_centry *qe = ep_cset_find(&qoe.a[k].set, e->asn, 0);
			const struct ep_centry *ne = ep_cset_find(&net.a[k].set, e->asn, 0);
			double rb = rebuffer(qe, POINT_PLAY_MS), v = retx(ne, POINT_SEGS);

			if (!isnan(rb) && !isnan(v)) {
				x[nr] = rb;
				y[nr++] = v;
			}
		}
		row->rpoints = nr;
		row->rho_retx = nr >= min_points ? spearman(x, y, nr) : NAN;
		n = ep_cset_find(&ntot.set, e->asn, 0);
		row->rebuf = rebuffer(e, 1);
		row->p90 = p90(n, h, 1);
		row->retx = retx(n, 1);
		row->key = isnan(row->rho_rtt) && isnan(row->rho_retx)		 ? -2
			   : isnan(row->rho_retx)				 ? row->rho_rtt
			   : isnan(row->rho_rtt) || row->rho_retx > row->rho_rtt ? row->rho_retx
										 : row->rho_rtt;
		if (!isnan(row->rebuf) && !isnan(row->p90)) {
			ax[na] = row->rebuf;
			ay[na++] = row->p90;
		}
		nrows++;
	}
	qsort(rows, nrows, sizeof(*rows), cmp_corr);
	doc = json_object();
	across = json_object();
	list = json_array();
	if (!doc || !across || !list) {
		json_decref(doc);
		json_decref(across);
		json_decref(list);
		goto nomem;
	}
	ep_api_range_json(doc, &r, step);
	json_object_set_new(doc, "step_ns", ep_jv_u64(step));
	json_object_set_new(doc, "min_points", json_integer(min_points));
	json_object_set_new(across, "asns", json_integer(na));
	num(across, "rho_rtt_p90", spearman(ax, ay, na), 4);
	{
		/* across ISPs, rebuffering against retransmissions: the pairs with both */
		uint32_t m = 0;

		for (i = 0; i < nrows; i++)
			if (!isnan(rows[i].rebuf) && !isnan(rows[i].retx)) {
				ax[m] = rows[i].rebuf;
				az[m++] = rows[i].retx;
			}
		json_object_set_new(across, "asns_retx", json_integer(m));
		num(across, "rho_retx_rate", spearman(ax, az, m), 4);
	}
	json_object_set_new(doc, "across", across);
	json_object_set(doc, "asns", list);
	for (i = 0; doc && i < nrows; i++) {
		const struct corr_row *row = &rows[i];
		json_t *o = json_object();

		if (o) {
			json_object_set_new(o, "asn", json_integer(row->asn));
			json_object_set_new(o, "points", json_integer(row->points));
			json_object_set_new(o, "points_retx", json_integer(row->rpoints));
			num(o, "rebuffer_ratio", row->rebuf, 6);
			num(o, "rtt_p90_us", row->p90, 0);
			num(o, "retx_rate", row->retx, 6);
			num(o, "rho_rtt_p90", row->rho_rtt, 4);
			num(o, "rho_retx_rate", row->rho_retx, 4);
		}
		if (json_array_append_new(list, o) < 0)
			json_decref(doc), doc = NULL; /* out of memory: a 500 */
	}
	json_decref(list);
	ep_api_send(resp, 200, doc);
	goto done;
nomem:
	ep_api_error(resp, 500, NULL, "out of memory%s", "");
done:
	free(rows);
	free(x);
	ep_hist_free(h);
	slots_free(&net);
	slots_free(&qoe);
	ep_cset_free(&tot.set);
	ep_cset_free(&ntot.set);
}

/* One ASN's numbers over [start, end): the probes' and the players'. */
struct span {
	struct agg net, qoe;
	const struct ep_centry *n, *q;
};

static void span_read(struct ep_collector *c, struct range *r, uint32_t asn, uint64_t start,
		      uint64_t end, struct span *s)
{
	s->net.group = s->qoe.group = EP_GROUP_ASN;
	s->net.where = s->qoe.where = r->where;
	s->net.where.asn = s->qoe.where.asn = asn;
	r->asn = asn;
	r->sum = 1;
	if (end > start) {
		ep_api_visit(c, r, start, end, 0, 0, ep_api_agg_bucket, &s->net);
		ep_api_qoe_visit(c, start, end, 0, ep_api_agg_bucket, &s->qoe);
	}
	s->n = ep_cset_find(&s->net.set, asn, 0);
	s->q = ep_cset_find(&s->qoe.set, asn, 0);
}

static void span_free(struct span *s)
{
	ep_cset_free(&s->net.set);
	ep_cset_free(&s->qoe.set);
}

static int enough_qoe(const struct ep_centry *q)
{
	return q && q->c[EP_QC_sessions] >= MIN_SESSIONS && q->c[EP_QC_play_ms] >= MIN_PLAY_MS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median rebuffer ratio of the other ISPs with enough sessions, NAN when none. */
static double peers_median(struct ep_collector *c, const struct range *r, uint32_t asn)
{
	struct agg all = {.group = EP_GROUP_ASN, .where = r->where};
	double *v, m = NAN;
	uint32_t i, n = 0;

	all.where.asn = 0;
	ep_api_qoe_visit(c, r->start, r->end, 0, ep_api_agg_bucket, &all);
	v = malloc((all.set.n + 1) * sizeof(*v));
	for (i = 0; v && i < all.set.n; i++)
		if (all.set.e[i].asn != asn && enough_qoe(&all.set.e[i]))
			v[n++] = rebuffer(&all.set.e[i], 1);
	if (n) {
		qsort(v, n, sizeof(*v), cmp_double);
		m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	}
	free(v);
	ep_cset_free(&all.set);
	return m;
}

/* The first slot of the range whose rebuffering reaches thr (0: none). */
static uint64_t rebuffering_since(struct ep_collector *c, const struct range *r, uint32_t asn,
				  double thr)
{
	struct ep_where w = r->where;
	struct slots s = {0};
	uint64_t step = r->len / 30, since = 0;
	uint32_t i;

	step = step >= 1000000000ull ? (step + 999999999ull) / 1000000000ull * 1000000000ull
				     : 100000000ull;
	w.asn = asn;
	if (slots_init(&s, r->start, r->end, step, &w) < 0)
		return 0;
	ep_api_qoe_visit(c, s.start, r->end, step, slot_bucket, &s);
	for (i = 0; i < s.n && !since; i++) {
		double v = rebuffer(ep_cset_find(&s.a[i].set, asn, 0), POINT_PLAY_MS);

		if (!isnan(v) && v >= thr)
			since = s.start + i * step;
	}
	slots_free(&s);
	return since;
}

static void pct(char *out, size_t len, double v)
{
	snprintf(out, len, isnan(v) ? "-" : "%.2f%%", v * 100);
}

void ep_api_explain(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
		    struct ep_api_resp *resp)
{
	const char *bs = q->arg(q->ctx, "baseline");
	struct span now = {0}, base = {0};
	struct ep_hist *h = NULL;
	uint64_t blen, since = 0;
	double rb, rb0, thr, p, p0, x, x0;
	const char *verdict, *from = "own";
	char summary[512], a[24], b[24], t[EP_ISO_TIME_LEN] = "";
	int rebuf_up, rtt_known, retx_known, rtt_up, retx_up;
	struct range r;
	json_t *doc, *qo, *no;

	if (join_range(c, q, "15m", &r, resp) < 0)
		return;
	if (ep_parse_duration(bs ? bs : "1h", &blen) < 0 || !blen) {
		ep_api_error(resp, 400, "baseline", "bad baseline '%s' (e.g. 1h)", bs);
		return;
	}
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		return;
	}
	span_read(c, &r, asn, r.start, r.end, &now);
	span_read(c, &r, asn, r.start > blen ? r.start - blen : 0, r.start, &base);
	rb = rebuffer(now.q, 1);
	rb0 = enough_qoe(base.q) ? rebuffer(base.q, 1) : NAN;
	if (isnan(rb0)) {
		from = "peers";
		rb0 = peers_median(c, &r, asn);
		if (isnan(rb0)) {
			from = "none";
			rb0 = 0;
		}
	}
	p = p90(now.n, h, RTT_MIN_SAMPLES);
	p0 = p90(base.n, h, RTT_MIN_SAMPLES);
	x = retx(now.n, RETX_MIN_SEGS);
	x0 = retx(base.n, RETX_MIN_SEGS);
	rtt_known = !isnan(p) && !isnan(p0);
	retx_known = !isnan(x) && !isnan(x0);
	rtt_up = rtt_known && p >= p0 * RTT_FACTOR && p >= p0 + RTT_MARGIN_US;
	retx_up = retx_known && x >= x0 * RETX_FACTOR && x >= x0 + RETX_MARGIN;
	thr = fmax(REBUF_FLOOR, fmax(rb0 * REBUF_FACTOR, rb0 + REBUF_MARGIN));
	rebuf_up = enough_qoe(now.q) && rb >= thr;
	if (rebuf_up)
		since = rebuffering_since(c, &r, asn, thr);
	if (since)
		ep_iso_time(since, 0, t);
	pct(a, sizeof(a), rb);
	pct(b, sizeof(b), rb0);
	if (!enough_qoe(now.q)) {
		verdict = "insufficient_data";
		snprintf(summary, sizeof(summary),
			 "too few players: %" PRIu64 " sessions and %.0f s of play in the range "
			 "(at least %d and %d s)",
			 now.q ? now.q->c[EP_QC_sessions] : 0,
			 now.q ? now.q->c[EP_QC_play_ms] / 1000.0 : 0.0, MIN_SESSIONS,
			 MIN_PLAY_MS / 1000);
	} else if (!rtt_known && !retx_known) {
		verdict = "insufficient_data";
		snprintf(
		    summary, sizeof(summary),
		    "rebuffering %s (baseline %s, %s)%s, but no probe data to compare the network "
		    "with its baseline",
		    a, b, from, rebuf_up ? " is up" : "");
	} else {
		char net[256];

		snprintf(net, sizeof(net),
			 "in-flow RTT p90 %+.0f ms (%.0f -> %.0f ms), retransmissions "
			 "x%.1f (%.2f%% -> %.2f%%)",
			 rtt_known ? (p - p0) / 1000 : 0.0, rtt_known ? p0 / 1000 : 0.0,
			 rtt_known ? p / 1000 : 0.0, retx_known && x0 > 0 ? x / x0 : 0.0,
			 retx_known ? x0 * 100 : 0.0, retx_known ? x * 100 : 0.0);
		verdict = rebuf_up ? (rtt_up || retx_up ? "network" : "beyond_network")
				   : (rtt_up || retx_up ? "network_only" : "healthy");
		if (!strcmp(verdict, "network"))
			snprintf(summary, sizeof(summary),
				 "rebuffering up to %s (baseline %s) since "
				 "%s together with %s: the network path",
				 a, b, t[0] ? t : "the start", net);
		else if (!strcmp(verdict, "beyond_network"))
			snprintf(
			    summary, sizeof(summary),
			    "rebuffering up to %s (baseline %s) since "
			    "%s with the network at its baseline (%s): look beyond the network "
			    "(encoder, CDN, player)",
			    a, b, t[0] ? t : "the start", net);
		else if (!strcmp(verdict, "network_only"))
			snprintf(summary, sizeof(summary),
				 "the network is worse (%s) but rebuffering "
				 "is at its baseline (%s, baseline %s)",
				 net, a, b);
		else
			snprintf(summary, sizeof(summary),
				 "healthy: rebuffering %s (baseline %s) and "
				 "the network at its baseline (%s)",
				 a, b, net);
	}
	if (now.net.nomem || now.qoe.nomem || base.net.nomem || base.qoe.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	doc = json_object();
	qo = json_object();
	no = json_object();
	if (!doc || !qo || !no) {
		json_decref(doc);
		json_decref(qo);
		json_decref(no);
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	json_object_set_new(doc, "asn", json_integer(asn));
	json_object_set_new(doc, "start_ns", ep_jv_u64(r.start));
	json_object_set_new(doc, "end_ns", ep_jv_u64(r.end));
	json_object_set_new(doc, "baseline_start_ns",
			    ep_jv_u64(r.start > blen ? r.start - blen : 0));
	json_object_set_new(doc, "verdict", json_string(verdict));
	json_object_set_new(doc, "summary", ep_jv_str(summary));
	json_object_set_new(doc, "since_ns", since ? ep_jv_u64(since) : json_null());
	json_object_set_new(qo, "sessions", ep_jv_u64(now.q ? now.q->c[EP_QC_sessions] : 0));
	json_object_set_new(qo, "play_ms", ep_jv_u64(now.q ? now.q->c[EP_QC_play_ms] : 0));
	json_object_set_new(qo, "stalls", ep_jv_u64(now.q ? now.q->c[EP_QC_stalls] : 0));
	num(qo, "rebuffer_ratio", rb, 6);
	num(qo, "baseline_rebuffer_ratio", rb0, 6);
	json_object_set_new(qo, "baseline_from", json_string(from));
	json_object_set_new(qo, "threshold", ep_jv_fixed(thr, 6));
	json_object_set_new(qo, "up", json_boolean(rebuf_up));
	json_object_set_new(doc, "qoe", qo);
	json_object_set_new(no, "rtt_samples",
			    ep_jv_u64(now.n ? (uint64_t)now.n->h[EP_AH_RTT_DATA].total : 0));
	json_object_set_new(no, "baseline_rtt_samples",
			    ep_jv_u64(base.n ? (uint64_t)base.n->h[EP_AH_RTT_DATA].total : 0));
	num(no, "rtt_p90_us", p, 0);
	num(no, "baseline_rtt_p90_us", p0, 0);
	json_object_set_new(no, "rtt_up", json_boolean(rtt_up));
	json_object_set_new(no, "segs_out", ep_jv_u64(now.n ? now.n->c[EP_AC_segs_out] : 0));
	json_object_set_new(no, "baseline_segs_out",
			    ep_jv_u64(base.n ? base.n->c[EP_AC_segs_out] : 0));
	num(no, "retx_rate", x, 6);
	num(no, "baseline_retx_rate", x0, 6);
	json_object_set_new(no, "retx_up", json_boolean(retx_up));
	json_object_set_new(doc, "network", no);
	ep_api_send(resp, 200, doc);
done:
	ep_hist_free(h);
	span_free(&now);
	span_free(&base);
}
