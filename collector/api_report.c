/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_report.c - /api/v1/report: a period's compliance report per (country,
 * ASN) of a region or country, as JSON, CSV or printable HTML, each ending
 * with the SHA-256 of every byte before its trailer.
 */
#define _GNU_SOURCE /* timegm */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_int.h"
#include "country.h"
#include "hmac.h"
#include "stats.h"

#define MAX_HOURS (31 * 24)
#define HOUR_NS (3600 * NS_PER_S)

static const char methodology[] =
	"Passive measurement of TCP connections seen by the probes; no packet content and no "
	"IP address leaves a probe, only per (ASN, country) counters and HDR histograms. "
	"Addresses map to an ASN and a country with the ASN and country datasets the report names "
	"(the country of an address's range, not of a user). RTT: in-flow round-trip time "
	"from the probe to the remote side and back (TCP timestamp echo, or the first "
	"cumulative ACK of a segment when timestamps are off; retransmitted ranges excluded), "
	"in milliseconds; percentiles are those of the merged histograms (2 significant "
	"digits: within 1 %). Samples: in-flow RTT samples. Flows: TCP connections opened. "
	"Retransmission rate: segments retransmitted towards the remote side over all "
	"segments sent towards it. Hours with data: UTC hours of the period in which the "
	"(country, ASN) pair had any record. Regions group countries as the collector's "
	"region file says (UN M49 sub-regions by default).";

/* The report being gathered: the (ASN, country) pairs and the hours each had data. */
struct report {
	struct agg a;
	uint8_t (*hours)[MAX_HOURS / 8];
	uint32_t hours_cap;
	uint64_t start;
	int nomem;
};

static void report_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct report *r = ctx;
	uint64_t hour = b->start >= r->start ? (b->start - r->start) / HOUR_NS : 0;
	uint32_t i;

	(void)step_ns;
	r->a.windows += b->windows;
	for (i = 0; i < b->set.n; i++) {
		const struct ep_centry *src = &b->set.e[i];
		struct ep_centry *dst;
		uint32_t idx;

		if (!ep_where_ok(&r->a.where, src))
			continue;
		dst = ep_cset_get(&r->a.set, src->asn, src->cc, &r->a.bytes);
		if (!dst || ep_centry_add(dst, src, &r->a.bytes, &r->a.saturated) < 0) {
			r->nomem = 1;
			continue;
		}
		idx = (uint32_t)(dst - r->a.set.e);
		if (idx >= r->hours_cap) {
			uint32_t cap = r->a.set.cap > idx ? r->a.set.cap : idx + 1;
			void *p = realloc(r->hours, (size_t)cap * sizeof(*r->hours));

			if (!p) {
				r->nomem = 1;
				continue;
			}
			r->hours = p;
			memset(r->hours + r->hours_cap, 0,
			       (size_t)(cap - r->hours_cap) * sizeof(*r->hours));
			r->hours_cap = cap;
		}
		if (hour < MAX_HOURS)
			r->hours[idx][hour / 8] |= (uint8_t)(1u << (hour % 8));
	}
}

/* "2026-11" (a month) or "2026-11-30" (a day), UTC, into [start, end). @return 0 or -1 */
static int parse_period(const char *s, uint64_t *start, uint64_t *end)
{
	struct tm tm = {0};
	unsigned y, m, d = 0;
	char tail;
	time_t t0, t1;

	if (!s)
		return -1;
	if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && strlen(s) == 10) {
		if (d < 1 || d > 31)
			return -1;
	} else if (!(sscanf(s, "%4u-%2u%c", &y, &m, &tail) == 2 && strlen(s) == 7)) {
		return -1;
	}
	if (y < 1970 || y > 2500 || m < 1 || m > 12)
		return -1;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = d ? (int)d : 1;
	t0 = timegm(&tm);
	if (tm.tm_mon != (int)m - 1) /* 2026-02-30 */
		return -1;
	if (d)
		tm.tm_mday++;
	else
		tm.tm_mon++;
	t1 = timegm(&tm);
	if (t0 < 0 || t1 <= t0)
		return -1;
	*start = (uint64_t)t0 * NS_PER_S;
	*end = (uint64_t)t1 * NS_PER_S;
	return 0;
}

