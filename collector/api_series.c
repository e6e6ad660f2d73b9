/* SPDX-License-Identifier: BSD-3-Clause */
/* api_series.c - one ASN over time: a quantile or the retransmission rate per step, and the latency heatmap. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "qoe.h"
#include "stats.h"

struct series {
	uint64_t start, step;
	uint32_t n, asn;
	struct ep_where where; /* country=, region= */
	struct ep_centry *into; /* the slot being added to */
	int metric; /* histogram index, or -1 for retx_rate */
	struct ep_centry *slots;
	uint64_t bytes, saturated;
	int nomem;
};

/* One country's entry of the ASN into the current slot, when the request takes it. */
static void series_entry(const struct ep_centry *e, void *ctx)
{
	struct series *s = ctx;

	if (ep_where_ok(&s->where, e) &&
	    ep_centry_add(s->into, e, &s->bytes, &s->saturated) < 0)
		s->nomem = 1;
}

static void series_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct series *s = ctx;
	uint64_t slot;

	(void)step_ns;
	if (b->start < s->start)
		return;
	slot = (b->start - s->start) / s->step;
	if (slot >= s->n)
		return;
	s->into = &s->slots[slot];
	ep_cset_each_asn(&b->set, s->asn, series_entry, s);
}

/* step= over the range: slot start, count and storage. @return 0, or -1 with resp filled. */
static int series_init(struct series *s, const struct range *r, const char *steps,
		       const char *dflt, uint32_t max, uint32_t asn, struct ep_api_resp *resp)
{
	if (ep_parse_duration(steps ? steps : dflt, &s->step) < 0 || s->step == 0) {
		ep_api_error(resp, 400, "step", "bad step '%s' (e.g. 100ms, 1s, 1m)", steps);
		return -1;
	}
	s->start = r->start - r->start % s->step;
	if ((r->end - s->start) / s->step > max) {
		char msg[64];

		snprintf(msg, sizeof(msg), "too many points (at most %u): raise step", max);
		ep_api_error(resp, 400, "step", "%s", msg);
		return -1;
	}
	s->n = (uint32_t)((r->end - s->start + s->step - 1) / s->step);
	s->asn = asn;
	s->where = r->where;
	s->slots = calloc(s->n + 1, sizeof(*s->slots));
	if (!s->slots) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		return -1;
	}
	return 0;
}

