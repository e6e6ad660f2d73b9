/* SPDX-License-Identifier: BSD-3-Clause */
/* test_parse.c - the packet parser: encapsulations, options and every malformation class. */
#include "check.h"
#include "edgeprobe/ep_parse.h"
#include "pktbuild.h"

static const uint8_t full_opts[] = {
	2, 4, 0x05, 0xb4,                   /* MSS 1460 */
	1, 3, 3, 7,                         /* NOP, window scale 7 */
	4, 2, 1, 1,                         /* SACK permitted, NOP, NOP */
	8, 10, 0, 0, 0, 100, 0, 0, 0, 200,  /* timestamps 100 / 200 */
	1, 1,                               /* NOP NOP */
	5, 10, 0, 0, 0, 1, 0, 0, 0, 2,      /* SACK, 1 block */
	1, 1,                               /* 36 bytes in all */
};

static enum ep_parse_res parse(const struct fb *f, struct ep_pkt *p)
{
	return ep_parse_eth(f->b, f->b + f->n, p);
}

/* Ethernet/IPv4/TCP with 10 bytes of payload; ip_opt_words of IPv4 options. */
static void v4_frame(struct fb *f, int ip_opt_words, const uint8_t *opts, size_t optlen)
{
	f->n = 0;
	fb_eth(f, 0x0800);
	fb_ipv4(f, 0xc0000201, 0xc6336401, ip_opt_words, 0x4000, 6, (uint16_t)(20 + optlen + 10));
	fb_tcp(f, 443, 50000, 1000, 2000, EP_TCP_ACK | EP_TCP_PSH, opts, optlen);
	fb_zero(f, 10);
}

static void test_ipv4_options(void)
{
	struct fb f;
	struct ep_pkt p;

	v4_frame(&f, 2, full_opts, sizeof(full_opts));
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);
	CHECK_EQ(p.family, 4);
	CHECK_EQ(p.src[0], 192);
	CHECK_EQ(p.dst[3], 1);
	CHECK_EQ(p.sport, 443);
	CHECK_EQ(p.dport, 50000);
	CHECK_EQ(p.seq, 1000);
	CHECK_EQ(p.ack, 2000);
	CHECK_EQ(p.payload_len, 10);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(p.wscale, 7);
	CHECK_EQ(p.tsval, 100);
	CHECK_EQ(p.tsecr, 200);
	CHECK_EQ(p.sack_blocks, 1);
	CHECK_EQ(p.opts, EP_OPT_MSS | EP_OPT_WSCALE | EP_OPT_SACKOK | EP_OPT_TS | EP_OPT_SACK);
}

static void test_truncation(void)
{
	struct fb f, t;
	struct ep_pkt p;
	size_t hdr = 14 + 20 + 20 + sizeof(full_opts), cut;

	v4_frame(&f, 0, full_opts, sizeof(full_opts));
	/* Any cut inside the headers is a truncation class; a cut payload is fine. */
	for (cut = 0; cut <= f.n; cut++) {
		enum ep_parse_res r;

		t = f;
		t.n = cut;
		r = parse(&t, &p);
		if (cut < 14)
			CHECK_EQ(r, EP_PARSE_TRUNC_L2);
		else if (cut < 34)
			CHECK_EQ(r, EP_PARSE_TRUNC_IP);
		else if (cut < hdr)
			CHECK_EQ(r, EP_PARSE_TRUNC_TCP);
		else
			CHECK_EQ(r, EP_PARSE_OK);
	}
}

