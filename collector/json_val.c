/* SPDX-License-Identifier: BSD-3-Clause */
/* json_val.c - JSON values with jansson: counters, rounded reals, strings that may not be UTF-8. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_val.h"
#include "utf8.h"

json_t *ep_jv_u64(uint64_t v)
{
	/* jansson's integers are signed: a sum past 2^63 is written as the largest one */
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *ep_jv_real(double v, int digits)
{
	char s[40];

	if (!isfinite(v))
		return json_null();
	/* rounded to digits significant digits; dumped at EP_JV_FLAGS' precision */
	snprintf(s, sizeof(s), "%.*g", digits, v);
	return json_real(strtod(s, NULL));
}

json_t *ep_jv_int(double v)
{
	return isfinite(v) && fabs(v) < 9e18 ? json_integer((json_int_t)llround(v)) : json_null();
}

json_t *ep_jv_fixed(double v, int decimals)
{
	char s[400];

	if (!isfinite(v))
		return json_null();
	snprintf(s, sizeof(s), "%.*f", decimals, v);
	return json_real(strtod(s, NULL));
}

/* Bytes at s that JSON text may carry as they are (jansson escapes C0 controls), or 0. */
static size_t clean_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;

	if (c < 0x80)
		return c == 0x7f ? 0 : 1;
	return ep_utf8_char_len(s, n); /* 0: not UTF-8, or a C1 control */
}

json_t *ep_jv_str(const char *s)
{
	size_t n, i = 0, o = 0, l;
	json_t *j;
	char *t;

	if (!s)
		return NULL;
	n = strlen(s);
	while (i < n && (l = clean_len(s + i, n - i)))
		i += l;
	if (i == n)
		return json_stringn(s, n);
	/* each byte that is not UTF-8, DEL or a C1 control becomes the three of U+FFFD */
	t = malloc(n * 3 + 1);
	if (!t)
		return NULL;
	for (i = 0; i < n;) {
		l = clean_len(s + i, n - i);
		if (l) {
			memcpy(t + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(t + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(t, o);
	free(t);
	return j;
}

char *ep_jv_dump(json_t *v, size_t *len)
{
	char *s = v ? json_dumps(v, EP_JV_FLAGS) : NULL;

	json_decref(v);
	*len = s ? strlen(s) : 0;
	return s;
}

json_t *ep_jv_str_or_null(const char *s) { return s && *s ? ep_jv_str(s) : json_null(); }
