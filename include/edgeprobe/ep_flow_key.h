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
	/* ep_flow_key_make() writes port_a .. owner as one word at offset 32. */
	uint8_t addr_a[16];
	uint8_t addr_b[16];
	uint16_t port_a;
	uint16_t port_b;
	uint8_t family;
	uint8_t owner[3]; /* zero in a key built here; free to the holder of a stored key
			     (the userspace table keeps a 24-bit ASN slot): not compared, not hashed */
};

_Static_assert(__builtin_offsetof(struct ep_flow_key, port_a) == 32 &&
		       sizeof(struct ep_flow_key) == 40,
	       "ep_flow_key_make() writes the key's last word at once");

/* The compared and hashed bytes of the key's last word: ports and family. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EP_FLOW_KEY_TAIL_MASK 0x000000ffffffffffULL
#else
#define EP_FLOW_KEY_TAIL_MASK 0xffffffffff000000ULL
#endif

/*
 * Build the canonical key of pkt: the endpoint that orders after the other
 * (addresses as two native 64-bit words, then ports; any consistent order
 * would do) is side B.  Works on registers: the per-packet path.
 * @return 0 when the sender is side A, 1 when it is side B.
 */
EP_INLINE int ep_flow_key_make(const struct ep_pkt *pkt, struct ep_flow_key *key)
{
	uint64_t s0, s1, d0, d1, a0, a1, b0, b1, tail;
	uint16_t pa, pb;
	int from_b;

	__builtin_memcpy(&s0, pkt->src, 8);
	__builtin_memcpy(&s1, pkt->src + 8, 8);
	__builtin_memcpy(&d0, pkt->dst, 8);
	__builtin_memcpy(&d1, pkt->dst + 8, 8);
	from_b = s0 != d0 ? s0 > d0 : s1 != d1 ? s1 > d1 : pkt->sport > pkt->dport;
	a0 = from_b ? d0 : s0;
	a1 = from_b ? d1 : s1;
	b0 = from_b ? s0 : d0;
	b1 = from_b ? s1 : d1;
	__builtin_memcpy(key->addr_a, &a0, 8);
	__builtin_memcpy(key->addr_a + 8, &a1, 8);
	__builtin_memcpy(key->addr_b, &b0, 8);
	__builtin_memcpy(key->addr_b + 8, &b1, 8);
	/*
	 * Ports, family and the zero owner bytes as one 8-byte store: the hash
	 * reads the word back at once, and a load that spans several narrower
	 * stores cannot be forwarded from them (a stall of ~15 cycles per packet).
	 */
	pa = from_b ? pkt->dport : pkt->sport;
	pb = from_b ? pkt->sport : pkt->dport;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	tail = (uint64_t)pa | (uint64_t)pb << 16 | (uint64_t)pkt->family << 32;
#else
	tail = (uint64_t)pa << 48 | (uint64_t)pb << 32 | (uint64_t)pkt->family << 24;
#endif
	__builtin_memcpy((uint8_t *)key + 32, &tail, 8);
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

/* 64-bit hash of a canonical key: multiply-add of its five words, one final mix. */
EP_INLINE uint64_t ep_flow_key_hash(const struct ep_flow_key *key)
{
	uint64_t w[5];

	__builtin_memcpy(w, key, sizeof(w));
	w[4] &= EP_FLOW_KEY_TAIL_MASK;
	return ep_mix64((w[0] * 0x9e3779b97f4a7c15ULL) ^ (w[1] * 0xc2b2ae3d27d4eb4fULL) ^
			(w[2] * 0x165667b19e3779f9ULL) ^ (w[3] * 0x27d4eb2f165667c5ULL) ^
			(w[4] * 0x94d049bb133111ebULL));
}

#if defined(__SSE2__) && !defined(__bpf__)
#include <emmintrin.h>

/* Two 16-byte compares and one 8-byte compare. */
EP_INLINE int ep_flow_key_eq(const struct ep_flow_key *x, const struct ep_flow_key *y)
{
	__m128i a = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)x),
				   _mm_loadu_si128((const __m128i *)(const void *)y));
	__m128i b = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)x + 1),
				   _mm_loadu_si128((const __m128i *)(const void *)y + 1));
	uint64_t c, d;

	__builtin_memcpy(&c, (const uint8_t *)x + 32, 8);
	__builtin_memcpy(&d, (const uint8_t *)y + 32, 8);
	return _mm_movemask_epi8(_mm_and_si128(a, b)) == 0xffff && !((c ^ d) & EP_FLOW_KEY_TAIL_MASK);
}
#else
EP_INLINE int ep_flow_key_eq(const struct ep_flow_key *x, const struct ep_flow_key *y)
{
	uint64_t a[5], b[5];

	__builtin_memcpy(a, x, sizeof(a));
	__builtin_memcpy(b, y, sizeof(b));
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		((a[4] ^ b[4]) & EP_FLOW_KEY_TAIL_MASK)) == 0;
}
#endif

#endif /* EP_FLOW_KEY_H */
