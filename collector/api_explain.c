/* SPDX-License-Identifier: BSD-3-Clause */
/* api_explain.c - is one ISP's rebuffering the network's doing? (/api/v1/asns/ASN/explain) */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_join.h"
#include "isotime.h"
#include "qoe.h"

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
			v[n++] = ep_join_rebuffer(&all.set.e[i], 1);
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
	if (ep_join_slots_init(&s, r->start, r->end, step, &w) < 0)
		return 0;
	ep_api_qoe_visit(c, s.start, r->end, step, ep_join_slot_bucket, &s);
	for (i = 0; i < s.n && !since; i++) {
		double v = ep_join_rebuffer(ep_cset_find(&s.a[i].set, asn, 0), POINT_PLAY_MS);

		if (!isnan(v) && v >= thr)
			since = s.start + i * step;
	}
	ep_join_slots_free(&s);
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

	if (ep_join_range(c, q, "15m", &r, resp) < 0)
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
	rb = ep_join_rebuffer(now.q, 1);
	rb0 = enough_qoe(base.q) ? ep_join_rebuffer(base.q, 1) : NAN;
	if (isnan(rb0)) {
		from = "peers";
		rb0 = peers_median(c, &r, asn);
		if (isnan(rb0)) {
			from = "none";
			rb0 = 0;
		}
	}
	p = ep_join_p90(now.n, h, RTT_MIN_SAMPLES);
	p0 = ep_join_p90(base.n, h, RTT_MIN_SAMPLES);
	x = ep_join_retx(now.n, RETX_MIN_SEGS);
	x0 = ep_join_retx(base.n, RETX_MIN_SEGS);
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
	ep_join_num(qo, "rebuffer_ratio", rb, 6);
	ep_join_num(qo, "baseline_rebuffer_ratio", rb0, 6);
	json_object_set_new(qo, "baseline_from", json_string(from));
	json_object_set_new(qo, "threshold", ep_jv_fixed(thr, 6));
	json_object_set_new(qo, "up", json_boolean(rebuf_up));
	json_object_set_new(doc, "qoe", qo);
	json_object_set_new(no, "rtt_samples",
			    ep_jv_u64(now.n ? (uint64_t)now.n->h[EP_AH_RTT_DATA].total : 0));
	json_object_set_new(no, "baseline_rtt_samples",
			    ep_jv_u64(base.n ? (uint64_t)base.n->h[EP_AH_RTT_DATA].total : 0));
	ep_join_num(no, "rtt_p90_us", p, 0);
	ep_join_num(no, "baseline_rtt_p90_us", p0, 0);
	json_object_set_new(no, "rtt_up", json_boolean(rtt_up));
	json_object_set_new(no, "segs_out", ep_jv_u64(now.n ? now.n->c[EP_AC_segs_out] : 0));
	json_object_set_new(no, "baseline_segs_out",
			    ep_jv_u64(base.n ? base.n->c[EP_AC_segs_out] : 0));
	ep_join_num(no, "retx_rate", x, 6);
	ep_join_num(no, "baseline_retx_rate", x0, 6);
	json_object_set_new(no, "retx_up", json_boolean(retx_up));
	json_object_set_new(doc, "network", no);
	ep_api_send(resp, 200, doc);
done:
	ep_hist_free(h);
	span_free(&now);
	span_free(&base);
}
