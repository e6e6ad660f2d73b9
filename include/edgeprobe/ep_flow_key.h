/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_flow_key.h - direction-independent TCP flow key and its hash.
 *
 * Both directions of a connection build the same key: the endpoint that
 * compares lower (address, then port) is side A.  ep_flow_key_make() tells the
 * caller which side sent the packet.
 */
#ifndef EP_FLOW_KEY_H
#define EP_FLOW_KEY_H

#include "ep_parse.h"

struct ep_flow_key {
	uint8_t addr_a[16];
	uint8_t addr_b[16];
	uint16_t port_a;
	uint16_t port_b;
	uint8_t family;
	uint8_t pad[3];
};

/* -1, 0, 1 as (addr, port) of x compares with y. */
EP_INLINE int ep_endpoint_cmp(const uint8_t *ax, uint16_t px, const uint8_t *ay, uint16_t py)
{
	int i;

	for (i = 0; i < 16; i++)
		if (ax[i] != ay[i])
			return ax[i] < ay[i] ? -1 : 1;
	return px == py ? 0 : (px < py ? -1 : 1);
}

/*
 * Build the canonical key of pkt.
 * @return 0 when the sender is side A, 1 when it is side B.
 */
EP_INLINE int ep_flow_key_make(const struct ep_pkt *pkt, struct ep_flow_key *key)
{
	int from_b = ep_endpoint_cmp(pkt->src, pkt->sport, pkt->dst, pkt->dport) > 0;
	int i;

	for (i = 0; i < 16; i++) {
		key->addr_a[i] = from_b ? pkt->dst[i] : pkt->src[i];
		key->addr_b[i] = from_b ? pkt->src[i] : pkt->dst[i];
	}
	key->port_a = from_b ? pkt->dport : pkt->sport;
	key->port_b = from_b ? pkt->sport : pkt->dport;
	key->family = pkt->family;
	key->pad[0] = key->pad[1] = key->pad[2] = 0;
	return from_b;
}

EP_INLINE uint64_t ep_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* 64-bit hash of a canonical key (so symmetric in the packet's direction). */
EP_INLINE uint64_t ep_flow_key_hash(const struct ep_flow_key *key)
{
	uint64_t w[5], h = 0x9e3779b97f4a7c15ULL;
	int i;

	__builtin_memcpy(w, key, sizeof(w));
	for (i = 0; i < 5; i++)
		h = ep_mix64(h ^ w[i]) + (uint64_t)i;
	return h;
}

EP_INLINE int ep_flow_key_eq(const struct ep_flow_key *x, const struct ep_flow_key *y)
{
	const uint64_t *a = (const uint64_t *)x, *b = (const uint64_t *)y;

	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
}

#endif /* EP_FLOW_KEY_H */