static void test_bad_lengths(void)
{
	struct fb f;
	struct ep_pkt p;
	uint8_t bad_len0[] = {2, 0, 0, 0};
	uint8_t bad_len_over[] = {1, 1, 8, 10}; /* TS claims 10 bytes, 2 remain */
	uint8_t bad_mss[] = {2, 3, 0, 1};
	uint8_t bad_sack[] = {5, 6, 0, 0, 0, 0, 1, 1};
	uint8_t one_byte[] = {1, 1, 1, 3};      /* kind 3 with no length byte */
	uint8_t eol[] = {0, 2, 0, 0};            /* EOL stops parsing */

	v4_frame(&f, 0, bad_len0, 4);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_OPTLEN);
	v4_frame(&f, 0, bad_len_over, 4);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_OPTLEN);
	v4_frame(&f, 0, bad_mss, 4);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_OPTLEN);
	v4_frame(&f, 0, bad_sack, 8);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_OPTLEN);
	v4_frame(&f, 0, one_byte, 4);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_OPTLEN);
	v4_frame(&f, 0, eol, 4);
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);

	/* IP header length below 20. */
	v4_frame(&f, 0, NULL, 0);
	f.b[14] = 0x44;
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_IP_HLEN);
	/* Total length below the header length. */
	v4_frame(&f, 0, NULL, 0);
	f.b[16] = 0;
	f.b[17] = 19;
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_IP_LEN);
	/* IP version 5 on an IPv4 EtherType. */
	v4_frame(&f, 0, NULL, 0);
	f.b[14] = 0x55;
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_IP_VERSION);
	/* TCP data offset 4 words, and larger than the IP payload. */
	v4_frame(&f, 0, NULL, 0);
	f.b[14 + 20 + 12] = 0x40;
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_DOFF);
	v4_frame(&f, 0, NULL, 0);
	f.b[14 + 20 + 12] = 0xf0; /* 60 bytes, IP says 30 */
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_TCP_DOFF);
	/* Fragments: MF set, or an offset. */
	v4_frame(&f, 0, NULL, 0);
	f.b[20] = 0x20;
	CHECK_EQ(parse(&f, &p), EP_PARSE_FRAGMENT);
	v4_frame(&f, 0, NULL, 0);
	f.b[20] = 0x00;
	f.b[21] = 0x10;
	CHECK_EQ(parse(&f, &p), EP_PARSE_FRAGMENT);
	/* UDP, ARP. */
	v4_frame(&f, 0, NULL, 0);
	f.b[14 + 9] = 17;
	CHECK_EQ(parse(&f, &p), EP_PARSE_NOT_TCP);
	v4_frame(&f, 0, NULL, 0);
	f.b[12] = 0x08;
	f.b[13] = 0x06;
	CHECK_EQ(parse(&f, &p), EP_PARSE_NOT_IP);
}

static void test_vlan_qinq(void)
{
	struct fb f, inner;
	struct ep_pkt p;

	v4_frame(&inner, 0, NULL, 0);
	/* 802.1ad outer + 802.1Q inner. */
	f.n = 0;
	fb_zero(&f, 12);
	fb_u16(&f, 0x88a8);
	fb_u16(&f, 100);
	fb_u16(&f, 0x8100);
	fb_u16(&f, 200);
	fb_u16(&f, 0x0800);
	fb_bytes(&f, inner.b + 14, inner.n - 14);
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);
	CHECK_EQ(p.vlans, 2);
	CHECK_EQ(p.sport, 443);
	/* A third tag. */
	f.n = 0;
	fb_zero(&f, 12);
	fb_u16(&f, 0x88a8);
	fb_u16(&f, 1);
	fb_u16(&f, 0x8100);
	fb_u16(&f, 2);
	fb_u16(&f, 0x8100);
	fb_u16(&f, 3);
	fb_u16(&f, 0x0800);
	fb_bytes(&f, inner.b + 14, inner.n - 14);
	CHECK_EQ(parse(&f, &p), EP_PARSE_TOO_MANY_VLANS);
	/* A tag cut short. */
	f.n = 16;
	CHECK_EQ(parse(&f, &p), EP_PARSE_TRUNC_L2);
}

static void test_mpls(void)
{
	struct fb f, inner;
	struct ep_pkt p;
	int i;

	v4_frame(&inner, 0, NULL, 0);
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_u32(&f, (16u << 12) | 64);         /* label 16, not bottom */
	fb_u32(&f, (17u << 12) | 0x100 | 64); /* label 17, bottom of stack */
	fb_bytes(&f, inner.b + 14, inner.n - 14);
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);
	CHECK_EQ(p.mpls, 2);
	CHECK_EQ(p.dport, 50000);

	f.n = 0;
	fb_eth(&f, 0x8847);
	for (i = 0; i < EP_MPLS_MAX_DEPTH + 1; i++)
		fb_u32(&f, (uint32_t)(16 + i) << 12);
	fb_bytes(&f, inner.b + 14, inner.n - 14);
	CHECK_EQ(parse(&f, &p), EP_PARSE_TOO_MANY_MPLS);

	/* Bottom of stack followed by an Ethernet pseudowire control word. */
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_u32(&f, (17u << 12) | 0x100 | 64);
	fb_u32(&f, 0);
	CHECK_EQ(parse(&f, &p), EP_PARSE_NOT_IP);
}

