/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api.c - the API's dispatch, the lists (ASNs, countries, regions, (ASN,
 * country) pairs) and one ASN's histogram (helpers: api_common.c).
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_int.h"
#include "country.h"
#include "edgeprobe/ep_wire.h"
#include "stats.h"
#include "wallclock.h"

/* Per-slot sets for sparklines: the range cut into n slots. */
struct spark {
	uint64_t start, slot_ns;
	uint32_t n;
	const struct ep_where *where;
	struct ep_where where_copy;
	enum ep_group group;
	struct ep_cset *sets;
	uint64_t bytes, saturated;
	int nomem;
};

static void spark_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct spark *sp = ctx;
	uint64_t slot;
	uint32_t i;

	(void)step_ns;
	if (b->start < sp->start)
		return;
	slot = (b->start - sp->start) / sp->slot_ns;
	if (slot >= sp->n)
		slot = sp->n - 1;
	for (i = 0; i < b->set.n; i++) {
		struct ep_centry *e;
		uint32_t asn;
		uint16_t cc;

		if (!ep_where_ok(sp->where, &b->set.e[i]))
			continue;
		ep_api_group_key(sp->group, sp->where, &b->set.e[i], &asn, &cc);
		e = ep_cset_get(&sp->sets[slot], asn, cc, &sp->bytes);
		if (!e || ep_centry_add(e, &b->set.e[i], &sp->bytes, &sp->saturated) < 0)
			sp->nomem = 1;
	}
}

struct sortkey {
	const struct ep_centry *e;
	double key;
	const char *name; /* sort=name: the group's name (organisation, country, region) */
};

static int cmp_desc(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;

	if (x->name && y->name) {
		int c = strcasecmp(x->name, y->name);

		if (c)
			return c;
	}
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	if (x->e->asn != y->e->asn)
		return x->e->asn < y->e->asn ? -1 : 1;
	return x->e->cc < y->e->cc ? -1 : x->e->cc > y->e->cc;
}

static const char *const group_field[] = {"asns", "pairs", "countries", "regions"};

/* A group's name: the ASN's organisation, the country's name, the region's. */
static const char *group_name(const struct ep_collector *c, enum ep_group g,
			      const struct ep_centry *e)
{
	if (g == EP_GROUP_COUNTRY)
		return ep_cc_name(e->cc);
	if (g == EP_GROUP_REGION)
		return ep_region_name(&c->regions, e->asn);
	return ep_collector_org(c, e->asn);
}

/*
 * q=: "AS174" or "174" (ASNs starting with those digits; a country's two letters),
 * else a case-insensitive part of the group's name.
 */
static int q_match(const struct ep_collector *c, enum ep_group g, const struct ep_centry *e,
		   const char *q)
{
	const char *d = q;
	char num[16], cc[3];

	if (!q || !*q)
		return 1;
	if ((g == EP_GROUP_ASN || g == EP_GROUP_PAIR) && !strncasecmp(d, "AS", 2))
		d += 2;
	if ((g == EP_GROUP_ASN || g == EP_GROUP_PAIR) && *d && strspn(d, "0123456789") == strlen(d)) {
		snprintf(num, sizeof(num), "%" PRIu32, e->asn);
		return !strncmp(num, d, strlen(d));
	}
	if (g == EP_GROUP_COUNTRY && strlen(q) == 2 && !strcasecmp(ep_cc_str(e->cc, cc), q))
		return 1;
	return strcasestr(group_name(c, g, e), q) != NULL;
}

/*
 * A list of groups over a range: ASNs (merged over their countries),
 * (ASN, country) pairs, countries (merged over their ASNs) or regions.
 * sort=asn sorts by the group's key.
 */
