/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_map_int.h - the ASN map's tables and loader state, shared by asn_load.c and asn_map.c. */
#ifndef EP_ASN_MAP_INT_H
#define EP_ASN_MAP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "asn_map.h"
#include "country.h"

typedef unsigned __int128 u128;

struct prefix {
	u128 first;
	uint32_t asn;
	uint32_t org;   /* offset into the string pool */
	uint32_t order; /* load order: a later duplicate wins */
	uint8_t len;
};

struct interval {
	u128 first;
	u128 last;
	uint32_t asn;
	uint32_t org;
	uint16_t cc; /* country (country.h), EP_CC_NONE when unknown */
};

struct family_table {
	struct interval *iv;
	size_t n;
	size_t prefixes;
};

struct asn_org {
	uint32_t asn;
	uint32_t org;
	uint8_t used;
};

struct ep_asn_map {
	struct family_table v4, v6;
	uint32_t *idx4;       /* 65537 entries: intervals with first < (t << 16) */
	char *pool;           /* organisation names, NUL-separated; offset 0 is "" */
	size_t pool_len, pool_cap;
	struct asn_org *orgs; /* open addressing asn -> org */
	size_t orgs_cap, orgs_n;
	size_t lines;
	size_t org_fixed;     /* bytes of names replaced by '?' (not UTF-8) */
	size_t cc_lines;      /* lines of country files */
	size_t cc_prefixes4, cc_prefixes6;
	uint8_t cc_seen[EP_CC_MAX + 1];
};

/* Scratch state while loading: prefixes of ASN files, and of country files (asn = cc). */
struct prefix_vec {
	struct prefix *v;
	size_t n, cap;
};

struct loader {
	struct ep_asn_map *m;
	struct prefix_vec asn4, asn6, cc4, cc6;
	int country;          /* the current file is a country file */
	uint32_t order;
	char *err;
	size_t errlen;
	const char *file;
	size_t line;
};

/* "FILE:LINE: reason" into the loader's error buffer.  @return ret */
int ep_asn_fail(struct loader *ld, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a string to the pool.  @return 0 or -ENOMEM */
int ep_asn_pool_add(struct ep_asn_map *m, const char *s, size_t len, uint32_t *off);

/* One ASN (ip-location-db CSV or pfx2as) or country (first,last,CC) file into ld. */
int ep_asn_load_file(struct loader *ld, const char *path);

/* The slot of asn in the organisation table (its capacity is not 0). */
size_t ep_asn_org_slot(const struct ep_asn_map *m, uint32_t asn);

#endif
