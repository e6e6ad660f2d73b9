/* SPDX-License-Identifier: BSD-3-Clause */
/* utf8.c - strict UTF-8 validation and repair. */
#include <stdint.h>

#include "utf8.h"

/* Length of the well-formed printable sequence at s, or 0. */
static size_t seq_len(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0; /* overlong, out of range, a surrogate, or a C1 control */
	return len;
}

size_t ep_utf8_char_len(const char *s, size_t n)
{
	return n ? seq_len((const uint8_t *)s, n) : 0;
}

int ep_utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, l;

	while (i < n) {
		l = seq_len(p + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

size_t ep_utf8_sanitize(char *s, size_t n)
{
	uint8_t *p = (uint8_t *)s;
	size_t i = 0, l, fixed = 0;

	while (i < n) {
		l = seq_len(p + i, n - i);
		if (!l) {
			p[i++] = '?';
			fixed++;
		} else {
			i += l;
		}
	}
	return fixed;
}
