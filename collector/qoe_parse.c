/* SPDX-License-Identifier: BSD-3-Clause */
/* qoe_parse.c - a QoE request's body (text lines or JSON) as checked CMCD reports. */
#include "qoe_parse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int refuse(struct ep_qoe_perr *err, enum ep_cmcd_err e, unsigned i, const char *detail)
{
	err->e = e;
	err->report = i;
	if (detail != err->detail)
		snprintf(err->detail, sizeof(err->detail), "%s", detail);
	return -1;
}

static int parse_text(const char *body, size_t len, struct ep_cmcd *out, unsigned *n,
		      struct ep_qoe_perr *err)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		enum ep_cmcd_err e;

		if (l && p[l - 1] == '\r')
			l--;
		if (l) {
			if (*n == EP_QOE_MAX_REPORTS)
				return refuse(err, EP_CMCD_E_too_long, *n, "too many reports");
			ep_cmcd_init(&out[*n]);
			e = ep_cmcd_parse(&out[*n], p, l, err->detail, sizeof(err->detail));
			if (e)
				return refuse(err, e, *n, err->detail);
			++*n;
		}
		p += l;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
	}
	return 0;
}

/* One JSON value of key into r, typed as CMCD types it. */
static enum ep_cmcd_err json_key(struct ep_cmcd *r, const char *key, json_t *v, char *detail,
				 size_t dlen)
{
	size_t klen = strlen(key);
	int k = ep_cmcd_key_find(key, klen);
	enum ep_cmcd_type want = k < 0 ? EP_CMCD_STR : ep_cmcd_key_type(k);

	switch (json_typeof(v)) {
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);

		if (want == EP_CMCD_DEC) /* "pr": 1 is the decimal 1.000 */
			return ep_cmcd_set(r, key, klen, EP_CMCD_DEC,
					   i < 0 || i > 1000000000000LL ? -1 : i * 1000, NULL, 0,
					   detail, dlen);
		return ep_cmcd_set(r, key, klen, EP_CMCD_INT, i, NULL, 0, detail, dlen);
	}
	case JSON_REAL: {
		double d = json_real_value(v) * 1000.0;

		if (want == EP_CMCD_DEC && !(d >= 0 && d < 9e15))
			return ep_cmcd_set(r, key, klen, EP_CMCD_DEC, -1, NULL, 0, detail, dlen);
		return ep_cmcd_set(r, key, klen, EP_CMCD_DEC, (int64_t)llround(d > 0 ? d : 0), NULL,
				   0, detail, dlen);
	}
	case JSON_TRUE:
	case JSON_FALSE:
		return ep_cmcd_set(r, key, klen, EP_CMCD_BOOL, json_is_true(v), NULL, 0, detail,
				   dlen);
	case JSON_STRING:
		return ep_cmcd_set(r, key, klen,
				   want == EP_CMCD_TOKEN ? EP_CMCD_TOKEN : EP_CMCD_STR, 0,
				   json_string_value(v), json_string_length(v), detail, dlen);
	case JSON_ARRAY: {
		size_t i, total = 0;
		json_t *item;

		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) /* a list of strings only: the wrong type */
				return ep_cmcd_set(
				    r, key, klen, want == EP_CMCD_LIST ? EP_CMCD_INT : EP_CMCD_LIST,
				    0, NULL, 0, detail, dlen);
			total += json_string_length(item) + 1;
		}
		return ep_cmcd_set(r, key, klen, EP_CMCD_LIST, 0, "", total, detail, dlen);
	}
	default:
		/* null, an object: the wrong type, whatever the key's */
		return ep_cmcd_set(r, key, klen, want == EP_CMCD_INT ? EP_CMCD_STR : EP_CMCD_INT, 0,
				   NULL, 0, detail, dlen);
	}
}

static int parse_json(const char *body, size_t len, struct ep_cmcd *out, unsigned *n,
		      struct ep_qoe_perr *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *obj;
	size_t i;
	int ret = 0;

	if (!root) {
		snprintf(err->detail, sizeof(err->detail), "JSON at byte %d: %.60s", jerr.position,
			 jerr.text);
		/* jansson names a duplicate key "duplicate object key" */
		return refuse(
		    err, strstr(jerr.text, "duplicate") ? EP_CMCD_E_repeated_key : EP_CMCD_E_syntax,
		    0, err->detail);
	}
	if (json_is_object(root)) {
		json_t *one = json_array();

		if (!one || json_array_append(one, root)) {
			json_decref(one);
			json_decref(root);
			return refuse(err, EP_CMCD_E_too_long, 0, "out of memory");
		}
		json_decref(root);
		root = one;
	}
	if (!json_is_array(root)) {
		json_decref(root);
		return refuse(err, EP_CMCD_E_syntax, 0,
			      "an object or an array of objects expected");
	}
	json_array_foreach(root, i, obj) {
		const char *key;
		json_t *v;

		if (*n == EP_QOE_MAX_REPORTS) {
			ret = refuse(err, EP_CMCD_E_too_long, *n, "too many reports");
			break;
		}
		if (!json_is_object(obj)) {
			ret = refuse(err, EP_CMCD_E_syntax, *n, "a report is an object of keys");
			break;
		}
		ep_cmcd_init(&out[*n]);
		json_object_foreach(obj, key, v) {
			enum ep_cmcd_err e =
			    json_key(&out[*n], key, v, err->detail, sizeof(err->detail));

			if (e) {
				ret = refuse(err, e, *n, err->detail);
				break;
			}
		}
		if (ret)
			break;
		++*n;
	}
	json_decref(root);
	return ret;
}

int ep_qoe_parse_body(enum ep_qoe_body kind, const char *body, size_t len, struct ep_cmcd *out,
		      struct ep_qoe_perr *err)
{
	unsigned n = 0;
	int ret;

	err->e = EP_CMCD_OK;
	err->report = 0;
	err->detail[0] = '\0';
	if (len > EP_QOE_MAX_BODY)
		return refuse(err, EP_CMCD_E_too_long, 0, "body too large");
	ret = kind == EP_QOE_BODY_JSON ? parse_json(body, len, out, &n, err)
				       : parse_text(body, len, out, &n, err);
	return ret ? -1 : (int)n;
}
