/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_common.c - what every API endpoint uses: responses and errors, one
 * entry's JSON, groups and country=/region= filters, ranges, pages.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"
#include "country.h"
#include "edgeprobe/ep_wire.h"
#include "stats.h"
#include "wallclock.h"

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
	json_t *o = json_object();
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, detail ? detail : "");
	if (o) {
		json_object_set_new(o, "error", ep_jv_str(msg));
		if (param)
			json_object_set_new(o, "param", ep_jv_str(param));
		json_object_set_new(o, "status", json_integer(status));
	}
	ep_api_send(r, status, o);
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

json_t *ep_api_asn_json(const struct ep_collector *c, const struct ep_centry *e,
			struct ep_hist *scratch, struct ep_hist_codec *hdr)
{
	return ep_api_entry_json(c, EP_GROUP_PAIR, e, scratch, hdr);
}

void ep_api_group_key(enum ep_group g, const struct ep_where *w, const struct ep_centry *e,
		      uint32_t *asn, uint16_t *cc)
{
	switch (g) {
	case EP_GROUP_PAIR:
		*asn = e->asn;
		*cc = e->cc;
		break;
	case EP_GROUP_COUNTRY:
		*asn = 0;
		*cc = e->cc;
		break;
	case EP_GROUP_REGION:
		*asn = w->regions ? ep_region_of(w->regions, e->cc) : 0;
		*cc = 0;
		break;
	default:
		*asn = e->asn;
		*cc = 0;
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Aggregation over a range                                                   */
/* ------------------------------------------------------------------------ */

void ep_api_agg_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct agg *a = ctx;
	uint32_t i;

	(void)step_ns;
	a->windows += b->windows;
	for (i = 0; i < b->set.n; i++) {
		const struct ep_centry *src = &b->set.e[i];
		struct ep_centry *dst;
		uint32_t asn;
		uint16_t cc;

		if (!ep_where_ok(&a->where, src))
			continue;
		ep_api_group_key(a->group, &a->where, src, &asn, &cc);
		dst = ep_cset_get(&a->set, asn, cc, &a->bytes);
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

int ep_api_get_where(const struct ep_collector *c, const struct ep_api_req *q,
		     struct ep_where *w, struct ep_api_resp *resp)
{
	const char *cs = q->arg(q->ctx, "country"), *rs = q->arg(q->ctx, "region");

	memset(w, 0, sizeof(*w));
	w->regions = &c->regions;
	if (cs) {
		char up[3] = {0};

		if (strlen(cs) == 2) {
			up[0] = (char)(cs[0] & ~0x20);
			up[1] = (char)(cs[1] & ~0x20);
		}
		if (!(w->cc = ep_cc_parse(up, strlen(up)))) {
			ep_api_error(resp, 400, "country",
				     "bad country '%s' (an ISO 3166-1 alpha-2 code, e.g. DE)", cs);
			return -1;
		}
	}
	if (rs && !(w->region = ep_region_find(&c->regions, rs))) {
		ep_api_error(resp, 400, "region", "unknown region '%s' (see /api/v1/regions)", rs);
		return -1;
	}
	return 0;
}

/* Resolve range=, end= and probe= into r. @return 0, or fills an error response. */
int ep_api_get_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
		     struct range *r, struct ep_api_resp *resp)
{
	const char *range = q->arg(q->ctx, "range"), *probe = q->arg(q->ctx, "probe");
	int bad;

	if (ep_api_get_where(c, q, &r->where, resp) < 0)
		return -1;
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

int ep_api_metric_index(const char *m)
{
	if (!m || !strcmp(m, "rtt_data"))
		return EP_AH_RTT_DATA;
	if (!strcmp(m, "rtt_hs"))
		return EP_AH_RTT_HS;
	return -1;
}

double ep_api_quantile_of(struct ep_hist *h, const struct ep_shist *s, double q)
{
	double v;

	fill(h, s);
	v = h->total ? (double)(q >= 1.0 ? ep_hist_max(h) : ep_hist_percentile(h, q * 100.0)) : 0;
	ep_hist_reset(h);
	return v;
}

int ep_api_parse_limit(const struct ep_api_req *q, uint32_t *limit, struct ep_api_resp *resp)
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
int ep_api_parse_cursor(const struct ep_api_req *q, uint32_t *cursor, struct ep_api_resp *resp)
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
