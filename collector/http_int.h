/* SPDX-License-Identifier: BSD-3-Clause */
/* http_int.h - the HTTP server's state, shared by http.c and http_stream.c. */
#ifndef EP_HTTP_INT_H
#define EP_HTTP_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http.h"

#define STREAM_RING 64
#define STREAM_KEEPALIVE_S 10
#define EP_HTTP_MAX_ARGS 64    /* query parameters of one request */
#define EP_HTTP_MAX_QUERY 4096 /* bytes of one query string */
#define EP_HTTP_QOE_THREADS 2  /* the players' listener's epoll threads */

/* Event kinds, as bits of a subscriber's choice (?events=window,alert,tick). */
#define EV_WINDOW 1u
#define EV_ALERT 2u
#define EV_TICK 4u
#define EV_OTHER 8u
#define EV_DEFAULT (EV_WINDOW | EV_ALERT | EV_OTHER)

struct stream_item {
	uint64_t id;
	unsigned kind; /* EV_* */
	char *data;    /* the whole SSE event */
	size_t len;
};

struct ep_http {
	struct MHD_Daemon *d;
	struct ep_collector *c;
	int web_fd;           /* O_PATH of the web directory, -1: none */
	unsigned port;
	unsigned sse_max, sse_per_addr;
	struct sockaddr_storage *subs; /* address of each stream subscriber slot */
	uint8_t *sub_used;
	const char *hosts[EP_HTTP_MAX_HOSTS + 1];
	char *token;
	struct ep_qoe *qoe;
	struct ep_http_qoe_cfg qoe_cfg;
	int qoe_only;
	pthread_mutex_t lock; /* the stream ring */
	pthread_cond_t cond;
	struct stream_item ring[STREAM_RING];
	uint64_t next_id;     /* id of the next published event */
	unsigned window_subs; /* subscribers that take windows */
	int stopping;
};

/* http_stream.c: a subscriber for /api/v1/stream (*ret: libmicrohttpd's answer), or -1 when
 * the subscriber limits are reached (the caller refuses it). */
int ep_http_stream_open(struct ep_http *h, struct MHD_Connection *conn, enum MHD_Result *ret);

#endif
