/* SPDX-License-Identifier: BSD-3-Clause */
/* ep_types.h - fixed-width types and compiler helpers shared by userspace and BPF. */
#ifndef EP_TYPES_H
#define EP_TYPES_H

#ifdef __bpf__
/* BPF programs include vmlinux.h (or linux/types.h) before this header. */
#ifndef INT64_MAX
#define INT64_MAX 0x7fffffffffffffffLL
#endif
#ifndef UINT32_MAX
#define UINT32_MAX 0xffffffffU
#endif
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define EP_LIKELY(x) __builtin_expect(!!(x), 1)
#define EP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define EP_INLINE static inline __attribute__((always_inline))

/* Big-endian loads from a byte pointer (any alignment); callers check bounds first. */
EP_INLINE uint16_t ep_be16(const uint8_t *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, 2);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

EP_INLINE uint32_t ep_be32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* Serial-number arithmetic (RFC 1982) on 32-bit sequence and timestamp values. */
EP_INLINE int ep_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

EP_INLINE int ep_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#endif /* EP_TYPES_H */
