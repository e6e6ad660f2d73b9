/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_parse.h - bounds-checked packet parser: Ethernet, VLAN/QinQ, MPLS, PPPoE,
 * IPv4 (with options), IPv6 (with a bounded extension header chain) and TCP
 * with its options.
 *
 * Header-only and free of allocation, libc calls and unbounded loops, so that
 * the same code compiles for userspace probes and for BPF programs.  Every
 * rejection returns one EP_PARSE_* class; callers count them by class.
 */
#ifndef EP_PARSE_H
#define EP_PARSE_H

#include "ep_types.h"

#ifndef EP_VLAN_MAX_DEPTH
#define EP_VLAN_MAX_DEPTH 2
#endif
#ifndef EP_MPLS_MAX_DEPTH
#define EP_MPLS_MAX_DEPTH 8
#endif
#ifndef EP_IPV6_MAX_EXT
#define EP_IPV6_MAX_EXT 8
#endif
#define EP_TCP_MAX_OPT_BYTES 40

/*
 * Parse outcomes.  X(name, counter_name, is_malformed).  The first three are
 * not errors; the rest are malformation classes, each with its own counter.
 */
#define EP_PARSE_RESULTS(X)                                                                        \
	X(OK, "tcp", 0)                                                                            \
	X(NOT_IP, "not_ip", 0)                                                                     \
	X(NOT_TCP, "not_tcp", 0)                                                                   \
	X(FRAGMENT, "fragment", 0)                                                                 \
	X(TRUNC_L2, "trunc_l2", 1)                                                                 \
	X(TOO_MANY_VLANS, "too_many_vlans", 1)                                                     \
	X(TOO_MANY_MPLS, "too_many_mpls", 1)                                                       \
	X(BAD_PPPOE, "bad_pppoe", 1)                                                               \
	X(TRUNC_IP, "trunc_ip", 1)                                                                 \
	X(BAD_IP_VERSION, "bad_ip_version", 1)                                                     \
	X(BAD_IP_HLEN, "bad_ip_hlen", 1)                                                           \
	X(BAD_IP_LEN, "bad_ip_len", 1)                                                             \
	X(TOO_MANY_EXTHDRS, "too_many_exthdrs", 1)                                                 \
	X(TRUNC_EXTHDR, "trunc_exthdr", 1)                                                         \
	X(TRUNC_TCP, "trunc_tcp", 1)                                                               \
	X(BAD_TCP_DOFF, "bad_tcp_doff", 1)                                                         \
	X(BAD_TCP_OPTLEN, "bad_tcp_optlen", 1)

enum ep_parse_res {
#define EP_X(n, s, m) EP_PARSE_##n,
	EP_PARSE_RESULTS(EP_X)
#undef EP_X
	EP_PARSE__COUNT
};

/* TCP header flags. */
#define EP_TCP_FIN 0x01
#define EP_TCP_SYN 0x02
#define EP_TCP_RST 0x04
#define EP_TCP_PSH 0x08
#define EP_TCP_ACK 0x10

/* Options seen on a segment (ep_pkt.opts). */
#define EP_OPT_MSS 0x01
#define EP_OPT_WSCALE 0x02
#define EP_OPT_SACKOK 0x04
#define EP_OPT_SACK 0x08
#define EP_OPT_TS 0x10

/* One parsed TCP segment.  IPv4 addresses occupy the first 4 bytes. */
struct ep_pkt {
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t family; /* 4 or 6 */
	uint8_t flags;  /* EP_TCP_* */
	uint8_t opts;   /* EP_OPT_* */
	uint8_t wscale;
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint16_t win;
	uint16_t mss;
	uint32_t payload_len; /* TCP payload bytes from the IP lengths, not the capture length */
	uint32_t tsval;
	uint32_t tsecr;
	uint8_t sack_blocks;
	uint8_t vlans;  /* VLAN tags crossed */
	uint8_t mpls;   /* MPLS labels crossed */
	uint8_t pppoe;  /* 1 when inside a PPPoE session */
};

/* True when fewer than n bytes remain at p.  Cannot overflow in userspace. */
#ifdef __bpf__
#define EP_SHORT(p, n, end) ((const uint8_t *)(p) + (n) > (const uint8_t *)(end))
#else
#define EP_SHORT(p, n, end) ((size_t)((const uint8_t *)(end) - (const uint8_t *)(p)) < (size_t)(n))
#endif

#define EP_ETH_P_IP 0x0800
#define EP_ETH_P_IPV6 0x86DD
#define EP_ETH_P_8021Q 0x8100
#define EP_ETH_P_8021AD 0x88A8
#define EP_ETH_P_QINQ_OLD 0x9100
#define EP_ETH_P_MPLS_UC 0x8847
#define EP_ETH_P_MPLS_MC 0x8848
#define EP_ETH_P_PPPOE_SES 0x8864