static void api_list(struct ep_collector *c, const struct ep_api_req *q, enum ep_group group,
		     struct ep_api_resp *resp)
{
	const char *sort = q->arg(q->ctx, "sort"), *metric = q->arg(q->ctx, "metric"),
		   *spark_s = q->arg(q->ctx, "spark"), *qs = q->arg(q->ctx, "q"),
		   *ms = q->arg(q->ctx, "min_samples"), *with = q->arg(q->ctx, "with");
	struct agg qa = {0};
	char probe_id[EP_WIRE_PROBE_MAX + 1];
	struct spark sp = {0};
	uint64_t min_samples = 0;
	uint32_t nk = 0;
	struct agg a = {0};
	struct range r;
	struct ep_hist *h = NULL;
	struct sortkey *keys = NULL;
	uint32_t i, limit, cursor;
	uint64_t step, qstep = 0;
	int mk = ep_api_metric_index(metric);
	json_t *doc;
	struct ep_jw w = {0};

	if (ep_api_get_range(c, q, "5m", &r, resp) < 0 || ep_api_parse_limit(q, &limit, resp) < 0 ||
	    ep_api_parse_cursor(q, &cursor, resp) < 0)
		return;
	a.where = sp.where_copy = r.where;
	a.group = sp.group = group;
	sp.where = &sp.where_copy;
	if (limit == UINT32_MAX)
		limit = EP_API_DEFAULT_LIMIT;
	if (mk < 0) {
		ep_api_error(resp, 400, "metric", "bad metric '%s' (rtt_data, rtt_hs)", metric);
		return;
	}
	if (sort && strcmp(sort, "p50") && strcmp(sort, "p90") && strcmp(sort, "p99") &&
	    strcmp(sort, "max") && strcmp(sort, "retx_rate") && strcmp(sort, "samples") &&
	    strcmp(sort, "flows") && strcmp(sort, "asn") && strcmp(sort, "name")) {
		ep_api_error(resp, 400, "sort",
			   "bad sort '%s' (p50, p90, p99, max, retx_rate, samples, flows, asn, name)",
			   sort);
		return;
	}
	if (ms) {
		char *end;

		errno = 0;
		min_samples = strtoull(ms, &end, 10);
		if (errno || end == ms || *end || *ms == '-') {
			ep_api_error(resp, 400, "min_samples", "bad min_samples '%s'", ms);
			return;
		}
	}
	if (with && strcmp(with, "qoe")) {
		ep_api_error(resp, 400, "with", "bad with '%s' (qoe)", with);
		return;
	}
	if (qs && strlen(qs) > 100) {
		ep_api_error(resp, 400, "q", "q longer than 100 bytes%s", "");
		return;
	}
	if (spark_s) {
		char *end;
		unsigned long n = strtoul(spark_s, &end, 10);

		if (end == spark_s || *end || n < 2 || n > 120) {
			ep_api_error(resp, 400, "spark", "bad spark '%s' (2 .. 120 points)", spark_s);
			return;
		}
		sp.n = (uint32_t)n;
	}
	if (with && !q->arg(q->ctx, "end") && !r.end) { /* no probe data: the players' end */
		uint64_t qend = ep_api_qoe_newest(c);

		if (qend) {
			r.end = qend;
			r.start = r.end > r.len ? r.end - r.len : 0;
		}
	}
	r.sum = 1;
	step = ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, ep_api_agg_bucket, &a);
	r.sum = 0;
	if (sp.n && step) {
		/* Slots of whole buckets of the tier used, so that each bucket falls in one slot. */
		sp.start = r.start - r.start % step;
		sp.slot_ns = (r.end - sp.start + sp.n - 1) / sp.n;
		sp.slot_ns = (sp.slot_ns + step - 1) / step * step;
		sp.sets = calloc(sp.n, sizeof(*sp.sets));
		if (!sp.sets)
			sp.nomem = 1;
		else
			ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, spark_bucket,
				     &sp);
	}
	if (with) {
		/* the history read below releases the lock: keep the probe's name, not its view */
		snprintf(probe_id, sizeof(probe_id), "%s", r.probe ? r.probe : "");
		r.probe = r.probe ? probe_id : NULL;
		r.view = NULL;
		qa.where = r.where;
		qa.group = group;
		qstep = ep_api_qoe_collect(c, &r, &qa);
		for (i = 0; i < qa.set.n; i++) /* groups players report on, without RTT data */
			if (!ep_cset_get(&a.set, qa.set.e[i].asn, qa.set.e[i].cc, &a.bytes))
				a.nomem = 1;
	}
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    !(keys = calloc(a.set.n + 1, sizeof(*keys))) || a.nomem || sp.nomem || qa.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	for (i = 0; i < a.set.n; i++) {
		const struct ep_centry *e = &a.set.e[i];
		double k = 0;

		/* min_samples=: groups with fewer samples of the metric are left out of the ranking */
		if (ep_centry_samples(e, (unsigned)mk) < min_samples || !q_match(c, group, e, qs))
			continue;
		keys[nk].e = e;
		keys[nk].name = sort && !strcmp(sort, "name") ? group_name(c, group, e) : NULL;
		if (!sort || !strcmp(sort, "samples"))
			k = (double)e->h[mk].total;
		else if (!strcmp(sort, "p50"))
			k = ep_api_quantile_of(h, &e->h[mk], 0.5);
		else if (!strcmp(sort, "p90"))
			k = ep_api_quantile_of(h, &e->h[mk], 0.9);
		else if (!strcmp(sort, "p99"))
			k = ep_api_quantile_of(h, &e->h[mk], 0.99);
		else if (!strcmp(sort, "max"))
			k = ep_api_quantile_of(h, &e->h[mk], 1.0);
		else if (!strcmp(sort, "retx_rate"))
			k = ep_api_retx_rate(e);
		else if (!strcmp(sort, "flows"))
			k = (double)e->c[EP_AC_flows_new];
		else
			k = -((double)e->asn * 1024.0 + e->cc);
		keys[nk++].key = k;
	}
	qsort(keys, nk, sizeof(*keys), cmp_desc);
	/* the head as one object; the entries written one by one (json_write.h says why) */
	doc = json_object();
	if (doc) {
		ep_api_range_json(doc, &r, step);
		json_object_set_new(doc, "windows", ep_jv_u64(a.windows));
		if (with) { /* a collector without --qoe answers too: "qoe":null everywhere */
			json_object_set_new(doc, "qoe_enabled", json_boolean(c->qoe));
			json_object_set_new(doc, "qoe_resolution_ns", ep_jv_u64(qstep));
		}
		ep_api_page_json(doc, nk, cursor, limit);
		if (sp.n && step) {
			json_object_set_new(doc, "spark_start_ns", ep_jv_u64(sp.start));
			json_object_set_new(doc, "spark_step_ns", ep_jv_u64(sp.slot_ns));
		}
	}
	ep_jw_open(&w, doc);
	ep_jw_list(&w, group_field[group]);
	for (i = cursor; i < nk && i - cursor < limit && !w.err; i++) {
		json_t *e = ep_api_entry_json(c, group, keys[i].e, h, NULL), *spark;
		uint32_t k;

		if (e && sp.n && step) {
			/* a "spark" of the metric's p90 per slot */
			json_object_set_new(e, "spark", spark = json_array());
			for (k = 0; spark && k < sp.n; k++) {
				const struct ep_centry *se =
				    ep_cset_find(&sp.sets[k], keys[i].e->asn, keys[i].e->cc);

				json_array_append_new(
				    spark, se && se->h[mk].total
					       ? ep_jv_int(ep_api_quantile_of(h, &se->h[mk], 0.9))
					       : json_null());
			}
		}
		if (e && with) /* the players' QoE of the same group, beside its RTT */
			json_object_set_new(
			    e, "qoe",
			    ep_api_qoe_json(ep_cset_find(&qa.set, keys[i].e->asn, keys[i].e->cc),
					    h));
		ep_jw_elem(&w, e); /* NULL (out of memory): the answer is a 500 */
	}
	ep_jw_close(&w, ']');
	ep_jw_close(&w, '}');
	ep_api_send_jw(resp, 200, &w);
