/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * utf8.h - strict UTF-8 checks for text that crosses a trust boundary (probe
 * ids and ASN names on the wire, label values on /metrics): well-formed
 * (no overlong forms, surrogates or code points above U+10FFFF) and without
 * control characters.
 */
#ifndef EP_UTF8_H
#define EP_UTF8_H

#include <stddef.h>

/* @return the length of the well-formed printable character at s (1..4), or 0 */
size_t ep_utf8_char_len(const char *s, size_t n);

/*
 * @param s text, not necessarily NUL-terminated
 * @param n its length in bytes
 * @return 1 when s is well-formed UTF-8 without C0 controls or DEL, else 0
 */
int ep_utf8_valid(const char *s, size_t n);

/*
 * Replace every byte that is not part of a well-formed, printable sequence
 * with '?', in place (s stays the same length).
 * @return the number of bytes replaced
 */
size_t ep_utf8_sanitize(char *s, size_t n);

#endif
