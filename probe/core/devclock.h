/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * devclock.h - a device clock (a NIC's timestamp counter, in its own ticks)
 * as wall-clock nanoseconds: calibrated from two (ticks, ns) readings taken
 * some time apart, re-based each time the caller reads again so that drift
 * between the two clocks stays bounded; converting is one 128-bit multiply.
 */
#ifndef EP_DEVCLOCK_H
#define EP_DEVCLOCK_H

#include <errno.h>
#include <stdint.h>

struct ep_devclock {
	uint64_t base_ticks; /* a reading of the device clock ... */
	uint64_t base_ns;    /* ... and the wall clock at that moment */
	uint64_t mult;       /* nanoseconds per tick, 16.48 fixed point */
};

#define EP_DEVCLOCK_SHIFT 48

/*
 * From the readings (t0, ns0) and the later (t1, ns1): the rate between them,
 * based at the later one.  @return 0, or -EINVAL when either clock did not
 * advance or the device clock is slower than 2^-16 ticks per ns (30 kHz).
 */
static inline int ep_devclock_calibrate(struct ep_devclock *c, uint64_t t0, uint64_t ns0,
					uint64_t t1, uint64_t ns1)
{
	unsigned __int128 m;

	if (t1 <= t0 || ns1 <= ns0)
		return -EINVAL;
	m = (((unsigned __int128)(ns1 - ns0) << EP_DEVCLOCK_SHIFT) + (t1 - t0) / 2) / (t1 - t0);
	if (m == 0 || m >> 63)
		return -EINVAL;
	c->base_ticks = t1;
	c->base_ns = ns1;
	c->mult = (uint64_t)m;
	return 0;
}

/* Wall-clock ns of a device timestamp (before or after the base). */
static inline uint64_t ep_devclock_ns(const struct ep_devclock *c, uint64_t ticks)
{
	int64_t d = (int64_t)(ticks - c->base_ticks);
	__int128 off = (__int128)d * (__int128)c->mult + ((__int128)1 << (EP_DEVCLOCK_SHIFT - 1));

	/* To the nearest nanosecond, either side of the base. */
	return c->base_ns + (uint64_t)(int64_t)(off >> EP_DEVCLOCK_SHIFT);
}

#endif /* EP_DEVCLOCK_H */
