/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h - the collector's HTTP server (libmicrohttpd, one thread per
 * connection, bounded): the JSON API, /metrics, the server-sent events
 * stream of closed windows, and the dashboard's static files.
 */
#ifndef EP_HTTP_H
#define EP_HTTP_H

#include <stddef.h>

#include "collector.h"
#include "http_qoe.h"

struct ep_http;

#define EP_HTTP_MAX_HOSTS 16

struct ep_http_cfg {
	const char *addr;       /* "HOST:PORT" (IPv4/IPv6 literal or name) */
	const char *web_dir;    /* dashboard files, NULL: none */
	unsigned max_conns;
	unsigned timeout_s;     /* idle connection timeout (a slow header counts as idle) */
	unsigned per_addr;      /* connections from one address (0: max_conns / 8, at least 2) */
	unsigned sse_max;       /* stream subscribers in all (0: max_conns / 4) */
	unsigned sse_per_addr;  /* stream subscribers from one address (0: 2) */
	const char *hosts[EP_HTTP_MAX_HOSTS + 1]; /* Host names accepted besides IP literals
						      and localhost; NULL-terminated */
	const char *token;      /* bearer token for /api/ and /metrics, NULL: none */
	const char *tls_cert;   /* PEM certificate chain and key (in memory), NULL: plain HTTP */
	const char *tls_key;
	struct ep_qoe *qoe;     /* players' CMCD reports on /api/v1/qoe, NULL: none */
	const struct ep_http_qoe_cfg *qoe_cfg;
	int qoe_only;           /* a players' listener: only /api/v1/qoe, no Host check */
};

/* @return 0, -EINVAL (address: err says why), -EADDRINUSE or another errno */
int ep_http_start(struct ep_collector *c, const struct ep_http_cfg *cfg, struct ep_http **out,
		  char *err, size_t errlen);
void ep_http_stop(struct ep_http *h);

/* Whether a stream subscriber takes windows now (the window's JSON is built only then). */
int ep_http_wants_windows(struct ep_http *h);
/* Publish a closed window to the stream's subscribers (any thread). */
void ep_http_publish(struct ep_http *h, const char *json, size_t len);
/* Publish one event of another type ("alert"): one line of JSON. */
void ep_http_publish_event(struct ep_http *h, const char *event, const char *json, size_t len);

/* The bound port (useful with port 0). */
unsigned ep_http_port(const struct ep_http *h);

#endif
