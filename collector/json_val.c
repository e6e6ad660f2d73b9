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

json_t *ep_jv_str(const char *s)
{
	json_t *j = json_string(s);
	size_t n, i = 0, o = 0, l;
	char *t;

	if (j || !s)
		return j;
	n = strlen(s);
	t = malloc(n * 3 + 1); /* each byte that is not UTF-8 becomes the three of U+FFFD */
	if (!t)
		return NULL;
	while (i < n) {
		l = (unsigned char)s[i] < 0x80 ? 1 : ep_utf8_char_len(s + i, n - i);
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

json_t *ep_jv_str_or_null(const char *s)
{
	return s && *s ? ep_jv_str(s) : json_null();
}
