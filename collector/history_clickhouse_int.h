/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * history_clickhouse_int.h - the ClickHouse backend's state and the helpers its
 * two halves share: history_clickhouse.c (connection, schema, writes, retention)
 * and history_clickhouse_read.c (queries and their answers).
 */
#ifndef EP_HISTORY_CLICKHOUSE_INT_H
#define EP_HISTORY_CLICKHOUSE_INT_H

#include <curl/curl.h>

#include "history_int.h"

#define CH_SCHEMA 3 /* 2: bucket.dup; 3: rows per (ASN, country) in table pair */
#define CH_DAY_NS (86400ull * 1000000000ull)
#define CH_HOUR_NS (3600ull * 1000000000ull)
/* Partitions: a day of a step of 1 s or more, an hour of a finer one (kept minutes, not days). */
#define CH_PERIOD "intDiv(start, if(step < 1000000000, 3600000000000, 86400000000000))"
#define CH_RESPONSE_MAX (512u << 20) /* a larger answer is an error, not an allocation */

/* A growing text buffer (request bodies, responses). */
struct buf {
	char *p;
	size_t len, cap;
	int nomem;
};

struct ch_be {
	CURL *w, *r;           /* the writer's and the readers' handles */
	char url[256];         /* http://HOST:PORT/ */
	char db[64];
	char cluster[64];      /* "": one server */
	const char *wsfx;      /* the tables written: "_local" in a cluster, else "" */
	char id[128];          /* this collector's name, SQL-escaped */
	struct ep_hdr_cfg hcfg;
	struct buf req, resp, rbuf; /* the writer's request, and the readers' response */
	struct ep_hbin *bins;  /* the readers' scratch */
	size_t bins_cap;
	uint64_t *nums;        /* one map's indexes and counts as parsed (2 x counts_len) */
	struct ep_centry *ent;
	uint32_t ent_cap;
};

/* Append printf-style text, or SQL-quoted text. */
void ep_ch_buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ep_ch_buf_sql(struct buf *b, const char *s);
/* One statement, no answer wanted. @return 0 or -1 with err set */
int ep_ch_exec(struct ch_be *c, CURL *h, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* POST body (a query), the answer into resp. @return 0 or -1 with err set */
int ep_ch_post(struct ch_be *c, CURL *h, const struct buf *body, struct buf *resp, char *err,
	       size_t errlen);

/* history_clickhouse_read.c: the backend's read operations (struct ep_history_ops). */
long ep_ch_read(void *be, const char *probe, uint64_t step_ns, uint64_t start_ns, uint64_t end_ns,
		const struct ep_read *want, ep_history_cb cb, void *ctx, uint64_t *corrupt);
int ep_ch_bounds(void *be, const char *probe, uint64_t step_ns, enum ep_whose whose,
		 uint64_t *oldest, uint64_t *newest);
int ep_ch_probes(void *be, uint64_t step_ns, uint64_t since_ns,
		 int (*cb)(const char *probe, void *ctx), void *ctx);
long ep_ch_orgs(void *be, void (*cb)(uint32_t asn, const char *org, void *ctx), void *ctx);

#endif
