/* SPDX-License-Identifier: BSD-3-Clause */
/* api.c - JSON API and Prometheus metrics over the collector's views. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "edgeprobe/ep_wire.h"
#include "json_out.h"
#include "stats.h"
#include "wallclock.h"

#define EP_API_DEFAULT_LIMIT 1000 /* list entries per page when no limit= is given */

int ep_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;
	uint64_t unit = NS_PER_S;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 1e7)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		unit = NS_PER_S / 1000;
	else if (!strcmp(end, "s") || !*end)
		unit = NS_PER_S;
	else if (!strcmp(end, "m"))
		unit = 60 * NS_PER_S;
	else if (!strcmp(end, "h"))
		unit = 3600 * NS_PER_S;
	else if (!strcmp(end, "d"))
		unit = 86400 * NS_PER_S;
	else
		return -EINVAL;
	if (v * (double)unit >= 1.8e19) /* "1e7d": past 2^64 ns */
		return -EINVAL;
	*ns = (uint64_t)(v * (double)unit);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                  */
/* ------------------------------------------------------------------------ */

int ep_api_out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->fp = open_memstream(&o->buf, &o->len);
	return o->fp ? 0 : -ENOMEM;
}

void ep_api_out_finish(struct out *o, struct ep_api_resp *r, int status, const char *ctype)
{
	fclose(o->fp);
	r->status = status;
	r->body = o->buf;
	r->len = o->len;
	r->ctype = ctype;
}

void ep_api_error(struct ep_api_resp *r, int status, const char *param, const char *fmt,
		       const char *detail)
{
	struct out o;
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, detail ? detail : "");
	if (ep_api_out_open(&o) < 0) {
		r->status = 500;
		r->body = NULL;
		r->len = 0;
		return;
	}
	fputs("{\"error\":", o.fp);
	ep_json_write_string(o.fp, msg);
	if (param) {
		fputs(",\"param\":", o.fp);
		ep_json_write_string(o.fp, param);
	}
	fprintf(o.fp, ",\"status\":%d}\n", status);
	ep_api_out_finish(&o, r, status, "application/json");
}

/* ------------------------------------------------------------------------ */
/* ASN objects                                                                */
/* ------------------------------------------------------------------------ */

double ep_api_retx_rate(const struct ep_centry *e)
{
	return e->c[EP_AC_segs_out] ? (double)e->c[EP_AC_retx_out] / (double)e->c[EP_AC_segs_out]
				    : 0.0;
}

static void fill(struct ep_hist *h, const struct ep_shist *s)
{
	ep_hist_reset(h);
	ep_shist_to_hist(s, h);
}

/* A histogram's count and quantiles; with no sample, the quantiles are null (not 0: not "fast"). */
static void write_hist(FILE *fp, const char *name, const struct ep_shist *s, struct ep_hist *h,
		       const char *unit, struct ep_hist_codec *hdr)
{
	fill(h, s);
	if (!h->total)
		fprintf(fp,
			"\"%s\":{\"n\":0,\"min%s\":null,\"p50%s\":null,\"p90%s\":null,"
			"\"p99%s\":null,\"max%s\":null",
			name, unit, unit, unit, unit, unit);
	else
		fprintf(fp,
			"\"%s\":{\"n\":%" PRId64 ",\"min%s\":%" PRId64 ",\"p50%s\":%" PRId64
			",\"p90%s\":%" PRId64 ",\"p99%s\":%" PRId64 ",\"max%s\":%" PRId64,
			name, h->total, unit, ep_hist_min(h), unit, ep_hist_percentile(h, 50.0), unit,
			ep_hist_percentile(h, 90.0), unit, ep_hist_percentile(h, 99.0), unit,
			ep_hist_max(h));
	if (hdr) {
		long cap = h->total ? ep_hist_encode(hdr, h, NULL, 0) / 3 * 4 + 8 : 8;
		char *b64 = malloc((size_t)cap);

		fputs(",\"hdr\":\"", fp);
		if (b64 && h->total && ep_hist_encode_b64(hdr, h, b64, (size_t)cap) > 0)
			fputs(b64, fp);
		fputc('"', fp);
		free(b64);
	}
	fputc('}', fp);
	ep_hist_reset(h);
}

