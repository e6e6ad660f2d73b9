/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_regressions.c - /api/v1/regressions: the ASNs whose p90 or
 * retransmission rate rose most against the baseline period just before the
 * range (the detector's formula: docs/operations.md, "Alerts").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

#define EP_REGRESSION_MIN_SEGS 1000 /* segments each side before retransmissions compare */

struct regression {
	const struct ep_centry *now, *base;
	double p_now, p_base, r_now, r_base, score;
};

static int cmp_reg(const void *a, const void *b)
{
	const struct regression *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->now->asn < y->now->asn ? -1 : x->now->asn > y->now->asn;
}

void ep_api_regressions(struct ep_collector *c, const struct ep_api_req *q,
			    struct ep_api_resp *resp)
{
	const char *bs = q->arg(q->ctx, "baseline"), *ms = q->arg(q->ctx, "min_samples"),
		   *metric = q->arg(q->ctx, "metric");
	struct agg now = {0}, base = {0};
	struct regression *regs = NULL;
	struct ep_hist *h = NULL;
	uint64_t baseline, min_samples = 20;
	uint32_t i, n = 0, limit;
	int mk = ep_api_metric_index(metric);
	struct range r;
	json_t *doc, *list;
	char *end;

	if (ep_api_get_range(c, q, "5m", &r, resp) < 0 || ep_api_parse_limit(q, &limit, resp) < 0)
		return;
	if (mk < 0) {
		ep_api_error(resp, 400, "metric", "bad metric '%s' (rtt_data, rtt_hs)", metric);
		return;
	}
	if (ep_parse_duration(bs ? bs : "1h", &baseline) < 0 || baseline == 0) {
		ep_api_error(resp, 400, "baseline", "bad baseline '%s' (e.g. 1h)", bs);
		return;
	}
	if (ms) {
		min_samples = strtoull(ms, &end, 10);
		if (end == ms || *end) {
			ep_api_error(resp, 400, "min_samples", "bad min_samples '%s'", ms);
			return;
		}
	}
	now.where = base.where = r.where; /* per ASN, over the countries asked for */
	r.sum = 1;
	ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, ep_api_agg_bucket, &now);
	ep_api_visit(c, &r, r.start > baseline ? r.start - baseline : 0, r.start, 0,
		     c->cfg.query_budget, ep_api_agg_bucket, &base);
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    !(regs = calloc(now.set.n + 1, sizeof(*regs))) || now.nomem || base.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	for (i = 0; i < now.set.n; i++) {
		const struct ep_centry *e = &now.set.e[i], *b = ep_cset_find(&base.set, e->asn, 0);
		struct regression *g = &regs[n];
		double pr, rr;

		if (!b || ep_centry_samples(e, (unsigned)mk) < min_samples ||
		    ep_centry_samples(b, (unsigned)mk) < min_samples)
			continue;
		g->now = e;
		g->base = b;
		g->p_now = ep_api_quantile_of(h, &e->h[mk], 0.9);
		g->p_base = ep_api_quantile_of(h, &b->h[mk], 0.9);
		g->r_now = ep_api_retx_rate(e);
		g->r_base = ep_api_retx_rate(b);
		pr = g->p_base > 0 ? g->p_now / g->p_base : 1.0;
		/*
		 * Retransmission rates compare with a floor of 0.1 % (0 -> 0.05 % is not a jump),
		 * and only over 1,000 segments on both sides: losses come in bursts, and a few
		 * hundred segments swing from 0 to 7 % on a steady path.
		 */
		rr = e->c[EP_AC_segs_out] >= EP_REGRESSION_MIN_SEGS &&
				     b->c[EP_AC_segs_out] >= EP_REGRESSION_MIN_SEGS
			     ? (g->r_now + 0.001) / (g->r_base + 0.001)
			     : 0.0;
		g->score = pr > rr ? pr : rr;
		n++;
	}
	qsort(regs, n, sizeof(*regs), cmp_reg);
	doc = json_object();
	list = json_array();
	if (doc && list) {
		ep_api_range_json(doc, &r, 0);
		json_object_set_new(doc, "baseline_ns", ep_jv_u64(baseline));
		json_object_set_new(doc, "metric", json_string(ep_asn_hist_names[mk]));
		json_object_set_new(doc, "min_samples", ep_jv_u64(min_samples));
		json_object_set(doc, "regressions", list);
	}
	for (i = 0; doc && list && i < n && i < limit; i++) {
		const struct regression *g = &regs[i];
		json_t *o = json_object();

		if (o) {
			json_object_set_new(o, "asn", json_integer(g->now->asn));
			json_object_set_new(o, "org", ep_jv_str(ep_collector_org(c, g->now->asn)));
			json_object_set_new(o, "score", ep_jv_real(g->score, 4));
			json_object_set_new(o, "p90_us", ep_jv_int(g->p_now));
			json_object_set_new(o, "baseline_p90_us", ep_jv_int(g->p_base));
			json_object_set_new(
			    o, "p90_ratio",
			    ep_jv_real(g->p_base > 0 ? g->p_now / g->p_base : 1.0, 4));
			json_object_set_new(o, "retx_rate", ep_jv_real(g->r_now, 6));
			json_object_set_new(o, "baseline_retx_rate", ep_jv_real(g->r_base, 6));
			json_object_set_new(o, "samples", ep_jv_u64(g->now->h[mk].total));
			json_object_set_new(o, "baseline_samples", ep_jv_u64(g->base->h[mk].total));
		}
		if (json_array_append_new(list, o) < 0) {
			json_decref(doc);
			doc = NULL; /* out of memory: a 500 */
		}
	}
	json_decref(list);
	ep_api_send(resp, 200, doc);
done:
	free(regs);
	ep_hist_free(h);
	ep_cset_free(&now.set);
	ep_cset_free(&base.set);
}