done:
	for (i = 0; sp.sets && i < sp.n; i++)
		ep_cset_free(&sp.sets[i]);
	free(sp.sets);
	free(keys);
	ep_hist_free(h);
	ep_cset_free(&a.set);
	ep_cset_free(&qa.set);
}

static int parse_asn(const char *s, uint32_t *asn)
{
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return -EINVAL;
	if (!strncasecmp(s, "AS", 2))
		s += 2;
	v = strtoull(s, &end, 10);
	if (end == s || (*end && *end != '/') || v > UINT32_MAX)
		return -EINVAL;
	*asn = (uint32_t)v;
	return 0;
}

static void api_histogram(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
			  struct ep_api_resp *resp)
{
	struct agg a = {0};
	struct range r;
	struct ep_hist *h = NULL;
	const struct ep_centry *e;
	struct ep_hist_codec codec = {0};
	uint64_t step;
	json_t *doc;

	if (ep_api_get_range(c, q, "1m", &r, resp) < 0)
		return;
	a.where = r.where;
	a.where.asn = r.asn = asn;
	r.sum = 1;
	step = ep_api_visit(c, &r, r.start, r.end, 0, 0, ep_api_agg_bucket, &a);
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    a.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	e = ep_cset_find(&a.set, asn, 0);
	if (!e) {
		char what[48];

		/* not zeros, which would read as a perfect ISP */
		snprintf(what, sizeof(what), "AS%" PRIu32, asn);
		ep_api_error(resp, 404, "asn", "no data for %s in this range", what);
		goto done;
	}
	doc = json_object();
	if (doc) {
		ep_api_range_json(doc, &r, step);
		if (json_object_set_new(doc, "asn",
					ep_api_entry_json(c, EP_GROUP_ASN, e, h, &codec)) < 0)
			json_decref(doc), doc = NULL;
	}
	ep_api_send(resp, 200, doc);
done:
	ep_hist_codec_fini(&codec);
	ep_hist_free(h);
	ep_cset_free(&a.set);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                   */
/* ------------------------------------------------------------------------ */

int ep_api_handle(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp)
{
	const char *p = q->path;
	uint64_t now = ep_wall_ns();
	uint32_t asn;

	memset(resp, 0, sizeof(*resp));
	if (!strcmp(p, "/metrics")) {
		ep_api_metrics(c, resp, now);
		return 1;
	}
	if (strncmp(p, "/api/", 5))
		return 0;
	if (!strcmp(p, "/api/v1/asns")) {
		const char *by = q->arg(q->ctx, "by");

		if (by && !strcmp(by, "country"))
			api_list(c, q, EP_GROUP_PAIR, resp);
		else if (by && strcmp(by, "asn"))
			ep_api_error(resp, 400, "by", "bad by '%s' (asn, country)", by);
		else
			api_list(c, q, EP_GROUP_ASN, resp);
	} else if (!strcmp(p, "/api/v1/countries")) {
		api_list(c, q, EP_GROUP_COUNTRY, resp);
	} else if (!strcmp(p, "/api/v1/regions")) {
		api_list(c, q, EP_GROUP_REGION, resp);
	} else if (!strcmp(p, "/api/v1/report")) {
		ep_api_report(c, q, resp);
	} else if (!strcmp(p, "/api/v1/probes")) {
		ep_api_probes(c, q, resp, now);
	} else if (!strcmp(p, "/api/v1/regressions")) {
		ep_api_regressions(c, q, resp);
	} else if (!strcmp(p, "/api/v1/alerts")) {
		ep_api_alerts(c, q, resp);
	} else if (!strcmp(p, "/api/v1/correlation")) {
		ep_api_correlation(c, q, resp);
	} else if (!strncmp(p, "/api/v1/asns/", 13)) {
		const char *rest = p + 13, *slash = strchr(rest, '/');

		if (parse_asn(rest, &asn) < 0 || !slash)
			ep_api_error(resp, 404, NULL, "no such resource '%s' (asns/ASN/series, asns/ASN/histogram)", p);
		else if (!strcmp(slash, "/series"))
			ep_api_series(c, q, asn, resp);
		else if (!strcmp(slash, "/histogram"))
			api_histogram(c, q, asn, resp);
		else if (!strcmp(slash, "/heatmap"))
			ep_api_heatmap(c, q, asn, resp);
		else if (!strcmp(slash, "/explain"))
			ep_api_explain(c, q, asn, resp);
		else
			ep_api_error(resp, 404, NULL, "no such resource '%s'", p);
	} else {
		ep_api_error(resp, 404, NULL, "no such resource '%s'", p);
	}
	return 1;
}