/* One row (or the totals) with what a report states. */
struct row {
	const struct ep_centry *e;
	char cc[3];
	uint32_t hours;
	double p[4], retx;
};

static int cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = strcmp(a->cc[0] ? a->cc : "~", b->cc[0] ? b->cc : "~"); /* unknown last */

	if (c)
		return c;
	return a->e->asn < b->e->asn ? -1 : a->e->asn > b->e->asn;
}

static void fill_row(struct row *w, const struct ep_centry *e, uint32_t hours, struct ep_hist *h)
{
	static const double q[4] = {0.5, 0.9, 0.95, 0.99};
	int k;

	w->e = e;
	ep_cc_str(e->cc, w->cc);
	w->hours = hours;
	for (k = 0; k < 4; k++)
		w->p[k] = e->h[EP_AH_RTT_DATA].total
				  ? ep_api_quantile_of(h, &e->h[EP_AH_RTT_DATA], q[k]) / 1000.0
				  : -1;
	w->retx = ep_api_retx_rate(e);
}

static uint32_t popcount_hours(const uint8_t *b)
{
	uint32_t n = 0, i;

	for (i = 0; i < MAX_HOURS / 8; i++)
		n += (uint32_t)__builtin_popcount(b[i]);
	return n;
}

/* The report's scope as text: "region Western Europe", "country DE", "all countries". */
static void scope_text(const struct ep_collector *c, const struct ep_where *w, char *out,
		       size_t n)
{
	char cc[3];

	if (w->region)
		snprintf(out, n, "region %s", ep_region_name(&c->regions, w->region));
	else if (w->cc)
		snprintf(out, n, "country %s", ep_cc_str(w->cc, cc));
	else
		snprintf(out, n, "all countries");
}

/* Call fn with each distinct data version the probes last reported. */
static uint32_t each_dataset(const struct ep_collector *c,
			     void (*fn)(const char *d, uint32_t n, void *ctx), void *ctx)
{
	uint32_t i, j, n = 0;

	for (i = 0; i < c->nprobes; i++) {
		const char *d = c->probes[i].dataset;

		if (!d[0])
			continue;
		for (j = 0; j < i && strcmp(c->probes[j].dataset, d); j++)
			;
		if (j == i)
			fn(d, n++, ctx);
	}
	return n;
}

static void dataset_text(const char *d, uint32_t n, void *fp)
{
	fprintf(fp, "%s%s", n ? "; " : "", d);
}

static void dataset_json(const char *d, uint32_t n, void *arr)
{
	(void)n;
	json_array_append_new(arr, ep_jv_str(d));
}

/* The data versions as "; " text. */
static void write_datasets(FILE *fp, const struct ep_collector *c)
{
	if (!each_dataset(c, dataset_text, fp))
		fputs("none reported", fp);
}

static void csv_num(FILE *fp, double v)
{
	if (v >= 0)
		fprintf(fp, "%.3f", v);
}

