/* SPDX-License-Identifier: BSD-3-Clause */
/* query.h - edgeprobe-query's parts: the collector's API over libcurl, and its commands. */
#ifndef EP_QUERY_H
#define EP_QUERY_H

#include <stddef.h>

#include <jansson.h>

/* Where and how to ask: the server's base URL, a bearer token, a CA file for HTTPS. */
struct client {
	const char *server;
	const char *cacert;
	char auth[600]; /* "Authorization: Bearer TOKEN", or empty */
};

/* GET path; the body (malloc'ed) and its length. @return the HTTP status, or -1 (said why) */
int ep_query_http_get(const struct client *cl, const char *path, char **body, size_t *blen);
/* The bearer token: the first line of file. @return 0, -1 (said why) */
int ep_query_read_token(struct client *cl, const char *file);
/* GET path as JSON (raw: also print the body). @return the JSON, NULL (said why) */
json_t *ep_query_fetch(const struct client *cl, const char *path, int raw);
/* A number of o (0 when absent), a string of o (dflt when absent). */
double ep_query_num(json_t *o, const char *k);
const char *ep_query_str(json_t *o, const char *k, const char *dflt);
/* Microseconds as milliseconds into buf; "-" for null (no sample). */
void ep_query_ms(char *buf, size_t n, json_t *us);
/* Add k=v (percent-encoded; nothing when v is NULL) to the query of q. @return 0, -1 */
int ep_query_append(char *q, size_t n, const char *k, const char *v);
/* --country and --region, which every command passes on. @return 0, -1 */
int ep_query_append_where(char *q, size_t n, const char *country, const char *region);

/* query_report.c: the compliance report to stdout or a file in outdir. @return exit status */
int ep_query_report(const struct client *cl, const char *period, const char *format,
		    const char *outdir, const char *country, const char *region, const char *probe);

/* query_qoe.c: the verdict on one ISP's rebuffering, and the correlation list. */
int ep_query_explain(const struct client *cl, const char *asn, const char *range,
		     const char *baseline, const char *end, const char *country,
		     const char *region, int raw);
int ep_query_correlation(const struct client *cl, const char *range, const char *step,
			 const char *end, const char *country, const char *region, int raw);

#endif