void ep_api_write_asn(FILE *fp, const struct ep_collector *c, const struct ep_centry *e,
		      struct ep_hist *scratch, struct ep_hist_codec *hdr)
{
	uint32_t k;

	fprintf(fp, "{\"asn\":%" PRIu32 ",\"org\":", e->asn);
	ep_json_write_string(fp, ep_collector_org(c, e->asn));
	for (k = 0; k < EP_AC__COUNT; k++)
		fprintf(fp, ",\"%s\":%" PRIu64, ep_asn_counter_names[k], e->c[k]);
	fprintf(fp, ",\"retx_rate\":%.6g", ep_api_retx_rate(e));
	for (k = 0; k < EP_AH__COUNT; k++) {
		fputc(',', fp);
		write_hist(fp, ep_asn_hist_names[k], &e->h[k], scratch,
			   k == EP_AH_RETX_PPM ? "" : "_us", hdr);
	}
	fputc('}', fp);
}

/* ------------------------------------------------------------------------ */
/* Aggregation over a range                                                   */
/* ------------------------------------------------------------------------ */

struct agg {
	struct ep_cset set;
	uint64_t bytes, saturated, windows;
	uint32_t only_asn; /* 0: every ASN */
	int nomem;
};

static void agg_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct agg *a = ctx;
	uint32_t i;

	(void)step_ns;
	a->windows += b->windows;
	for (i = 0; i < b->set.n; i++) {
		const struct ep_centry *src = &b->set.e[i];
		struct ep_centry *dst;

		if (a->only_asn && src->asn != a->only_asn)
			continue;
		dst = ep_cset_get(&a->set, src->asn, &a->bytes);
		if (!dst || ep_centry_add(dst, src, &a->bytes, &a->saturated) < 0)
			a->nomem = 1;
	}
}

static uint64_t parse_end(const char *s, int *bad)
{
	char *end;
	double v;

	*bad = 0;
	if (!s)
		return 0;
	v = strtod(s, &end);
	if (end == s || *end || !(v > 0) || !isfinite(v)) {
		*bad = 1;
		return 0;
	}
	/* Unix seconds (possibly fractional), or nanoseconds when that large. */
	if (v <= 1e14)
		v *= 1e9;
	if (v >= 1.8e19) { /* past 2^64 ns (year 2554): not a time */
		*bad = 1;
		return 0;
	}
	return (uint64_t)v;
}

/* Resolve range=, end= and probe= into r. @return 0, or fills an error response. */
int ep_api_get_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
		     struct range *r, struct ep_api_resp *resp)
{
	const char *range = q->arg(q->ctx, "range"), *probe = q->arg(q->ctx, "probe");
	int bad;

	if (ep_parse_duration(range ? range : dflt, &r->len) < 0 || r->len == 0) {
		ep_api_error(resp, 400, "range", "bad range '%s' (e.g. 500ms, 30s, 5m, 1h, 1d)", range);
		return -1;
	}
	r->view = &c->all;
	r->probe = NULL;
	r->asn = 0;
	r->sum = 0;
	r->remote = NULL;
	if (probe) {
		struct ep_cprobe *p = ep_collector_probe(c, probe);
		const struct ep_view *a = &c->all;

		if (!p && c->others && c->stored) {
			/* another collector's probe, if the shared store has it */
			int held;

			pthread_mutex_unlock(&c->lock);
			held = c->stored(c->older_ctx, probe, a->t[a->ntiers - 1].step_ns);
			pthread_mutex_lock(&c->lock);
			if (held) {
				r->remote = probe;
				goto when;
			}
		}
		if (!p) {
			ep_api_error(resp, 404, "probe", "unknown probe '%s'", probe);
			return -1;
		}
		if (!p->view) {
			ep_api_error(resp, 409, "probe",
				   "no per-probe view is kept for '%s' (--max-probe-views)", probe);
			return -1;
		}
		r->view = p->view;
		r->probe = p->id;
	}
when:
	r->end = parse_end(q->arg(q->ctx, "end"), &bad);
	if (bad) {
		ep_api_error(resp, 400, "end", "bad end '%s' (Unix seconds or nanoseconds)",
			   q->arg(q->ctx, "end"));
		return -1;
	}
	if (!r->end)
		r->end = r->view->newest_end;
	r->start = r->end > r->len ? r->end - r->len : 0;
	return 0;
}