/* A CSV field: quoted, inner quotes doubled; a leading =+-@ is prefixed (no spreadsheet formula). */
static void csv_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	if (strchr("=+-@", s[0]) && s[0])
		fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void html_str(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

static void html_num(FILE *fp, double v, const char *fmt)
{
	if (v < 0)
		fputs("–", fp);
	else
		fprintf(fp, fmt, v);
}

enum fmt { F_JSON, F_CSV, F_HTML };

/* The report as a JSON object (the caller writes it under "report", then the trailer). */
static json_t *report_json(const struct ep_collector *c, const char *period, const char *scope,
			   const struct range *r, const struct row *rows, uint32_t n,
			   const struct row *tot, uint64_t step)
{
	static const char *const name[4] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms"};
	json_t *o = json_object(), *ds = json_array(), *list = json_array(), *w, *totals = NULL;
	uint32_t i;
	int k, bad = !o || !ds || !list;

	for (i = 0; !bad && i <= n; i++) {
		const struct row *x = i < n ? &rows[i] : tot;

		w = json_object();
		if (!w) {
			bad = 1;
			break;
		}
		if (i < n) {
			json_object_set_new(w, "country", ep_jv_str_or_null(x->cc));
			json_object_set_new(w, "country_name", ep_jv_str(ep_cc_name(x->e->cc)));
			json_object_set_new(w, "region",
					    ep_jv_str(ep_region_name(
						&c->regions, ep_region_of(&c->regions, x->e->cc))));
			json_object_set_new(w, "asn", json_integer(x->e->asn));
			json_object_set_new(w, "org", ep_jv_str(ep_collector_org(c, x->e->asn)));
		}
		json_object_set_new(w, "flows", ep_jv_u64(x->e->c[EP_AC_flows_new]));
		json_object_set_new(w, "samples", json_integer(x->e->h[EP_AH_RTT_DATA].total));
		for (k = 0; k < 4; k++) /* no sample: null */
			json_object_set_new(w, name[k],
					    x->p[k] < 0 ? json_null() : ep_jv_fixed(x->p[k], 3));
		json_object_set_new(w, "retx_rate", ep_jv_fixed(x->retx, 6));
		json_object_set_new(w, "hours_with_data", json_integer(x->hours));
		if (i < n)
			bad = json_array_append_new(list, w) < 0;
		else
			totals = w;
	}
	if (bad) {
		json_decref(totals);
		json_decref(o);
		json_decref(ds);
		json_decref(list);
		return NULL;
	}
	each_dataset(c, dataset_json, ds);
	json_object_set_new(o, "title", json_string("edgeprobe TCP latency report"));
	json_object_set_new(o, "period", ep_jv_str(period));
	json_object_set_new(o, "start_ns", ep_jv_u64(r->start));
	json_object_set_new(o, "end_ns", ep_jv_u64(r->end));
	json_object_set_new(o, "scope", ep_jv_str(scope));
	json_object_set_new(o, "probe", ep_jv_str_or_null(r->probe));
	json_object_set_new(o, "resolution_ns", ep_jv_u64(step));
	json_object_set_new(o, "edgeprobe_version", json_string(EP_VERSION));
	json_object_set_new(o, "datasets", ds);
	json_object_set_new(o, "methodology", json_string(methodology));
	json_object_set_new(o, "rows", list);
	json_object_set_new(o, "totals", totals);
	return o;
}

static void write_csv(FILE *fp, const struct ep_collector *c, const char *period,
		      const char *scope, const struct row *rows, uint32_t n, const struct row *tot)
{
	uint32_t i;
	int k;

	fprintf(fp, "# edgeprobe TCP latency report, period %s, %s, edgeprobe %s\n", period, scope,
		EP_VERSION);
	fputs("# datasets: ", fp);
	write_datasets(fp, c);
	fprintf(fp, "\n# methodology: %s\n", methodology);
	fputs("country,country_name,region,asn,org,flows,samples,p50_ms,p90_ms,p95_ms,p99_ms,"
	      "retx_rate,hours_with_data\n",
	      fp);
	for (i = 0; i <= n; i++) {
		const struct row *w = i < n ? &rows[i] : tot;

		if (i < n) {
			fprintf(fp, "%s,", w->cc);
			csv_str(fp, ep_cc_name(w->e->cc));
			fputc(',', fp);
			csv_str(fp, ep_region_name(&c->regions, ep_region_of(&c->regions, w->e->cc)));
			fprintf(fp, ",%" PRIu32 ",", w->e->asn);
			csv_str(fp, ep_collector_org(c, w->e->asn));
		} else {
			fputs("TOTAL,,,,", fp);
		}
		fprintf(fp, ",%" PRIu64 ",%" PRId64, w->e->c[EP_AC_flows_new],
			(int64_t)w->e->h[EP_AH_RTT_DATA].total);
		for (k = 0; k < 4; k++) {
			fputc(',', fp);
			csv_num(fp, w->p[k]);
		}
		fprintf(fp, ",%.6f,%" PRIu32 "\n", w->retx, w->hours);
	}
}

static void write_html(FILE *fp, const struct ep_collector *c, const char *period,
		       const char *scope, const struct row *rows, uint32_t n, const struct row *tot)
{
	uint32_t i;
	int k;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
	      "edgeprobe report ",
	      fp);
	html_str(fp, period);
	fputs("</title>\n<style>\n"
	      "@page { size: A4 landscape; margin: 14mm; }\n"
	      "body { font: 10pt/1.35 sans-serif; color: #000; background: #fff; margin: 0; }\n"
	      "h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11pt; margin: 12pt 0 4pt; }\n"
	      "table { border-collapse: collapse; width: 100%; }\n"
	      "thead { display: table-header-group; } tr { break-inside: avoid; }\n"
	      "th, td { border: 0.5pt solid #888; padding: 2pt 4pt; text-align: left; }\n"
	      "td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
	      "tfoot td { font-weight: bold; }\n"
	      "footer { margin-top: 10pt; font-size: 8pt; word-break: break-all; }\n"
	      "</style></head><body>\n<h1>edgeprobe TCP latency report</h1>\n<p>Period <b>",
	      fp);
	html_str(fp, period);
	fputs("</b> (UTC), ", fp);
	html_str(fp, scope);
	fprintf(fp, ". edgeprobe %s. Datasets: ", EP_VERSION);
	{
		char *d = NULL;
		size_t dl = 0;
		FILE *m = open_memstream(&d, &dl);

		if (m) {
			write_datasets(m, c);
			fclose(m);
			html_str(fp, d ? d : "");
			free(d);
		}
	}
	fputs(".</p>\n<h2>Methodology</h2>\n<p>", fp);
	html_str(fp, methodology);
	fputs("</p>\n<h2>Per country and ASN</h2>\n<table>\n<thead><tr><th>Country</th><th>Region"
	      "</th><th>ASN</th><th>Organisation</th><th class=\"n\">Flows</th><th class=\"n\">"
	      "Samples</th><th class=\"n\">p50 ms</th><th class=\"n\">p90 ms</th><th class=\"n\">"
	      "p95 ms</th><th class=\"n\">p99 ms</th><th class=\"n\">Retx %</th><th class=\"n\">"
	      "Hours</th></tr></thead>\n<tbody>\n",
	      fp);
	for (i = 0; i <= n; i++) {
		const struct row *w = i < n ? &rows[i] : tot;

		if (i < n) {
			fputs("<tr><td>", fp);
			html_str(fp, w->cc[0] ? w->cc : "unknown");
			if (w->cc[0]) {
				fputs(" ", fp);
				html_str(fp, ep_cc_name(w->e->cc));
			}
			fputs("</td><td>", fp);
			html_str(fp, ep_region_name(&c->regions, ep_region_of(&c->regions, w->e->cc)));
			fprintf(fp, "</td><td>AS%" PRIu32 "</td><td>", w->e->asn);
			html_str(fp, ep_collector_org(c, w->e->asn));
			fputs("</td>", fp);
		} else {
			fputs("</tbody>\n<tfoot><tr><td colspan=\"4\">Total</td>", fp);
		}
		fprintf(fp, "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRId64 "</td>",
			w->e->c[EP_AC_flows_new], (int64_t)w->e->h[EP_AH_RTT_DATA].total);
		for (k = 0; k < 4; k++) {
			fputs("<td class=\"n\">", fp);
			html_num(fp, w->p[k], "%.1f");
			fputs("</td>", fp);
		}
		fprintf(fp, "<td class=\"n\">%.3f</td><td class=\"n\">%" PRIu32 "</td></tr>\n",
			100.0 * w->retx, w->hours);
	}
	fputs("</tfoot></table>\n", fp);
}