/* TCP header and options at p; ip_payload is the segment length the IP layer declares. */
EP_INLINE enum ep_parse_res ep_parse_tcp(const uint8_t *p, const uint8_t *end, uint32_t ip_payload,
					 struct ep_pkt *pkt)
{
	uint32_t doff, i, olen;
	const uint8_t *o;

	if (EP_SHORT(p, 20, end) || ip_payload < 20)
		return EP_PARSE_TRUNC_TCP;
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > ip_payload)
		return EP_PARSE_BAD_TCP_DOFF;
	if (EP_SHORT(p, doff, end))
		return EP_PARSE_TRUNC_TCP;
	pkt->sport = ep_be16(p);
	pkt->dport = ep_be16(p + 2);
	pkt->seq = ep_be32(p + 4);
	pkt->ack = ep_be32(p + 8);
	pkt->flags = p[13];
	pkt->win = ep_be16(p + 14);
	pkt->payload_len = ip_payload - doff;
	pkt->opts = 0;
	pkt->sack_blocks = 0;

	o = p + 20;
	olen = doff - 20;
	/* The layout Linux sends on every segment: NOP, NOP, timestamps. */
	if (olen == 12 && ep_be32(o) == 0x0101080au) {
		pkt->tsval = ep_be32(o + 4);
		pkt->tsecr = ep_be32(o + 8);
		pkt->opts = EP_OPT_TS;
		return EP_PARSE_OK;
	}
	/* Options: each iteration consumes at least one byte of at most 40. */
	for (i = 0; i < EP_TCP_MAX_OPT_BYTES && olen > 0; i++) {
		uint8_t kind = o[0], len;

		if (kind == 0) /* end of option list */
			break;
		if (kind == 1) { /* NOP */
			o++;
			olen--;
			continue;
		}
		if (olen < 2)
			return EP_PARSE_BAD_TCP_OPTLEN;
		len = o[1];
		if (len < 2 || len > olen)
			return EP_PARSE_BAD_TCP_OPTLEN;
		switch (kind) {
		case 2:
			if (len != 4)
				return EP_PARSE_BAD_TCP_OPTLEN;
			pkt->mss = ep_be16(o + 2);
			pkt->opts |= EP_OPT_MSS;
			break;
		case 3:
			if (len != 3)
				return EP_PARSE_BAD_TCP_OPTLEN;
			pkt->wscale = o[2];
			pkt->opts |= EP_OPT_WSCALE;
			break;
		case 4:
			if (len != 2)
				return EP_PARSE_BAD_TCP_OPTLEN;
			pkt->opts |= EP_OPT_SACKOK;
			break;
		case 5:
			if (len < 10 || (len - 2) % 8 != 0)
				return EP_PARSE_BAD_TCP_OPTLEN;
			pkt->sack_blocks = (uint8_t)((len - 2) / 8);
			pkt->opts |= EP_OPT_SACK;
			break;
		case 8:
			if (len != 10)
				return EP_PARSE_BAD_TCP_OPTLEN;
			pkt->tsval = ep_be32(o + 2);
			pkt->tsecr = ep_be32(o + 6);
			pkt->opts |= EP_OPT_TS;
			break;
		default:
			break;
		}
		o += len;
		olen -= len;
	}
	return EP_PARSE_OK;
}

EP_INLINE enum ep_parse_res ep_parse_ipv4(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	uint32_t hlen, tot;

	if (EP_SHORT(p, 20, end))
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) != 4)
		return EP_PARSE_BAD_IP_VERSION;
	hlen = (uint32_t)(p[0] & 0x0f) * 4;
	if (hlen < 20)
		return EP_PARSE_BAD_IP_HLEN;
	tot = ep_be16(p + 2);
	if (tot < hlen)
		return EP_PARSE_BAD_IP_LEN;
	if (EP_SHORT(p, hlen, end))
		return EP_PARSE_TRUNC_IP;
	if (ep_be16(p + 6) & 0x3fff) /* MF set or a fragment offset */
		return EP_PARSE_FRAGMENT;
	if (p[9] != 6)
		return EP_PARSE_NOT_TCP;
	pkt->family = 4;
	__builtin_memset(pkt->src, 0, 16);
	__builtin_memset(pkt->dst, 0, 16);
	__builtin_memcpy(pkt->src, p + 12, 4);
	__builtin_memcpy(pkt->dst, p + 16, 4);
	return ep_parse_tcp(p + hlen, end, tot - hlen, pkt);
}

