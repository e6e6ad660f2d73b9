/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_qoe.h - the players' endpoint, POST /api/v1/qoe: CMCD reports in the body
 * (text lines or JSON), the CMCD query argument or the CMCD-* headers; the client's
 * address (or a trusted proxy's X-Forwarded-For) picks the ASN and is dropped.
 */
#ifndef EP_HTTP_QOE_H
#define EP_HTTP_QOE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "qoe.h"

#define EP_QOE_MAX_PROXIES 16

struct ep_http_qoe_cfg {
	struct {
		int family; /* 4 or 6 */
		uint8_t addr[16];
	} trusted[EP_QOE_MAX_PROXIES]; /* proxies whose X-Forwarded-For is believed */
	int ntrusted;
};

/* One request's state across libmicrohttpd's calls. */
struct ep_qoe_upload {
	int seen;   /* the headers-only call happened */
	int over;   /* 1: longer than EP_QOE_MAX_BODY, 2: out of memory */
	char *buf;
	size_t len;
};

/* Answer a request for /api/v1/qoe (libmicrohttpd's access handler contract). */
enum MHD_Result ep_http_qoe(struct ep_qoe *q, const struct ep_http_qoe_cfg *cfg,
			    struct MHD_Connection *conn, const char *method,
			    const char *upload_data, size_t *upload_size, struct ep_qoe_upload *b);

#endif