static void test_pppoe(void)
{
	struct fb f, inner;
	struct ep_pkt p;

	v4_frame(&inner, 0, NULL, 0);
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_u8(&f, 0x11);
	fb_u8(&f, 0);
	fb_u16(&f, 0x1234);
	fb_u16(&f, (uint16_t)(inner.n - 14 + 2));
	fb_u16(&f, 0x0021);
	fb_bytes(&f, inner.b + 14, inner.n - 14);
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);
	CHECK_EQ(p.pppoe, 1);
	/* The same with protocol field compression (one byte, 0x21). */
	{
		struct fb g;

		g.n = 0;
		fb_eth(&g, 0x8864);
		fb_u8(&g, 0x11);
		fb_u8(&g, 0);
		fb_u16(&g, 0x1234);
		fb_u16(&g, (uint16_t)(inner.n - 14 + 1));
		fb_u8(&g, 0x21);
		fb_bytes(&g, inner.b + 14, inner.n - 14);
		CHECK_EQ(parse(&g, &p), EP_PARSE_OK);
		CHECK_EQ(p.sport, 443);
	}
	f.b[14] = 0x12; /* bad version/type */
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_PPPOE);
	f.b[14] = 0x11;
	f.b[20] = 0xc0; /* LCP, not IP */
	f.b[21] = 0x21;
	CHECK_EQ(parse(&f, &p), EP_PARSE_NOT_IP);
}

static void test_ipv6_ext(void)
{
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};
	struct fb f;
	struct ep_pkt p;
	int i;

	/* hop-by-hop (8) -> routing (24) -> destination options (16) -> TCP */
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 0, 8 + 24 + 16 + 20 + 5);
	fb_u8(&f, 43); fb_u8(&f, 0); fb_zero(&f, 6);
	fb_u8(&f, 60); fb_u8(&f, 2); fb_zero(&f, 22);
	fb_u8(&f, 6); fb_u8(&f, 1); fb_zero(&f, 14);
	fb_tcp(&f, 80, 40000, 5, 6, EP_TCP_ACK, NULL, 0);
	fb_zero(&f, 5);
	CHECK_EQ(parse(&f, &p), EP_PARSE_OK);
	CHECK_EQ(p.family, 6);
	CHECK_EQ(p.src[3], 0xb8);
	CHECK_EQ(p.dst[15], 2);
	CHECK_EQ(p.payload_len, 5);

	/* Too many extension headers. */
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 60, (uint16_t)(8 * (EP_IPV6_MAX_EXT + 1) + 20));
	for (i = 0; i < EP_IPV6_MAX_EXT + 1; i++) {
		fb_u8(&f, i == EP_IPV6_MAX_EXT ? 6 : 60);
		fb_u8(&f, 0);
		fb_zero(&f, 6);
	}
	fb_tcp(&f, 80, 40000, 5, 6, EP_TCP_ACK, NULL, 0);
	CHECK_EQ(parse(&f, &p), EP_PARSE_TOO_MANY_EXTHDRS);

	/* Fragment header; extension header beyond the capture; beyond the payload length. */
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 44, 28);
	fb_u8(&f, 6); fb_zero(&f, 7);
	fb_tcp(&f, 80, 40000, 5, 6, EP_TCP_ACK, NULL, 0);
	CHECK_EQ(parse(&f, &p), EP_PARSE_FRAGMENT);
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 0, 200);
	fb_u8(&f, 6); fb_u8(&f, 3);
	CHECK_EQ(parse(&f, &p), EP_PARSE_TRUNC_EXTHDR);
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 0, 8);
	fb_u8(&f, 6); fb_u8(&f, 3); fb_zero(&f, 30);
	CHECK_EQ(parse(&f, &p), EP_PARSE_BAD_IP_LEN);
	/* ICMPv6. */
	f.n = 0;
	fb_eth(&f, 0x86dd);
	fb_ipv6(&f, a, b, 58, 8);
	fb_zero(&f, 8);
	CHECK_EQ(parse(&f, &p), EP_PARSE_NOT_TCP);
}

int main(void)
{
	test_ipv4_options();
	test_truncation();
	test_bad_lengths();
	test_vlan_qinq();
	test_mpls();
	test_pppoe();
	test_ipv6_ext();
	CHECK_DONE();
}