void ep_api_write_range(FILE *fp, const struct range *r, uint64_t step)
{
	fprintf(fp, "\"start_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64 ",\"range_ns\":%" PRIu64
		    ",\"resolution_ns\":%" PRIu64 ",\"probe\":",
		r->start, r->end, r->len, step);
	if (r->probe || r->remote)
		ep_json_write_string(fp, r->probe ? r->probe : r->remote);
	else
		fputs("null", fp);
}

int ep_api_metric_index(const char *m)
{
	if (!m || !strcmp(m, "rtt_data"))
		return EP_AH_RTT_DATA;
	if (!strcmp(m, "rtt_hs"))
		return EP_AH_RTT_HS;
	return -1;
}

/* Per-slot sets for sparklines: the range cut into n slots. */
struct spark {
	uint64_t start, slot_ns;
	uint32_t n;
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
		struct ep_centry *e = ep_cset_get(&sp->sets[slot], b->set.e[i].asn, &sp->bytes);

		if (!e || ep_centry_add(e, &b->set.e[i], &sp->bytes, &sp->saturated) < 0)
			sp->nomem = 1;
	}
}

struct sortkey {
	const struct ep_centry *e;
	double key;
};

static int cmp_desc(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->e->asn < y->e->asn ? -1 : x->e->asn > y->e->asn;
}

double ep_api_quantile_of(struct ep_hist *h, const struct ep_shist *s, double q)
{
	double v;

	fill(h, s);
	v = h->total ? (double)(q >= 1.0 ? ep_hist_max(h) : ep_hist_percentile(h, q * 100.0)) : 0;
	ep_hist_reset(h);
	return v;
}

static int parse_limit(const struct ep_api_req *q, uint32_t *limit, struct ep_api_resp *resp)
{
	const char *s = q->arg(q->ctx, "limit");
	char *end;
	unsigned long v;

	*limit = UINT32_MAX;
	if (!s)
		return 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end || v == 0 || v > 1000000) {
		ep_api_error(resp, 400, "limit", "bad limit '%s' (1 .. 1000000)", s);
		return -1;
	}
	*limit = (uint32_t)v;
	return 0;
}

/* cursor=N: where a list resumes (the next_cursor of the previous page). */
static int parse_cursor(const struct ep_api_req *q, uint32_t *cursor, struct ep_api_resp *resp)
{
	const char *s = q->arg(q->ctx, "cursor");
	char *end;
	unsigned long v;

	*cursor = 0;
	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > UINT32_MAX) {
		ep_api_error(resp, 400, "cursor", "bad cursor '%s' (the next_cursor of a page)", s);
		return -1;
	}
	*cursor = (uint32_t)v;
	return 0;
}

static void write_page(FILE *fp, uint32_t total, uint32_t cursor, uint32_t limit)
{
	fprintf(fp, ",\"total\":%" PRIu32 ",\"next_cursor\":", total);
	if ((uint64_t)cursor + limit < total)
		fprintf(fp, "\"%" PRIu32 "\"", cursor + limit);
	else
		fputs("null", fp);
}

