/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_parse.h - bounds-checked packet parser: Ethernet, VLAN/QinQ, MPLS, PPPoE,
 * IPv4 (with options), IPv6 (with a bounded extension header chain) and TCP
 * with its options.
 *
 * Header-only and free of allocation, libc calls and unbounded loops, so that
 * the same code compiles for the userspace probes and for the BPF programs
 * (ebpf/): headers are read through ep_frame_at() only.  Every rejection
 * returns one EP_PARSE_* class; callers count them by class.
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

#define EP_ETH_P_IP 0x0800
#define EP_ETH_P_IPV6 0x86DD
#define EP_ETH_P_8021Q 0x8100
#define EP_ETH_P_8021AD 0x88A8
#define EP_ETH_P_QINQ_OLD 0x9100
#define EP_ETH_P_MPLS_UC 0x8847
#define EP_ETH_P_MPLS_MC 0x8848
#define EP_ETH_P_PPPOE_SES 0x8864

/*
 * The frame being parsed, and the one primitive the parser reads it with:
 * ep_frame_at(fr, off, n, scratch) returns n readable bytes at offset off, or
 * NULL when the frame is shorter.  Userspace points into the frame (no copy);
 * a BPF program copies them into the caller's scratch buffer with the load
 * helper of its context (skb or XDP), the form the verifier accepts for
 * variable offsets.  Every header below is read through it, so the bounds
 * checks are the same code in every probe.
 */
#define EP_PARSE_SCRATCH 80 /* 64 addressable by a masked index + slack for a 16-byte read */

#ifdef __bpf__
struct ep_frame {
	void *ctx;      /* struct __sk_buff * or struct xdp_md * */
	uint32_t len;   /* frame length */
	uint8_t xdp;    /* ctx is an xdp_md */
	uint8_t vlans;  /* VLAN tags already taken out of the frame (skb metadata) */
};

EP_INLINE const uint8_t *ep_frame_at(const struct ep_frame *fr, uint32_t off, uint32_t n,
				     uint8_t *scratch)
{
	long r = fr->xdp ? bpf_xdp_load_bytes(fr->ctx, off, scratch, n)
			 : bpf_skb_load_bytes(fr->ctx, off, scratch, n);

	return r < 0 ? (const uint8_t *)0 : scratch;
}

/* An index into a scratch buffer the verifier can bound (the mask is a no-op for i < 64). */
EP_INLINE uint32_t ep_idx(uint32_t i)
{
	asm volatile("" : "+r"(i));
	return i & 63;
}
#else
struct ep_frame {
	const uint8_t *data;
	uint32_t len;
	uint8_t vlans;
};

EP_INLINE const uint8_t *ep_frame_at(const struct ep_frame *fr, uint32_t off, uint32_t n,
				     uint8_t *scratch)
{
	(void)scratch;
	return off <= fr->len && n <= fr->len - off ? fr->data + off : (const uint8_t *)0;
}

EP_INLINE uint32_t ep_idx(uint32_t i)
{
	return i; /* callers keep i below 40 */
}
#endif

/* Are n bytes present at off?  (Without reading them.) */
EP_INLINE int ep_frame_has(const struct ep_frame *fr, uint32_t off, uint32_t n)
{
	return off <= fr->len && n <= fr->len - off;
}

#include "ep_parse_tcp.h"

/* An IPv4 header's addresses from p (20 bytes, checked). */
EP_INLINE void ep_ipv4_addrs(const uint8_t *p, struct ep_pkt *pkt)
{
	pkt->family = 4;
	__builtin_memset(pkt->src, 0, 16);
	__builtin_memset(pkt->dst, 0, 16);
	__builtin_memcpy(pkt->src, p + 12, 4);
	__builtin_memcpy(pkt->dst, p + 16, 4);
}

/*
 * The walk is staged so that each layer's code appears once, whatever the
 * path to it (VLAN, MPLS, PPPoE; IPv6 extension headers): link layer ->
 * (IP version, offset) -> IP layer -> (TCP offset, length) -> TCP.  One copy
 * of each keeps the BPF verifier's work linear in the header depth.
 */

/* IPv4 at *off: on EP_PARSE_OK, *off and *len give the TCP segment. */
EP_INLINE enum ep_parse_res ep_parse_ipv4(const struct ep_frame *fr, uint32_t *off, uint32_t *len,
					  struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p = ep_frame_at(fr, *off, 20, sb);
	uint32_t hlen, tot;

	if (!p)
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) != 4)
		return EP_PARSE_BAD_IP_VERSION;
	hlen = (uint32_t)(p[0] & 0x0f) * 4;
	if (hlen < 20)
		return EP_PARSE_BAD_IP_HLEN;
	tot = ep_be16(p + 2);
	if (tot < hlen)
		return EP_PARSE_BAD_IP_LEN;
	if (!ep_frame_has(fr, *off, hlen))
		return EP_PARSE_TRUNC_IP;
	if (ep_be16(p + 6) & 0x3fff) /* MF set or a fragment offset */
		return EP_PARSE_FRAGMENT;
	if (p[9] != 6)
		return EP_PARSE_NOT_TCP;
	ep_ipv4_addrs(p, pkt);
	*off += hlen;
	*len = tot - hlen;
	return EP_PARSE_OK;
}

