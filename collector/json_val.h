/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_val.h - JSON values with jansson, as the collector writes them (the API,
 * alerts, Kafka): unsigned counters, reals rounded to what they mean, strings
 * from outside (bytes that are not UTF-8, DEL and C1 controls become U+FFFD, never a lost
 * member).
 */
#ifndef EP_JSON_VAL_H
#define EP_JSON_VAL_H

#include <jansson.h>
#include <stdint.h>

/* How every JSON text is written: compact, reals to 10 significant digits (rounded before). */
#define EP_JV_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* An unsigned counter (a sum past 2^63, which jansson cannot hold, as 2^63 - 1). */
json_t *ep_jv_u64(uint64_t v);
/* v to digits significant digits; null if not finite. */
json_t *ep_jv_real(double v, int digits);
/* v rounded to an integer; null if not finite. */
json_t *ep_jv_int(double v);
/* v to decimals after the point; null if not finite. */
json_t *ep_jv_fixed(double v, int decimals);
/* A string: bytes that are not UTF-8 (e.g. a query's %ff), DEL and C1 controls become U+FFFD. */
json_t *ep_jv_str(const char *s);
/* As ep_jv_str; NULL or "": null. */
json_t *ep_jv_str_or_null(const char *s);
/* v as text (v is taken; NULL: NULL), for the caller to free. @param len its length */
char *ep_jv_dump(json_t *v, size_t *len);

#endif