static void api_asns(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp)
{
	const char *sort = q->arg(q->ctx, "sort"), *metric = q->arg(q->ctx, "metric"),
		   *spark_s = q->arg(q->ctx, "spark");
	struct spark sp = {0};
	struct agg a = {0};
	struct range r;
	struct ep_hist *h = NULL;
	struct sortkey *keys = NULL;
	uint32_t i, limit, cursor;
	uint64_t step;
	int mk = ep_api_metric_index(metric);
	struct out o;

	if (ep_api_get_range(c, q, "5m", &r, resp) < 0 || parse_limit(q, &limit, resp) < 0 ||
	    parse_cursor(q, &cursor, resp) < 0)
		return;
	if (limit == UINT32_MAX)
		limit = EP_API_DEFAULT_LIMIT;
	if (mk < 0) {
		ep_api_error(resp, 400, "metric", "bad metric '%s' (rtt_data, rtt_hs)", metric);
		return;
	}
	if (sort && strcmp(sort, "p50") && strcmp(sort, "p90") && strcmp(sort, "p99") &&
	    strcmp(sort, "max") && strcmp(sort, "retx_rate") && strcmp(sort, "samples") &&
	    strcmp(sort, "flows") && strcmp(sort, "asn")) {
		ep_api_error(resp, 400, "sort",
			   "bad sort '%s' (p50, p90, p99, max, retx_rate, samples, flows, asn)", sort);
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
	r.sum = 1;
	step = ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, agg_bucket, &a);
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
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    !(keys = calloc(a.set.n + 1, sizeof(*keys))) || ep_api_out_open(&o) < 0 || a.nomem || sp.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	for (i = 0; i < a.set.n; i++) {
		const struct ep_centry *e = &a.set.e[i];
		double k = 0;

		keys[i].e = e;
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
			k = -(double)e->asn;
		keys[i].key = k;
	}
	qsort(keys, a.set.n, sizeof(*keys), cmp_desc);
	fputc('{', o.fp);
	ep_api_write_range(o.fp, &r, step);
	fprintf(o.fp, ",\"windows\":%" PRIu64, a.windows);
	write_page(o.fp, a.set.n, cursor, limit);
	fputs(",\"asns\":[", o.fp);
	for (i = cursor; i < a.set.n && i - cursor < limit; i++) {
		if (i > cursor)
			fputc(',', o.fp);
		ep_api_write_asn(o.fp, c, keys[i].e, h, NULL);
		if (sp.n && step) {
			uint32_t k;

			/* Replace the closing brace: a "spark" of the metric's p90 per slot. */
			fseek(o.fp, -1, SEEK_CUR);
			fputs(",\"spark\":[", o.fp);
			for (k = 0; k < sp.n; k++) {
				const struct ep_centry *e = ep_cset_find(&sp.sets[k], keys[i].e->asn);

				if (k)
					fputc(',', o.fp);
				if (e && e->h[mk].total)
					fprintf(o.fp, "%.0f", ep_api_quantile_of(h, &e->h[mk], 0.9));
				else
					fputs("null", o.fp);
			}
			fputs("]}", o.fp);
		}
	}
	fputs("]", o.fp);
	if (sp.n && step)
		fprintf(o.fp, ",\"spark_start_ns\":%" PRIu64 ",\"spark_step_ns\":%" PRIu64, sp.start,
			sp.slot_ns);
	fputs("}\n", o.fp);
	ep_api_out_finish(&o, resp, 200, "application/json");
done:
	for (i = 0; sp.sets && i < sp.n; i++)
		ep_cset_free(&sp.sets[i]);
	free(sp.sets);
	free(keys);
	ep_hist_free(h);
	ep_cset_free(&a.set);
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
	struct out o;

	if (ep_api_get_range(c, q, "1m", &r, resp) < 0)
		return;
	a.only_asn = r.asn = asn;
	r.sum = 1;
	step = ep_api_visit(c, &r, r.start, r.end, 0, 0, agg_bucket, &a);
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    ep_api_out_open(&o) < 0 || a.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	e = ep_cset_find(&a.set, asn);
	if (!e) {
		char what[48];

		/* not zeros, which would read as a perfect ISP */
		snprintf(what, sizeof(what), "AS%" PRIu32, asn);
		fclose(o.fp);
		free(o.buf);
		ep_api_error(resp, 404, "asn", "no data for %s in this range", what);
		goto done;
	}
	fputc('{', o.fp);
	ep_api_write_range(o.fp, &r, step);
	fputs(",\"asn\":", o.fp);
	ep_api_write_asn(o.fp, c, e, h, &codec);
	fputs("}\n", o.fp);
	ep_api_out_finish(&o, resp, 200, "application/json");
done:
	ep_hist_codec_fini(&codec);
	ep_hist_free(h);
	ep_cset_free(&a.set);
}

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

