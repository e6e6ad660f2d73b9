/* SPDX-License-Identifier: BSD-3-Clause */
/* country.c - ISO 3166-1 alpha-2 codes to and from their numbers (country.h). */
#include <string.h>

#include "country.h"

static const struct ep_country *find(const char a[2])
{
	unsigned lo = 0, hi = ep_ncountries;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int d = memcmp(ep_countries[mid].alpha2, a, 2);

		if (d == 0)
			return &ep_countries[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint16_t ep_cc_parse(const char *s, size_t len)
{
	if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || !find(s))
		return EP_CC_NONE;
	return (uint16_t)((s[0] - 'A') * 26 + (s[1] - 'A') + 1);
}

char *ep_cc_str(uint16_t cc, char out[3])
{
	if (cc == EP_CC_NONE || cc > EP_CC_MAX) {
		out[0] = '\0';
		return out;
	}
	out[0] = (char)('A' + (cc - 1) / 26);
	out[1] = (char)('A' + (cc - 1) % 26);
	out[2] = '\0';
	return out;
}

const char *ep_cc_name(uint16_t cc)
{
	const struct ep_country *c;
	char a[3];

	if (!ep_cc_str(cc, a)[0])
		return "";
	c = find(a);
	return c ? c->name : "";
}

unsigned ep_cc_numeric(uint16_t cc)
{
	const struct ep_country *c;
	char a[3];

	if (!ep_cc_str(cc, a)[0])
		return 0;
	c = find(a);
	return c ? c->numeric : 0;
}
