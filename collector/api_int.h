/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_int.h - what the API's files (api.c, api_series.c, api_alerts.c,
 * api_regressions.c, api_probes.c, metrics.c) share:
 * the response buffer, JSON errors, and the range= / end= / probe= arguments.
 * Not for use outside the API.
 */
#ifndef EP_API_INT_H
#define EP_API_INT_H

#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "json_write.h"
#include "region.h"

#define NS_PER_S 1000000000ull
#define MAX_POINTS 20000
#define EP_API_DEFAULT_LIMIT 1000 /* list entries per page when no limit= is given */

/* A response body being written (open_memstream). */
struct out {
	FILE *fp;
	char *buf;
	size_t len;
};

/*
 * Which entries a request reads (country= and region=, the ASN of a path):
 * 0 for any.  Every endpoint honours them.
 */
struct ep_where {
	uint32_t asn;
	uint16_t cc;
	unsigned region;                  /* with regions */
	const struct ep_regions *regions;
};

static inline int ep_where_ok(const struct ep_where *w, const struct ep_centry *e)
{
	return (!w->asn || e->asn == w->asn) && (!w->cc || e->cc == w->cc) &&
	       (!w->region || ep_region_of(w->regions, e->cc) == w->region);
}

/*
 * What a list merges entries into.  A result entry holds its group's key:
 * ASN (asn, 0), pair (asn, cc), country (0, cc), region (region id, 0).
 */
enum ep_group { EP_GROUP_ASN, EP_GROUP_PAIR, EP_GROUP_COUNTRY, EP_GROUP_REGION };

/* The time range and view a request asks for. */
struct range {
	uint64_t start, end, len;
	const struct ep_view *view;
	const char *probe;
	const char *remote; /* a probe of another collector: answered from the shared store */
	uint32_t asn; /* the visitor reads only this ASN (0: every ASN) */
	int sum;      /* the visitor only adds up: the history may sum over time */
	struct ep_where where; /* country= and region= (the caller sets where.asn) */
};

/* What a visitor adds up over a range: the merged entries per group. */
struct agg {
	struct ep_cset set;
	uint64_t bytes, saturated, windows;
	struct ep_where where;
	enum ep_group group;
	int nomem;
};

/* The group entry e is merged into. */
void ep_api_group_key(enum ep_group g, const struct ep_where *w, const struct ep_centry *e,
		      uint32_t *asn, uint16_t *cc);
/*
 * api_json.c: the API's JSON values.  One result entry of a group (with each
 * histogram's base64 HDR when hdr is given); NULL on allocation failure.
 */
json_t *ep_api_entry_json(const struct ep_collector *c, enum ep_group g, const struct ep_centry *e,
			  struct ep_hist *scratch, struct ep_hist_codec *hdr);
/* The range's members (start_ns, end_ns, range_ns, resolution_ns, probe) into o. */
void ep_api_range_json(json_t *o, const struct range *r, uint64_t step);
/* A paged list's "total" and "next_cursor" into o. */
void ep_api_page_json(json_t *o, uint32_t total, uint32_t cursor, uint32_t limit);
/* Answer doc (its reference taken; NULL: out of memory, a 500). */
void ep_api_send(struct ep_api_resp *r, int status, json_t *doc);
/* Answer with the text w wrote (a 500 when a piece of it failed); w is reset. */
void ep_api_send_jw(struct ep_api_resp *r, int status, struct ep_jw *w);
/* Write v into a body being written (its reference taken). @return 0, -ENOMEM */
int ep_api_dump(FILE *fp, json_t *v);

/* Visitor: add a bucket's entries into the struct agg at ctx. */
void ep_api_agg_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx);
/* limit= (UINT32_MAX when absent). @return 0, or -1 with an error response */
int ep_api_parse_limit(const struct ep_api_req *q, uint32_t *limit, struct ep_api_resp *resp);

/* cursor= (default 0). @return 0, or -1 with an error response */
int ep_api_parse_cursor(const struct ep_api_req *q, uint32_t *cursor, struct ep_api_resp *resp);

