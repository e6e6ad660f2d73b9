/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * asn_map.h - IP prefix -> (ASN, organisation, country) map with longest-prefix
 * match for IPv4 and IPv6.
 *
 * Loads the ip-location-db CSV layout (first_ip,last_ip,asn,org; dotted or
 * numeric IPv4, IPv6), CAIDA's RouteViews pfx2as layout
 * (prefix<TAB>length<TAB>asn) and ip-location-db's country layout
 * (first_ip,last_ip,CC: asn-country, geo-whois-asn-country), detected per file.
 * Ranges are split into CIDR prefixes, and the prefixes flattened into sorted
 * disjoint intervals where the longest prefix wins; with country files, the
 * ASN and country intervals are joined (an ASN range that spans countries is
 * split), so a lookup is one binary search (IPv4: narrowed by a 64Ki index).
 */
#ifndef EP_ASN_MAP_H
#define EP_ASN_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "edgeprobe/ep_wire.h"

#define EP_ASN_UNKNOWN 0u

struct ep_asn_map;

/*
 * Build a map from files (NULL-terminated list).  The format is detected per
 * file.  On a malformed line nothing is built and err (if not NULL) receives
 * "FILE:LINE: reason".
 * @return 0, -ENOENT/-EACCES (file), -EINVAL (malformed), -ENOMEM.
 */
int ep_asn_map_load(const char *const *files, struct ep_asn_map **out, char *err, size_t errlen);

#define EP_ASN_MAX_ARGS 16
#ifndef EP_DEFAULT_ASN_DIR
#define EP_DEFAULT_ASN_DIR "/var/lib/edgeprobe/asn"
#endif

/*
 * Build a map from what --asn-db options say: each a comma-separated list of
 * files, or 'none' (no data: every address is AS 0).  With none given, the
 * files of EDGEPROBE_ASN_DIR (default EP_DEFAULT_ASN_DIR): asn-ipv4.csv
 * (required), asn-ipv6.csv and the countries asn-country-ipv{4,6}.csv.
 * @return as ep_asn_map_load(), -ENOENT with err saying what to do
 */
int ep_asn_map_load_args(const char *const *args, int nargs, struct ep_asn_map **out,
			 char *err, size_t errlen);

/* An empty map: every address is AS 0. @return 0 or -ENOMEM. */
int ep_asn_map_empty(struct ep_asn_map **out);

/* NULL-safe. */
void ep_asn_map_free(struct ep_asn_map *m);

/*
 * Longest-prefix match.
 * @param family 4 or 6
 * @param addr 4 or 16 bytes in network order
 * @param org set to the organisation name ("" when unknown); may be NULL
 * @return the ASN, EP_ASN_UNKNOWN (0) when no prefix covers addr
 */
uint32_t ep_asn_map_lookup(const struct ep_asn_map *m, int family, const uint8_t *addr,
			   const char **org);

/*
 * The same, with the country (country.h) into cc: EP_CC_NONE when unknown,
 * and for AS 0 (an address no ASN range covers has no country either, in
 * every probe: the BPF tries hold only the ASN prefixes).
 */
uint32_t ep_asn_map_lookup_cc(const struct ep_asn_map *m, int family, const uint8_t *addr,
			      const char **org, uint16_t *cc);

/* The organisation recorded for asn, or "" */
const char *ep_asn_map_org(const struct ep_asn_map *m, uint32_t asn);

/*
 * Every address range of family (4 or 6) with its ASN and country, as CIDR
 * prefixes that cover the flattened intervals exactly (for the BPF probe's LPM
 * tries); AS 0 ranges are left out.  addr: 4 or 16 bytes in network order.
 * cb returns non-zero to stop.
 * @return 0, or cb's value.
 */
typedef int (*ep_asn_prefix_cb)(void *ctx, const uint8_t *addr, int len, uint32_t asn,
				uint16_t cc);
int ep_asn_map_prefixes(const struct ep_asn_map *m, int family, ep_asn_prefix_cb cb, void *ctx);

/* Longest line of an ASN file; longer lines (or a device such as /dev/zero) are an error. */
#define EP_ASN_LINE_MAX 4096

/* Counts for reports: prefixes loaded and flattened intervals, per family. */
struct ep_asn_map_info {
	size_t lines;
	size_t org_fixed;     /* name bytes replaced by '?' (not printable UTF-8) */
	size_t prefixes4, prefixes6;
	size_t intervals4, intervals6;
	size_t asns;
	size_t bytes;
	size_t cc_lines;                   /* lines of country files */
	size_t cc_prefixes4, cc_prefixes6; /* their prefixes */
	size_t countries;                  /* distinct countries in them */
};
void ep_asn_map_info(const struct ep_asn_map *m, struct ep_asn_map_info *info);

#endif /* EP_ASN_MAP_H */
