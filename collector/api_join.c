/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_join.c - players' QoE joined with the probes' network numbers per ISP:
 * the numbers per time slot both joins read, and the rank correlation over time
 * steps and across ISPs (/api/v1/correlation).  The verdict: api_explain.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "api_join.h"
#include "isotime.h"
#include "qoe.h"

void ep_join_slot_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct slots *s = ctx;
	uint64_t i;

	if (b->start < s->start)
		return;
	i = (b->start - s->start) / s->step;
	if (i < s->n)
		ep_api_agg_bucket(b, step_ns, &s->a[i]);
}

int ep_join_slots_init(struct slots *s, uint64_t start, uint64_t end, uint64_t step,
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

int ep_join_slots_nomem(const struct slots *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->a[i].nomem)
			return 1;
	return 0;
}

void ep_join_slots_free(struct slots *s)
{
	uint32_t i;

	for (i = 0; s->a && i < s->n; i++)
		ep_cset_free(&s->a[i].set);
	free(s->a);
	s->a = NULL;
}

double ep_join_rebuffer(const struct ep_centry *e, uint64_t min_play)
{
	uint64_t play = e ? e->c[EP_QC_play_ms] : 0, stall = e ? e->c[EP_QC_stall_ms] : 0;

	return play >= min_play && play ? (double)stall / (double)(play + stall) : NAN;
}

double ep_join_p90(const struct ep_centry *e, struct ep_hist *h, uint64_t min)
{
	return e && e->h[EP_AH_RTT_DATA].total >= min && min
		   ? ep_api_quantile_of(h, &e->h[EP_AH_RTT_DATA], 0.9)
		   : NAN;
}

double ep_join_retx(const struct ep_centry *e, uint64_t min_segs)
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
void ep_join_num(json_t *o, const char *name, double v, int decimals)
{
	json_object_set_new(o, name, decimals ? ep_jv_fixed(v, decimals) : ep_jv_int(v));
}

/* range= and end= for a join: by default the range ends at the newest probe data (at the
 * newest players' data when there is none). */
int ep_join_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
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

	if (ep_join_range(c, q, "1h", &r, resp) < 0)
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
	if (ep_join_slots_init(&net, r.start, r.end, step, &r.where) < 0 ||
	    ep_join_slots_init(&qoe, r.start, r.end, step, &r.where) < 0 ||
	    ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0)
		goto nomem;
	r.sum = 0;
	ep_api_visit(c, &r, net.start, r.end, step, 0, ep_join_slot_bucket, &net);
	ep_api_qoe_visit(c, qoe.start, r.end, step, ep_join_slot_bucket, &qoe);
	ep_api_qoe_visit(c, r.start, r.end, 0, ep_api_agg_bucket, &tot);
	r.sum = 1;
	ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, ep_api_agg_bucket, &ntot);
	if (ep_join_slots_nomem(&net) || ep_join_slots_nomem(&qoe) || tot.nomem || ntot.nomem)
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
			double rb = ep_join_rebuffer(qe, POINT_PLAY_MS),
			       v = ep_join_p90(ne, h, POINT_RTT_SAMPLES);

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
			double rb = ep_join_rebuffer(qe, POINT_PLAY_MS),
			       v = ep_join_retx(ne, POINT_SEGS);

			if (!isnan(rb) && !isnan(v)) {
				x[nr] = rb;
				y[nr++] = v;
			}
		}
		row->rpoints = nr;
		row->rho_retx = nr >= min_points ? spearman(x, y, nr) : NAN;
		n = ep_cset_find(&ntot.set, e->asn, 0);
		row->rebuf = ep_join_rebuffer(e, 1);
		row->p90 = ep_join_p90(n, h, 1);
		row->retx = ep_join_retx(n, 1);
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
	ep_join_num(across, "rho_rtt_p90", spearman(ax, ay, na), 4);
	{
		/* across ISPs, rebuffering against retransmissions: the pairs with both */
		uint32_t m = 0;

		for (i = 0; i < nrows; i++)
			if (!isnan(rows[i].rebuf) && !isnan(rows[i].retx)) {
				ax[m] = rows[i].rebuf;
				az[m++] = rows[i].retx;
			}
		json_object_set_new(across, "asns_retx", json_integer(m));
		ep_join_num(across, "rho_retx_rate", spearman(ax, az, m), 4);
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
			ep_join_num(o, "rebuffer_ratio", row->rebuf, 6);
			ep_join_num(o, "rtt_p90_us", row->p90, 0);
			ep_join_num(o, "retx_rate", row->retx, 6);
			ep_join_num(o, "rho_rtt_p90", row->rho_rtt, 4);
			ep_join_num(o, "rho_retx_rate", row->rho_retx, 4);
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
	ep_join_slots_free(&net);
	ep_join_slots_free(&qoe);
	ep_cset_free(&tot.set);
	ep_cset_free(&ntot.set);
}
