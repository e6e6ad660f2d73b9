/* SPDX-License-Identifier: BSD-3-Clause */
/* pktbuild.h - build test frames byte by byte (Ethernet, VLAN, MPLS, PPPoE, IPv4/6, TCP). */
#ifndef EP_PKTBUILD_H
#define EP_PKTBUILD_H

#include <stdint.h>
#include <string.h>

struct fb {
	uint8_t b[2048];
	size_t n;
};

static inline void fb_u8(struct fb *f, uint8_t v) { f->b[f->n++] = v; }
static inline void fb_u16(struct fb *f, uint16_t v) { fb_u8(f, (uint8_t)(v >> 8)); fb_u8(f, (uint8_t)v); }
static inline void fb_u32(struct fb *f, uint32_t v) { fb_u16(f, (uint16_t)(v >> 16)); fb_u16(f, (uint16_t)v); }
static inline void fb_bytes(struct fb *f, const void *p, size_t n) { if (n) memcpy(f->b + f->n, p, n); f->n += n; }
static inline void fb_zero(struct fb *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }

static inline void fb_eth(struct fb *f, uint16_t type)
{
	fb_zero(f, 12);
	fb_u16(f, type);
}

/* IPv4 header with opt_words 32-bit option words; payload length given. */
static inline void fb_ipv4(struct fb *f, uint32_t src, uint32_t dst, int opt_words, uint16_t frag,
			   uint8_t proto, uint16_t l4len)
{
	fb_u8(f, (uint8_t)(0x40 | (5 + opt_words)));
	fb_u8(f, 0);
	fb_u16(f, (uint16_t)(20 + 4 * opt_words + l4len));
	fb_u16(f, 1);
	fb_u16(f, frag);
	fb_u8(f, 64);
	fb_u8(f, proto);
	fb_u16(f, 0);
	fb_u32(f, src);
	fb_u32(f, dst);
	for (int i = 0; i < opt_words; i++)
		fb_u32(f, 0x01010101); /* NOPs */
}

static inline void fb_ipv6(struct fb *f, const uint8_t *src, const uint8_t *dst, uint8_t nh,
			   uint16_t plen)
{
	fb_u32(f, 0x60000000);
	fb_u16(f, plen);
	fb_u8(f, nh);
	fb_u8(f, 64);
	fb_bytes(f, src, 16);
	fb_bytes(f, dst, 16);
}

/* TCP header with the given options block (a multiple of 4 bytes). */
static inline void fb_tcp(struct fb *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
			  uint8_t flags, const uint8_t *opts, size_t optlen)
{
	fb_u16(f, sp);
	fb_u16(f, dp);
	fb_u32(f, seq);
	fb_u32(f, ack);
	fb_u8(f, (uint8_t)(((20 + optlen) / 4) << 4));
	fb_u8(f, flags);
	fb_u16(f, 65535);
	fb_u16(f, 0);
	fb_u16(f, 0);
	fb_bytes(f, opts, optlen);
}

#endif