/* @return 0, -ENOMEM */
int ep_api_out_open(struct out *o);
/* Close the body into r with its status and content type. */
void ep_api_out_finish(struct out *o, struct ep_api_resp *r, int status, const char *ctype);
/* A JSON error response: {"error":fmt % detail,"param":param,"status":status}. */
void ep_api_error(struct ep_api_resp *r, int status, const char *param, const char *fmt,
		  const char *detail);
/* Retransmitted share of the segments sent towards the ASN. */
double ep_api_retx_rate(const struct ep_centry *e);
/* country= and region= into w (regions of c). @return 0, or -1 with an error response */
int ep_api_get_where(const struct ep_collector *c, const struct ep_api_req *q,
		     struct ep_where *w, struct ep_api_resp *resp);
/* Resolve range=, end= and probe= (and country=, region=) into r. @return 0, or -1 with an error response. */
int ep_api_get_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
		     struct range *r, struct ep_api_resp *resp);
/*
 * ep_view_visit_budget() over the request's view, with what lies before the
 * coarsest tier's oldest bucket read from the history (when the collector
 * keeps one) at that tier's step.  Called with c->lock held; it is released
 * while the history is read, and r->view looked up again afterwards.  Older data than the history holds is
 * simply absent.  @return the step of the data visited, 0 when none
 */
uint64_t ep_api_visit(struct ep_collector *c, struct range *r, uint64_t start, uint64_t end,
		      uint64_t min_step, uint64_t budget, ep_view_visit_cb cb, void *ctx);
/* metric= as a histogram index (rtt_data by default), or -1. */
int ep_api_metric_index(const char *m);
/* Quantile q (0..1; 1: the maximum) of a sparse histogram, through the dense scratch h. */
double ep_api_quantile_of(struct ep_hist *h, const struct ep_shist *s, double q);

/* api_qoe.c: the players' QoE over r's range into out (grouped as out says).
 * @return the step of the data read, 0: none */
uint64_t ep_api_qoe_collect(struct ep_collector *c, const struct range *r, struct agg *out);
/* api_qoe.c: the end of the newest QoE data (wall ns), 0: none. */
uint64_t ep_api_qoe_newest(struct ep_collector *c);
/* api_qoe.c: the "qoe" object of one group's entry (NULL: null). */
json_t *ep_api_qoe_json(const struct ep_centry *e, struct ep_hist *scratch);
struct ep_qoe;
/* api_visit.c: ep_api_visit() for a view of the collector's own (lock guards it; name: its
 * rows in the history).  Called with c->lock held (released during history reads). */
uint64_t ep_api_visit_named(struct ep_collector *c, struct ep_view *v, pthread_mutex_t *lock,
			    const char *name, uint64_t start, uint64_t end, uint64_t min_step,
			    uint64_t budget, ep_view_visit_cb cb, void *ctx);
/* api_qoe.c: the QoE view over [start, end): memory, and the history before it. */
uint64_t ep_api_qoe_visit(struct ep_collector *c, uint64_t start, uint64_t end, uint64_t min_step,
			  ep_view_visit_cb cb, void *ctx);
/* api_join.c: QoE against the network: rank correlation, and one ISP's verdict. */
void ep_api_correlation(struct ep_collector *c, const struct ep_api_req *q,
			struct ep_api_resp *resp);
void ep_api_explain(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
		    struct ep_api_resp *resp);
/* api_qoe.c: the QoE counters for /metrics. */
void ep_api_qoe_metrics(FILE *fp, struct ep_qoe *q);

/* The resources of api_series.c and metrics.c. */
void ep_api_series(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
		   struct ep_api_resp *resp);
void ep_api_heatmap(struct ep_collector *c, const struct ep_api_req *q, uint32_t asn,
		    struct ep_api_resp *resp);
void ep_api_metrics(struct ep_collector *c, struct ep_api_resp *resp, uint64_t now);
void ep_api_alerts(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp);
void ep_api_regressions(struct ep_collector *c, const struct ep_api_req *q,
			struct ep_api_resp *resp);
void ep_api_report(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp);
void ep_api_probes(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp,
		   uint64_t now);

#endif