static void api_regressions(struct ep_collector *c, const struct ep_api_req *q,
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
	struct out o;
	char *end;

	if (ep_api_get_range(c, q, "5m", &r, resp) < 0 || parse_limit(q, &limit, resp) < 0)
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
	r.sum = 1;
	ep_api_visit(c, &r, r.start, r.end, 0, c->cfg.query_budget, agg_bucket, &now);
	ep_api_visit(c, &r, r.start > baseline ? r.start - baseline : 0, r.start, 0,
		     c->cfg.query_budget, agg_bucket, &base);
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    !(regs = calloc(now.set.n + 1, sizeof(*regs))) || ep_api_out_open(&o) < 0 || now.nomem ||
	    base.nomem) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	for (i = 0; i < now.set.n; i++) {
		const struct ep_centry *e = &now.set.e[i], *b = ep_cset_find(&base.set, e->asn);
		struct regression *g = &regs[n];
		double pr, rr;

		if (!b || e->h[mk].total < min_samples || b->h[mk].total < min_samples)
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
	fputc('{', o.fp);
	ep_api_write_range(o.fp, &r, 0);
	fprintf(o.fp, ",\"baseline_ns\":%" PRIu64 ",\"metric\":\"%s\",\"min_samples\":%" PRIu64
		      ",\"regressions\":[",
		baseline, ep_asn_hist_names[mk], min_samples);
	for (i = 0; i < n && i < limit; i++) {
		const struct regression *g = &regs[i];

		fprintf(o.fp, "%s{\"asn\":%" PRIu32 ",\"org\":", i ? "," : "", g->now->asn);
		ep_json_write_string(o.fp, ep_collector_org(c, g->now->asn));
		fprintf(o.fp,
			",\"score\":%.4g,\"p90_us\":%.0f,\"baseline_p90_us\":%.0f,\"p90_ratio\":%.4g"
			",\"retx_rate\":%.6g,\"baseline_retx_rate\":%.6g,\"samples\":%" PRIu64
			",\"baseline_samples\":%" PRIu64 "}",
			g->score, g->p_now, g->p_base, g->p_base > 0 ? g->p_now / g->p_base : 1.0,
			g->r_now, g->r_base, g->now->h[mk].total, g->base->h[mk].total);
	}
	fputs("]}\n", o.fp);
	ep_api_out_finish(&o, resp, 200, "application/json");
done:
	free(regs);
	ep_hist_free(h);
	ep_cset_free(&now.set);
	ep_cset_free(&base.set);
}

static void write_counters(FILE *fp, const struct ep_collector *c)
{
	uint32_t i;

	fputs("\"collector\":{", fp);
	for (i = 0; i < EP_CC__COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i ? "," : "", ep_cc_names[i], c->ctr[i]);
	fputs(",\"rejected\":{", fp);
	for (i = 1; i < EP_WIRE_E__COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i > 1 ? "," : "", ep_wire_err_names[i],
			c->rejected[i]);
	fprintf(fp,
		"},\"store\":{\"records\":%" PRIu64 ",\"too_old\":%" PRIu64 ",\"asn_cap\":%" PRIu64
		",\"late\":%" PRIu64 ",\"forced_close\":%" PRIu64 ",\"nomem\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"newest_end_ns\":%" PRIu64 ",\"oldest_ns\":%" PRIu64
		",\"shed\":%" PRIu64 "},\"memory\":{\"used\":%" PRIu64 ",\"cap\":%" PRIu64 "}}",
		c->all.ctr.records, c->all.ctr.too_old, c->all.ctr.asn_cap, c->all.ctr.late,
		c->all.ctr.forced_close, c->all.ctr.nomem, c->all.bytes, c->all.newest_end,
		ep_view_oldest(&c->all), c->all.ctr.shed, ep_collector_mem(c), c->cfg.memcap);
}

