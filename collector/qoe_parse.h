/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qoe_parse.h - the body of a POST /api/v1/qoe as CMCD reports: text (one
 * key-value list per line: CTA-5004-A event mode) or JSON (one object of keys, or an
 * array of them), each report checked.
 */
#ifndef EP_QOE_PARSE_H
#define EP_QOE_PARSE_H

#include <stddef.h>

#include "cmcd.h"

#define EP_QOE_MAX_REPORTS 256  /* reports in one request */
#define EP_QOE_MAX_BODY 65536   /* bytes of one request's body */

enum ep_qoe_body { EP_QOE_BODY_TEXT, EP_QOE_BODY_JSON };

/* Why a body was refused: the reason, which report (0-based), and a detail. */
struct ep_qoe_perr {
	enum ep_cmcd_err e;
	unsigned report;
	char detail[96];
};

/*
 * Parse body into out (room for EP_QOE_MAX_REPORTS).
 * @return reports (0 for an empty body), or -1 with err filled
 */
int ep_qoe_parse_body(enum ep_qoe_body kind, const char *body, size_t len, struct ep_cmcd *out,
		      struct ep_qoe_perr *err);

#endif
