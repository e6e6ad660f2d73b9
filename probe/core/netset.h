/* SPDX-License-Identifier: BSD-3-Clause */
/* netset.h - a small set of IPv4/IPv6 CIDR prefixes (--local-net). */
#ifndef EP_NETSET_H
#define EP_NETSET_H

#include <stddef.h>
#include <stdint.h>

#define EP_NETSET_MAX 64

struct ep_netset {
	uint32_t n;
	struct {
		uint8_t family;
		uint8_t len;
		uint8_t addr[16];
	} net[EP_NETSET_MAX];
};

/*
 * Add every prefix of a comma-separated list ("192.0.2.0/24,2001:db8::/32";
 * a bare address is a host prefix).
 * @return 0, or -EINVAL (err names the bad item), -ENOSPC beyond EP_NETSET_MAX.
 */
int ep_netset_parse(struct ep_netset *s, const char *list, char *err, size_t errlen);

/* 1 when addr (4 or 16 bytes in network order) lies in a prefix of s. */
int ep_netset_contains(const struct ep_netset *s, int family, const uint8_t *addr);

#endif