static void api_probes(struct ep_collector *c, const struct ep_api_req *q,
		       struct ep_api_resp *resp, uint64_t now)
{
	struct out o;
	uint32_t i, k, limit, cursor;

	if (parse_limit(q, &limit, resp) < 0 || parse_cursor(q, &cursor, resp) < 0)
		return;
	if (limit == UINT32_MAX)
		limit = EP_API_DEFAULT_LIMIT;
	if (ep_api_out_open(&o) < 0) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		return;
	}
	fputs("{\"probes\":[", o.fp);
	for (i = cursor; i < c->nprobes && i - cursor < limit; i++) {
		const struct ep_cprobe *p = &c->probes[i];
		char age[32] = "null"; /* not heard since this collector started (restored) */

		if (p->last_seen)
			snprintf(age, sizeof(age), "%.3f",
				 now > p->last_seen ? (double)(now - p->last_seen) / 1e9 : 0.0);
		fprintf(o.fp, "%s{\"id\":", i > cursor ? "," : "");
		ep_json_write_string(o.fp, p->id);
		fprintf(o.fp,
			",\"epoch\":%" PRIu64 ",\"first_seen_ns\":%" PRIu64 ",\"last_seen_ns\":%" PRIu64
			",\"age_s\":%s,\"newest_end_ns\":%" PRIu64 ",\"msgs\":%" PRIu64
			",\"bytes\":%" PRIu64 ",\"windows\":%" PRIu64 ",\"summaries\":%" PRIu64
			",\"seq_max\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64
			",\"reordered\":%" PRIu64 ",\"too_old\":%" PRIu64 ",\"stale_epoch\":%" PRIu64
			",\"restarts\":%" PRIu64 ",\"windows_dropped\":%" PRIu64 ",\"view\":%s",
			p->seq.epoch, p->first_seen, p->last_seen, age, p->newest_end,
			p->msgs, p->bytes, p->windows, p->summaries, p->seq.max_seq, p->seq.lost,
			p->seq.dups, p->seq.reordered, p->seq.too_old, p->seq.stale, p->seq.restarts,
			p->dropped_prev_epochs + p->stats[EP_ST_windows_dropped],
			p->view ? "true" : "false");
		fputs(",\"stats\":{", o.fp);
		for (k = 0; k < EP_ST__COUNT; k++)
			fprintf(o.fp, "%s\"%s\":%" PRIu64, k ? "," : "", ep_stat_names[k], p->stats[k]);
		fputs("}}", o.fp);
	}
	fputs("]", o.fp);
	write_page(o.fp, c->nprobes, cursor, limit);
	fputc(',', o.fp);
	write_counters(o.fp, c);
	fputs("}\n", o.fp);
	ep_api_out_finish(&o, resp, 200, "application/json");
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
		api_asns(c, q, resp);
	} else if (!strcmp(p, "/api/v1/probes")) {
		api_probes(c, q, resp, now);
	} else if (!strcmp(p, "/api/v1/regressions")) {
		api_regressions(c, q, resp);
	} else if (!strcmp(p, "/api/v1/alerts")) {
		ep_api_alerts(c, q, resp);
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
		else
			ep_api_error(resp, 404, NULL, "no such resource '%s'", p);
	} else {
		ep_api_error(resp, 404, NULL, "no such resource '%s'", p);
	}
	return 1;
}