void ep_api_report(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp)
{
	const char *period = q->arg(q->ctx, "period"), *fs = q->arg(q->ctx, "format");
	struct report rep = {0};
	struct ep_centry total = {0};
	struct row *rows = NULL, tot;
	uint8_t any[MAX_HOURS / 8] = {0};
	struct ep_hist *h = NULL;
	struct range r;
	enum fmt f = F_JSON;
	char scope[96], hex[2 * EP_HMAC_SHA256_BYTES + 1];
	uint64_t step, bytes = 0, sat = 0;
	uint32_t i, j;
	struct out o;

	if (fs && !strcmp(fs, "csv"))
		f = F_CSV;
	else if (fs && !strcmp(fs, "html"))
		f = F_HTML;
	else if (fs && strcmp(fs, "json")) {
		ep_api_error(resp, 400, "format", "bad format '%s' (json, csv, html)", fs);
		return;
	}
	if (ep_api_get_range(c, q, "1d", &r, resp) < 0)
		return;
	if (parse_period(period, &r.start, &r.end) < 0) {
		ep_api_error(resp, 400, "period", "bad period '%s' (a UTC month 2026-11 or day "
						  "2026-11-30)", period);
		return;
	}
	r.len = r.end - r.start;
	rep.a.where = r.where;
	rep.start = r.start;
	/* Buckets of an hour or finer, so that each falls in one hour. */
	step = ep_api_visit(c, &r, r.start, r.end, HOUR_NS, 0, report_bucket, &rep);
	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0 ||
	    !(rows = calloc(rep.a.set.n + 1, sizeof(*rows))) || rep.nomem || rep.a.nomem ||
	    ep_api_out_open(&o) < 0) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		goto done;
	}
	for (i = 0; i < rep.a.set.n; i++) {
		const uint8_t *hb = i < rep.hours_cap ? rep.hours[i] : any;

		fill_row(&rows[i], &rep.a.set.e[i], popcount_hours(hb), h);
		for (j = 0; j < MAX_HOURS / 8; j++)
			any[j] |= hb[j];
		if (ep_centry_add(&total, &rep.a.set.e[i], &bytes, &sat) < 0)
			rep.nomem = 1;
	}
	fill_row(&tot, &total, popcount_hours(any), h);
	qsort(rows, rep.a.set.n, sizeof(*rows), cmp_row);
	scope_text(c, &r.where, scope, sizeof(scope));
	if (f == F_JSON) {
		/* {"report":{...},"sha256":"..."}: the hash is over every byte before it */
		fputs("{\"report\":", o.fp);
		if (ep_api_dump(o.fp, report_json(c, period, scope, &r, rows, rep.a.set.n, &tot,
						  step)) < 0) {
			fclose(o.fp);
			free(o.buf);
			ep_api_error(resp, 500, NULL, "out of memory%s", "");
			goto done;
		}
	} else if (f == F_CSV)
		write_csv(o.fp, c, period, scope, rows, rep.a.set.n, &tot);
	else
		write_html(o.fp, c, period, scope, rows, rep.a.set.n, &tot);
	/* The trailer: the SHA-256 of every byte before it. */
	fflush(o.fp);
	if (ep_sha256_hex(o.buf, o.len, hex) < 0)
		snprintf(hex, sizeof(hex), "unavailable");
	if (f == F_JSON)
		fprintf(o.fp, ",\"sha256\":\"%s\"}\n", hex);
	else if (f == F_CSV)
		fprintf(o.fp, "# sha256 %s\n", hex);
	else
		fprintf(o.fp, "<footer>SHA-256 of this document up to this footer: <code>%s</code>"
			      "</footer>\n</body></html>\n", hex);
	ep_api_out_finish(&o, resp, 200, f == F_JSON ? "application/json" :
					 f == F_CSV ? "text/csv; charset=utf-8" :
						      "text/html; charset=utf-8");
done:
	for (i = 0; i < EP_AH__COUNT; i++)
		ep_shist_free(&total.h[i]);
	free(rows);
	free(rep.hours);
	ep_hist_free(h);
	ep_cset_free(&rep.a.set);
}
