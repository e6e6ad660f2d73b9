/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * country.h - ISO 3166-1 alpha-2 country codes as small numbers: code "AB" is
 * (A - 'A') * 26 + (B - 'A') + 1, 1..676; 0 means no country known.  Only
 * assigned codes (Debian's iso-codes table, compiled in) are accepted.
 */
#ifndef EP_COUNTRY_H
#define EP_COUNTRY_H

#include <stddef.h>
#include <stdint.h>

#define EP_CC_NONE 0u
#define EP_CC_MAX 676u

struct ep_country {
	char alpha2[3];
	const char *name; /* UTF-8, e.g. "Germany" */
	uint16_t numeric; /* ISO 3166-1 numeric, e.g. 276 (what world maps key countries by) */
};

/* The generated table, sorted by alpha2. */
extern const struct ep_country ep_countries[];
extern const unsigned ep_ncountries;

/* The number of an assigned alpha-2 code of len bytes, or EP_CC_NONE. */
uint16_t ep_cc_parse(const char *s, size_t len);

/* The two letters of cc into out (3 bytes), or "" for EP_CC_NONE.  @return out */
char *ep_cc_str(uint16_t cc, char out[3]);

/* The country's name, or "" when cc is not an assigned code. */
const char *ep_cc_name(uint16_t cc);

/* The country's ISO 3166-1 numeric code, or 0 when cc is not an assigned code. */
unsigned ep_cc_numeric(uint16_t cc);

#endif
