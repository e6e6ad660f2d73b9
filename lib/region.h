/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * region.h - countries grouped into named regions, from an INI file: one
 * section per region, its ISO 3166-1 alpha-2 codes in "countries" (space or
 * comma separated; the key may repeat, inih's indented continuation lines do
 * too).  The default file puts each country in its UN M49 sub-region
 * (collector/regions-m49.ini); an operator's own may group by regulator or
 * EMEA/APAC/AMER.  A country in no region is in none (EP_REGION_NONE).
 */
#ifndef EP_REGION_H
#define EP_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "country.h"

#define EP_REGION_NONE 0u
#define EP_REGION_MAX 256        /* regions in one file */
#define EP_REGION_NAME_MAX 48    /* bytes of a region's name (inih cuts headers at 49) */
#define EP_REGION_FILE_MAX (256u << 10)

struct ep_regions {
	unsigned n;                                   /* regions 1..n */
	char name[EP_REGION_MAX + 1][EP_REGION_NAME_MAX + 1];
	uint8_t of[EP_CC_MAX + 1];                    /* country -> region, EP_REGION_NONE */
	unsigned countries;                           /* countries placed */
};

/*
 * Parse text (named path in errors) into out.  Refused with "PATH:LINE: reason":
 * a code ISO 3166-1 does not assign, a country in two regions, an unknown key, a
 * key outside a section, a region defined twice, with no countries, or a name
 * that is empty, too long or not printable, more than EP_REGION_MAX regions.
 * @return 0 or -EINVAL.
 */
int ep_regions_parse(const char *text, const char *path, struct ep_regions *out, char *err,
		     size_t errlen);

/* The same from a file (at most EP_REGION_FILE_MAX bytes). @return 0, -errno, -EINVAL */
int ep_regions_load(const char *path, struct ep_regions *out, char *err, size_t errlen);

/* The region of country cc, EP_REGION_NONE when it is in none. */
static inline unsigned ep_region_of(const struct ep_regions *r, uint16_t cc)
{
	return cc <= EP_CC_MAX ? r->of[cc] : EP_REGION_NONE;
}

/* A region's name; "" for EP_REGION_NONE or an id out of range. */
static inline const char *ep_region_name(const struct ep_regions *r, unsigned id)
{
	return id && id <= r->n ? r->name[id] : "";
}

/* The region named name (exact), or EP_REGION_NONE. */
unsigned ep_region_find(const struct ep_regions *r, const char *name);

#endif
