/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api.h - the collector's HTTP API as plain functions: a path and its query
 * arguments in, a status and a JSON (or Prometheus text) body out.  The HTTP
 * server (http.c) only moves bytes; tests can call this directly.
 */
#ifndef EP_API_H
#define EP_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector.h"
#include "json_val.h"

struct ep_api_req {
	const char *path;
	const char *(*arg)(void *ctx, const char *name); /* NULL when absent */
	void *ctx;
};

struct ep_api_resp {
	int status;
	char *body;          /* malloc'd */
	size_t len;
	const char *ctype;
};

/* @return 1 when the path is the API's (resp filled), 0 when not (e.g. a static file). */
int ep_api_handle(struct ep_collector *c, const struct ep_api_req *req, struct ep_api_resp *resp);

/* "250ms", "10s", "5m", "1h", "2d" (or a number of seconds). @return 0 or -EINVAL. */
int ep_parse_duration(const char *s, uint64_t *ns);

/*
 * The JSON object of one stored (ASN, country) entry: "asn", "country" (null
 * when unknown), "org", the probe's field names, plus retx_rate; with a codec,
 * each histogram's "hdr" encoded with it.  scratch: a dense histogram of the
 * collector's configuration, left reset.  @return a new reference, NULL: no memory
 */
json_t *ep_api_asn_json(const struct ep_collector *c, const struct ep_centry *e,
			struct ep_hist *scratch, struct ep_hist_codec *hdr);

/* The JSON of a closed window (SSE, Kafka): {"start_ns":..,"end_ns":..,"asns":[..]}. */
char *ep_api_window_json(const struct ep_collector *c, const struct ep_bucket *b, uint64_t step_ns,
			 size_t *len);

#endif
