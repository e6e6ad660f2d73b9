/* SPDX-License-Identifier: BSD-3-Clause */
/* http_qoe.c - POST /api/v1/qoe: players' CMCD reports into the QoE aggregates. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "http_qoe.h"
#include "qoe_parse.h"
#include "wallclock.h"

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	/* Players post from pages of other origins (a simple request: text/plain bodies). */
	MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(
	    r, "Access-Control-Allow-Headers",
	    "Content-Type, CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session");
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST, OPTIONS");
	if (status == 429)
		MHD_add_response_header(r, "Retry-After", "1");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result refuse(struct ep_qoe *q, struct MHD_Connection *conn, unsigned status,
			      enum ep_cmcd_err e, int report, const char *detail)
{
	char body[256], safe[100];
	size_t i;

	/* cmcd.c's details are printable; jansson's may quote the body's bytes: ASCII only */
	for (i = 0; detail[i] && i < sizeof(safe) - 1; i++)
		safe[i] = detail[i] == '"' || detail[i] == '\\' ||
				  (unsigned char)detail[i] < 0x20 || (unsigned char)detail[i] > 0x7e
			      ? '\''
			      : detail[i];
	safe[i] = '\0';
	pthread_mutex_lock(&q->lock);
	q->ctr[EP_QOE_qoe_refused_requests]++;
	if (e)
		q->refused[e]++;
	pthread_mutex_unlock(&q->lock);
	snprintf(body, sizeof(body),
		 "{\"error\":\"%s\",\"reason\":\"%s\",\"report\":%d,\"status\":%u}\n", safe,
		 e ? ep_cmcd_err_names[e] : "request", report, status);
	return reply(conn, status, body);
}

static void count(struct ep_qoe *q, enum ep_qoe_ctr k)
{
	pthread_mutex_lock(&q->lock);
	q->ctr[k]++;
	pthread_mutex_unlock(&q->lock);
}

/*
 * The client's address: the peer's, or behind a trusted proxy the last
 * X-Forwarded-For entry (the one that proxy added).  @return 4 or 6, 0: unusable
 */
static int client_addr(const struct ep_http_qoe_cfg *cfg, struct MHD_Connection *conn,
		       uint8_t addr[16])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	int family = 0, i;
	const char *xff;
	char last[64];

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		family = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		family = 6;
		if (!memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) { /* v4-mapped */
			memmove(addr, addr + 12, 4);
			family = 4;
		}
	} else {
		return 0;
	}
	for (i = 0; i < cfg->ntrusted; i++)
		if (cfg->trusted[i].family == family &&
		    !memcmp(cfg->trusted[i].addr, addr, family == 4 ? 4 : 16))
			break;
	if (i == cfg->ntrusted)
		return family;
	xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (!xff)
		return -1;
	xff = strrchr(xff, ',') ? strrchr(xff, ',') + 1 : xff;
	xff += strspn(xff, " \t");
	if (strlen(xff) >= sizeof(last))
		return -1;
	snprintf(last, sizeof(last), "%s", xff);
	last[strcspn(last, " \t")] = '\0';
	if (inet_pton(AF_INET, last, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, last, addr) == 1)
		return 6;
	return -1;
}

/* One report from the CMCD query argument and the CMCD-* headers, when there are any. */
static int query_and_headers(struct MHD_Connection *conn, struct ep_cmcd *r,
			     struct ep_qoe_perr *err)
{
	static const char *const hdr[] = {"CMCD-Object", "CMCD-Request", "CMCD-Session",
					  "CMCD-Status"};
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "CMCD");
	int any = 0;
	size_t i;

	ep_cmcd_init(r);
	for (i = 0; i <= sizeof(hdr) / sizeof(hdr[0]); i++) {
		enum ep_cmcd_err e;

		if (i > 0)
			v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, hdr[i - 1]);
		if (!v)
			continue;
		any = 1;
		e = ep_cmcd_parse(r, v, strlen(v), err->detail, sizeof(err->detail));
		if (e) {
			err->e = e;
			return -1;
		}
	}
	return any;
}

enum MHD_Result ep_http_qoe(struct ep_qoe *q, const struct ep_http_qoe_cfg *cfg,
			    struct MHD_Connection *conn, const char *method,
			    const char *upload_data, size_t *upload_size, struct ep_qoe_upload *b)
{
	struct ep_qoe_perr err = {0};
	struct ep_cmcd *reps;
	const char *ctype;
	uint8_t addr[16];
	uint32_t asn;
	uint16_t cc;
	int n, one, family, i;
	uint64_t now;

	if (!strcmp(method, "OPTIONS"))
		return *upload_size ? (*upload_size = 0, MHD_YES) : reply(conn, 204, "");
	if (strcmp(method, "POST") && strcmp(method, "GET"))
		return *upload_size
			   ? (*upload_size = 0, MHD_YES)
			   : refuse(q, conn, 405, EP_CMCD_OK, -1, "POST (or GET with CMCD=)");
	if (!b->seen) { /* headers only */
		b->seen = 1;
		count(q, EP_QOE_qoe_requests);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!b->over && b->len + *upload_size <= EP_QOE_MAX_BODY) {
			char *nb = realloc(b->buf, b->len + *upload_size);

			if (nb) {
				memcpy(nb + b->len, upload_data, *upload_size);
				b->buf = nb;
				b->len += *upload_size;
			} else {
				b->over = 2;
			}
		} else if (!b->over) {
			b->over = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (b->over) {
		if (b->over == 1)
			count(q, EP_QOE_qoe_too_large);
		return refuse(q, conn, b->over == 1 ? 413 : 503, EP_CMCD_OK, -1,
			      b->over == 1 ? "body over 64 KiB" : "out of memory");
	}
	family = client_addr(cfg, conn, addr);
	if (family <= 0) {
		if (family < 0)
			count(q, EP_QOE_qoe_bad_forwarded);
		return refuse(q, conn, 400, EP_CMCD_OK, -1,
			      "no client address (a trusted proxy must send X-Forwarded-For)");
	}
	reps = malloc((EP_QOE_MAX_REPORTS + 1) * sizeof(*reps));
	if (!reps)
		return refuse(q, conn, 503, EP_CMCD_OK, -1, "out of memory");
	ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	n = ep_qoe_parse_body(ctype && !strncasecmp(ctype, "application/json", 16)
				  ? EP_QOE_BODY_JSON
				  : EP_QOE_BODY_TEXT,
			      b->buf ? b->buf : "", b->len, reps, &err);
	if (n < 0) {
		free(reps);
		return refuse(q, conn, 400, err.e, (int)err.report, err.detail);
	}
	one = query_and_headers(conn, &reps[n], &err);
	if (one < 0) {
		free(reps);
		return refuse(q, conn, 400, err.e, n, err.detail);
	}
	n += one;
	if (!n) {
		free(reps);
		return refuse(q, conn, 400, EP_CMCD_OK, -1,
			      "no CMCD report (a body, CMCD= or CMCD-*)");
	}
	now = ep_wall_ns();
	if (!ep_qoe_rate_take(q, family, addr, (uint32_t)n, now)) {
		free(reps);
		return refuse(q, conn, 429, EP_CMCD_OK, -1, "over the rate for this source");
	}
	ep_qoe_locate(q, family, addr, &asn, &cc);
	memset(addr, 0, sizeof(addr)); /* the address is not kept beyond this point */
	for (i = 0; i < n; i++)
		ep_qoe_add(q, &reps[i], asn, cc, now);
	free(reps);
	return reply(conn, 204, "");
}