static void series_free(struct series *s)
{
	uint32_t i, k;

	for (i = 0; s->slots && i < s->n; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_shist_free(&s->slots[i].h[k]);
	free(s->slots);
	s->slots = NULL;
}

void ep_api_series(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
		       struct ep_api_resp *resp)
{
	const char *metric = q->arg(q->ctx, "metric"), *qs = q->arg(q->ctx, "q"),
		   *steps = q->arg(q->ctx, "step");
	struct series s = {0};
	struct range r;
	struct ep_hist *h = NULL;
	double quant = 0.99;
	uint64_t tier_step;
	uint32_t i;
	struct ep_jw w = {0};
	json_t *doc;
	char *end;

	if (ep_api_get_range(c, q, "15m", &r, resp) < 0)
		return;
	s.metric = metric && !strcmp(metric, "retx_rate")	  ? -1
		   : metric && !strcmp(metric, "rebuffer_ratio") ? -2
								  : ep_api_metric_index(metric);
	if (s.metric == -1 && !(metric && !strcmp(metric, "retx_rate"))) {
		ep_api_error(resp, 400, "metric", "bad metric '%s' (rtt_data, rtt_hs, retx_rate, "
			     "rebuffer_ratio)", metric);
		return;
	}
	if (s.metric == -2 && !c->qoe) {
		ep_api_error(resp, 400, "metric", "no QoE here: the collector runs without --qoe%s",
			     "");
		return;
	}
	if (s.metric == -2 && !q->arg(q->ctx, "end") && !r.end) { /* no probe data */
		r.end = ep_api_qoe_newest(c);
		r.start = r.end > r.len ? r.end - r.len : 0;
	}
	if (qs) {
		quant = strtod(qs, &end);
		if (end == qs || *end || !(quant >= 0 && quant <= 1)) {
			ep_api_error(resp, 400, "q", "bad quantile '%s' (0 .. 1)", qs);
			return;
		}
	}
	if (series_init(&s, &r, steps, "1s", MAX_POINTS, asn, resp) < 0)
		return;
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	r.asn = asn;
	if (s.metric == -2)
		tier_step = ep_api_qoe_visit(c, s.start, r.end, s.step, series_bucket, &s);
	else
		tier_step = ep_api_visit(c, &r, s.start, r.end, s.step, 0, series_bucket, &s);
	if (r.view->newest_end && !tier_step && s.metric != -2) {
		ep_api_error(resp, 400, "step", "step '%s' is finer than the data kept",
			   steps ? steps : "1s");
		goto done;
	}
	doc = json_object();
	if (doc) {
		ep_api_range_json(doc, &r, tier_step);
		json_object_set_new(doc, "asn", json_integer(asn));
		json_object_set_new(doc, "org", ep_jv_str(ep_collector_org(c, asn)));
		json_object_set_new(doc, "metric",
				    json_string(s.metric == -2 ? "rebuffer_ratio"
						: s.metric < 0 ? "retx_rate"
							       : ep_asn_hist_names[s.metric]));
		json_object_set_new(doc, "q", ep_jv_real(quant, 6));
		json_object_set_new(doc, "step_ns", ep_jv_u64(s.step));
	}
	ep_jw_open(&w, doc); /* the points one by one (json_write.h) */
	ep_jw_list(&w, "points");
	for (i = 0; i < s.n && !w.err; i++) {
		const struct ep_centry *e = &s.slots[i];
		json_t *v = json_null();
		uint64_t n = 0, t = s.start + (uint64_t)i * s.step;

		if (s.metric == -2) { /* players: the rebuffer ratio, and the viewing time (ms) */
			n = e->c[EP_QC_play_ms] + e->c[EP_QC_stall_ms];
			if (n)
				v = ep_jv_real((double)e->c[EP_QC_stall_ms] / (double)n, 6);
		} else if (s.metric < 0) {
			n = e->c[EP_AC_segs_out];
			if (n)
				v = ep_jv_real(ep_api_retx_rate(e), 6);
		} else if (e->h[s.metric].total) {
			n = e->h[s.metric].total;
			v = ep_jv_int(ep_api_quantile_of(h, &e->h[s.metric], quant));
		}
		ep_jw_elem(&w, json_pack("[IoI]", (json_int_t)t, v, (json_int_t)n));
	}
	ep_jw_close(&w, ']');
	ep_jw_close(&w, '}');
	ep_api_send_jw(resp, 200, &w);
done:
	series_free(&s);
	ep_hist_free(h);
}

/* Heatmap rows: latency bins 100 us x 1.5^i, the last open-ended. */
#define HEAT_BINS 30

void ep_api_heatmap(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
			struct ep_api_resp *resp)
{
	const char *metric = q->arg(q->ctx, "metric"), *steps = q->arg(q->ctx, "step");
	double bounds[HEAT_BINS];
	struct series s = {0};
	struct range r;
	uint64_t tier_step;
	uint32_t i, k;
	int mk = ep_api_metric_index(metric);
	struct ep_jw w = {0};
	json_t *doc, *arr;

	if (ep_api_get_range(c, q, "15m", &r, resp) < 0)
		return;
	if (mk < 0) {
		ep_api_error(resp, 400, "metric", "bad metric '%s' (rtt_data, rtt_hs)", metric);
		return;
	}
	if (series_init(&s, &r, steps, "10s", 2000, asn, resp) < 0)
		return;
	r.asn = asn;
	tier_step = ep_api_visit(c, &r, s.start, r.end, s.step, 0, series_bucket, &s);
	for (i = 0, bounds[0] = 100; i + 1 < HEAT_BINS; i++)
		bounds[i + 1] = bounds[i] * 1.5;
	doc = json_object();
	arr = json_array();
	if (doc && arr) {
		ep_api_range_json(doc, &r, tier_step);
		json_object_set_new(doc, "asn", json_integer(asn));
		json_object_set_new(doc, "metric", json_string(ep_asn_hist_names[mk]));
		json_object_set_new(doc, "step_ns", ep_jv_u64(s.step));
		for (i = 0; i < HEAT_BINS; i++)
			json_array_append_new(arr, ep_jv_int(bounds[i]));
		json_object_set(doc, "bounds_us", arr);
	} else {
		json_decref(doc);
		doc = NULL; /* out of memory: a 500 */
	}
	json_decref(arr);
	ep_jw_open(&w, doc); /* the columns one by one (json_write.h) */
	ep_jw_list(&w, "columns");
	for (i = 0; i < s.n && !w.err; i++) {
		const struct ep_shist *sh = &s.slots[i].h[mk];
		uint64_t counts[HEAT_BINS] = {0};
		json_t *col = json_array();

		/* Each HDR bucket goes to the bin of its lowest value: bin b holds [bounds[b-1], bounds[b]). */
		for (k = 0; k < sh->n; k++) {
			double v = (double)ep_hdr_value_at_index(&c->hcfg, sh->b[k].idx);
			uint32_t b = 0;

			while (b + 1 < HEAT_BINS && v >= bounds[b])
				b++;
			counts[b] += sh->b[k].count;
		}
		json_array_append_new(col, ep_jv_u64(s.start + (uint64_t)i * s.step));
		for (k = 0; k < HEAT_BINS; k++)
			json_array_append_new(col, ep_jv_u64(counts[k]));
		if (!col || json_array_size(col) != HEAT_BINS + 1) {
			json_decref(col);
			col = NULL; /* out of memory: a 500 */
		}
		ep_jw_elem(&w, col);
	}
	ep_jw_close(&w, ']');
	ep_jw_close(&w, '}');
	ep_api_send_jw(resp, 200, &w);
	series_free(&s);
}