EP_INLINE enum ep_parse_res ep_parse_ipv6(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	uint32_t plen;
	uint8_t nh;
	int i;

	if (EP_SHORT(p, 40, end))
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) != 6)
		return EP_PARSE_BAD_IP_VERSION;
	plen = ep_be16(p + 4);
	nh = p[6];
	pkt->family = 6;
	__builtin_memcpy(pkt->src, p + 8, 16);
	__builtin_memcpy(pkt->dst, p + 24, 16);
	p += 40;
	for (i = 0; i < EP_IPV6_MAX_EXT + 1; i++) {
		uint32_t elen;

		switch (nh) {
		case 6:
			return ep_parse_tcp(p, end, plen, pkt);
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
		case 51: /* authentication header */
			if (i == EP_IPV6_MAX_EXT)
				return EP_PARSE_TOO_MANY_EXTHDRS;
			if (EP_SHORT(p, 8, end))
				return EP_PARSE_TRUNC_EXTHDR;
			elen = nh == 51 ? ((uint32_t)p[1] + 2) * 4 : ((uint32_t)p[1] + 1) * 8;
			if (elen > plen)
				return EP_PARSE_BAD_IP_LEN;
			if (EP_SHORT(p, elen, end))
				return EP_PARSE_TRUNC_EXTHDR;
			nh = p[0];
			p += elen;
			plen -= elen;
			break;
		case 44:
			return EP_PARSE_FRAGMENT;
		default:
			return EP_PARSE_NOT_TCP;
		}
	}
	return EP_PARSE_TOO_MANY_EXTHDRS;
}

/* An IP packet whose version is read from its first nibble (raw captures, MPLS payloads). */
EP_INLINE enum ep_parse_res ep_parse_ip(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	if (EP_SHORT(p, 1, end))
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) == 4)
		return ep_parse_ipv4(p, end, pkt);
	if ((p[0] >> 4) == 6)
		return ep_parse_ipv6(p, end, pkt);
	return EP_PARSE_BAD_IP_VERSION;
}

/* Everything after an EtherType: VLAN tags, MPLS, PPPoE, then IP. */
EP_INLINE enum ep_parse_res ep_parse_ethertype(uint16_t type, const uint8_t *p, const uint8_t *end,
					       struct ep_pkt *pkt)
{
	int i;

	pkt->vlans = 0;
	pkt->mpls = 0;
	pkt->pppoe = 0;
	for (i = 0; i < EP_VLAN_MAX_DEPTH + 1; i++) {
		if (type != EP_ETH_P_8021Q && type != EP_ETH_P_8021AD && type != EP_ETH_P_QINQ_OLD)
			break;
		if (i == EP_VLAN_MAX_DEPTH)
			return EP_PARSE_TOO_MANY_VLANS;
		if (EP_SHORT(p, 4, end))
			return EP_PARSE_TRUNC_L2;
		type = ep_be16(p + 2);
		p += 4;
		pkt->vlans++;
	}
	switch (type) {
	case EP_ETH_P_IP:
		return ep_parse_ipv4(p, end, pkt);
	case EP_ETH_P_IPV6:
		return ep_parse_ipv6(p, end, pkt);
	case EP_ETH_P_MPLS_UC:
	case EP_ETH_P_MPLS_MC:
		for (i = 0; i < EP_MPLS_MAX_DEPTH; i++) {
			if (EP_SHORT(p, 4, end))
				return EP_PARSE_TRUNC_L2;
			pkt->mpls++;
			p += 4;
			if (p[-2] & 0x01) /* bottom of stack */
				break;
		}
		if (i == EP_MPLS_MAX_DEPTH)
			return EP_PARSE_TOO_MANY_MPLS;
		if (EP_SHORT(p, 1, end))
			return EP_PARSE_TRUNC_L2;
		if ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)
			return EP_PARSE_NOT_IP; /* pseudowire or other payload */
		return ep_parse_ip(p, end, pkt);
	case EP_ETH_P_PPPOE_SES: {
		uint16_t proto;
		uint32_t hl = 8;

		if (EP_SHORT(p, 7, end))
			return EP_PARSE_TRUNC_L2;
		if (p[0] != 0x11 || p[1] != 0x00) /* version 1, type 1, code 0 (session data) */
			return EP_PARSE_BAD_PPPOE;
		if (ep_be16(p + 4) < 1)
			return EP_PARSE_BAD_PPPOE;
		if (p[6] & 1) { /* protocol field compression: one odd byte */
			proto = p[6];
			hl = 7;
		} else {
			if (EP_SHORT(p, 8, end))
				return EP_PARSE_TRUNC_L2;
			proto = ep_be16(p + 6);
		}
		pkt->pppoe = 1;
		p += hl;
		if (proto == 0x0021)
			return ep_parse_ipv4(p, end, pkt);
		if (proto == 0x0057)
			return ep_parse_ipv6(p, end, pkt);
		return EP_PARSE_NOT_IP;
	}
	default:
		return EP_PARSE_NOT_IP;
	}
}

/* An Ethernet II frame. */
EP_INLINE enum ep_parse_res ep_parse_eth(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	if (EP_SHORT(p, 14, end))
		return EP_PARSE_TRUNC_L2;
	return ep_parse_ethertype(ep_be16(p + 12), p + 14, end, pkt);
}

#endif /* EP_PARSE_H */