/* IPv6 and its extension headers at *off: on EP_PARSE_OK, *off and *len give the TCP segment. */
EP_INLINE enum ep_parse_res ep_parse_ipv6(const struct ep_frame *fr, uint32_t *off, uint32_t *len,
					  struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p = ep_frame_at(fr, *off, 40, sb);
	uint32_t plen, nh, i, o = *off + 40;

	if (!p)
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) != 6)
		return EP_PARSE_BAD_IP_VERSION;
	plen = ep_be16(p + 4);
	nh = p[6];
	pkt->family = 6;
	__builtin_memcpy(pkt->src, p + 8, 16);
	__builtin_memcpy(pkt->dst, p + 24, 16);
	for (i = 0; i < EP_IPV6_MAX_EXT + 1; i++) {
		uint32_t elen;

		switch (nh) {
		case 6:
			*off = o;
			*len = plen;
			return EP_PARSE_OK;
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
		case 51: /* authentication header */
			if (i == EP_IPV6_MAX_EXT)
				return EP_PARSE_TOO_MANY_EXTHDRS;
			p = ep_frame_at(fr, o, 8, sb);
			if (!p)
				return EP_PARSE_TRUNC_EXTHDR;
			elen = nh == 51 ? ((uint32_t)p[1] + 2) * 4 : ((uint32_t)p[1] + 1) * 8;
			if (elen > plen)
				return EP_PARSE_BAD_IP_LEN;
			if (!ep_frame_has(fr, o, elen))
				return EP_PARSE_TRUNC_EXTHDR;
			nh = p[0];
			o += elen;
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

/*
 * The link layer after an EtherType (type) at *off: VLAN tags, MPLS, PPPoE.
 * On EP_PARSE_OK, *off is the IP header and *ver its version (4 or 6).
 */
EP_INLINE enum ep_parse_res ep_parse_l2(const struct ep_frame *fr, uint16_t type, uint32_t *off,
					uint32_t *ver, struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p;
	uint32_t i, o = *off;

	pkt->vlans = fr->vlans;
	pkt->mpls = 0;
	pkt->pppoe = 0;
	for (i = 0; i < EP_VLAN_MAX_DEPTH + 1; i++) {
		if (type != EP_ETH_P_8021Q && type != EP_ETH_P_8021AD && type != EP_ETH_P_QINQ_OLD)
			break;
		if (pkt->vlans >= EP_VLAN_MAX_DEPTH)
			return EP_PARSE_TOO_MANY_VLANS;
		p = ep_frame_at(fr, o, 4, sb);
		if (!p)
			return EP_PARSE_TRUNC_L2;
		type = ep_be16(p + 2);
		o += 4;
		pkt->vlans++;
	}
	switch (type) {
	case EP_ETH_P_IP:
		*ver = 4;
		break;
	case EP_ETH_P_IPV6:
		*ver = 6;
		break;
	case EP_ETH_P_MPLS_UC:
	case EP_ETH_P_MPLS_MC:
		for (i = 0; i < EP_MPLS_MAX_DEPTH; i++) {
			p = ep_frame_at(fr, o, 4, sb);
			if (!p)
				return EP_PARSE_TRUNC_L2;
			pkt->mpls++;
			o += 4;
			if (p[2] & 0x01) /* bottom of stack */
				break;
		}
		if (i == EP_MPLS_MAX_DEPTH)
			return EP_PARSE_TOO_MANY_MPLS;
		p = ep_frame_at(fr, o, 1, sb);
		if (!p)
			return EP_PARSE_TRUNC_L2;
		if ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)
			return EP_PARSE_NOT_IP; /* pseudowire or other payload */
		*ver = p[0] >> 4;
		break;
	case EP_ETH_P_PPPOE_SES: {
		uint16_t proto;

		p = ep_frame_at(fr, o, 7, sb);
		if (!p)
			return EP_PARSE_TRUNC_L2;
		if (p[0] != 0x11 || p[1] != 0x00) /* version 1, type 1, code 0 (session data) */
			return EP_PARSE_BAD_PPPOE;
		if (ep_be16(p + 4) < 1)
			return EP_PARSE_BAD_PPPOE;
		if (p[6] & 1) { /* protocol field compression: one odd byte */
			proto = p[6];
			o += 7;
		} else {
			p = ep_frame_at(fr, o, 8, sb);
			if (!p)
				return EP_PARSE_TRUNC_L2;
			proto = ep_be16(p + 6);
			o += 8;
		}
		pkt->pppoe = 1;
		if (proto == 0x0021)
			*ver = 4;
		else if (proto == 0x0057)
			*ver = 6;
		else
			return EP_PARSE_NOT_IP;
		break;
	}
	default:
		return EP_PARSE_NOT_IP;
	}
	*off = o;
	return EP_PARSE_OK;
}

/* IP (version ver) and then TCP, from off. */
EP_INLINE enum ep_parse_res ep_parse_l3(const struct ep_frame *fr, uint32_t ver, uint32_t off,
					struct ep_pkt *pkt)
{
	enum ep_parse_res r;
	uint32_t len = 0;

	if (ver == 4)
		r = ep_parse_ipv4(fr, &off, &len, pkt);
	else
		r = ep_parse_ipv6(fr, &off, &len, pkt);
	if (r != EP_PARSE_OK)
		return r;
	return ep_parse_tcp(fr, off, len, pkt);
}

/* An IP packet at off whose version is read from its first nibble (raw captures). */
EP_INLINE enum ep_parse_res ep_parse_ip_at(const struct ep_frame *fr, uint32_t off,
					   struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p = ep_frame_at(fr, off, 1, sb);

	if (!p)
		return EP_PARSE_TRUNC_IP;
	if ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)
		return EP_PARSE_BAD_IP_VERSION;
	return ep_parse_l3(fr, p[0] >> 4, off, pkt);
}

