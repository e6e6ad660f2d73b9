/* SPDX-License-Identifier: BSD-3-Clause */
/* xorshift.h - the tests' and benchmarks' reproducible pseudo-random numbers (xorshift64). */
#ifndef EP_XORSHIFT_H
#define EP_XORSHIFT_H

#include <stdint.h>

/* The next number from the generator whose state is *S (S non-zero: a fixed seed per test,
 * so that a failure replays). */
static inline uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