/* Everything after an EtherType (type) at off: VLAN tags, MPLS, PPPoE, IP, TCP. */
EP_INLINE enum ep_parse_res ep_parse_l2_at(const struct ep_frame *fr, uint16_t type, uint32_t off,
					   struct ep_pkt *pkt)
{
	uint32_t ver = 0;
	enum ep_parse_res r = ep_parse_l2(fr, type, &off, &ver, pkt);

	if (r != EP_PARSE_OK)
		return r;
	return ep_parse_l3(fr, ver, off, pkt);
}

#ifndef __bpf__
/*
 * The common frame in one read: Ethernet, IPv4 without options, not a
 * fragment, TCP with no options or with Linux's NOP, NOP, timestamps.  Fills
 * pkt exactly as the full walk would and returns 1; 0 when the frame is
 * anything else (the full walk then decides, classes and all).  Userspace
 * only: in BPF two longer copies cost more than the walk's five short ones
 * (measured with BPF_PROG_TEST_RUN), so the programs take the walk.
 */
EP_INLINE int ep_parse_fast(const struct ep_frame *fr, struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p = ep_frame_at(fr, 0, 54, sb);
	uint32_t tot, doff;

	if (!p || ep_be16(p + 12) != EP_ETH_P_IP || p[14] != 0x45 || p[23] != 6 ||
	    (ep_be16(p + 20) & 0x3fff))
		return 0;
	tot = ep_be16(p + 16);
	doff = (uint32_t)(p[46] >> 4) * 4;
	if (doff == 20) {
		if (tot < 40)
			return 0;
		ep_tcp_fields(p + 34, tot - 20, doff, pkt);
	} else if (doff == 32) {
		if (tot < 52 || !ep_frame_has(fr, 0, 66) || ep_be32(p + 54) != 0x0101080au)
			return 0;
		ep_tcp_fields(p + 34, tot - 20, doff, pkt);
		pkt->tsval = ep_be32(p + 58);
		pkt->tsecr = ep_be32(p + 62);
		pkt->opts = EP_OPT_TS;
	} else {
		return 0;
	}
	pkt->vlans = fr->vlans;
	pkt->mpls = 0;
	pkt->pppoe = 0;
	ep_ipv4_addrs(p + 14, pkt);
	return 1;
}
#endif

/* An Ethernet II frame. */
EP_INLINE enum ep_parse_res ep_parse_frame(const struct ep_frame *fr, struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p;

#ifndef __bpf__
	if (EP_LIKELY(ep_parse_fast(fr, pkt)))
		return EP_PARSE_OK;
#endif
	p = ep_frame_at(fr, 0, 14, sb);
	if (!p)
		return EP_PARSE_TRUNC_L2;
	return ep_parse_l2_at(fr, ep_be16(p + 12), 14, pkt);
}

#ifndef __bpf__
/* True when fewer than n bytes remain at p (link-layer headers the probes read themselves). */
#define EP_SHORT(p, n, end) ((size_t)((const uint8_t *)(end) - (const uint8_t *)(p)) < (size_t)(n))

/* Userspace entry points on a byte range [p, end). */
EP_INLINE struct ep_frame ep_frame_of(const uint8_t *p, const uint8_t *end)
{
	struct ep_frame fr = {p, (uint32_t)(end - p), 0};

	return fr;
}

EP_INLINE enum ep_parse_res ep_parse_eth(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	struct ep_frame fr = ep_frame_of(p, end);

	return ep_parse_frame(&fr, pkt);
}

EP_INLINE enum ep_parse_res ep_parse_ip(const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	struct ep_frame fr = ep_frame_of(p, end);

	return ep_parse_ip_at(&fr, 0, pkt);
}

/* Linux cooked captures and others that give the EtherType and then the payload. */
EP_INLINE enum ep_parse_res ep_parse_ethertype(uint16_t type, const uint8_t *p, const uint8_t *end,
					       struct ep_pkt *pkt)
{
	struct ep_frame fr = ep_frame_of(p, end);

	return ep_parse_l2_at(&fr, type, 0, pkt);
}
#endif

#endif /* EP_PARSE_H */
