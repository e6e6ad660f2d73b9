/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_devclock.c - device clock to wall clock: the rate from two readings,
 * conversion on either side of the base, re-basing without a jump, bad input.
 */
#include "check.h"
#include "devclock.h"

int main(void)
{
	struct ep_devclock c, c2;
	const uint64_t ns0 = 1795000000000000000ull; /* 2026 */
	uint64_t t0 = 123456789, hz = 156250000;     /* 156.25 MHz: 6.4 ns per tick */
	uint64_t t1 = t0 + hz / 10, ns1 = ns0 + 100000000; /* 100 ms later */
	int64_t err;

	CHECK_EQ(ep_devclock_calibrate(&c, t0, ns0, t1, ns1), 0);
	CHECK_EQ(ep_devclock_ns(&c, t1), ns1);
	CHECK_EQ(ep_devclock_ns(&c, t0), ns0);
	CHECK_EQ(ep_devclock_ns(&c, t1 + 1000), ns1 + 6400);
	/* An hour later, within a nanosecond. */
	err = (int64_t)(ep_devclock_ns(&c, t1 + hz * 3600) - (ns1 + 3600000000000ull));
	CHECK(err >= -1 && err <= 1);
	/* Before the base: a timestamp of a packet queued before the reading. */
	err = (int64_t)(ep_devclock_ns(&c, t1 - hz) - (ns1 - 1000000000ull));
	CHECK(err >= -1 && err <= 1);
	/* The device runs 50 ppm fast: re-basing a second later tracks it without a jump. */
	{
		uint64_t t2 = t1 + hz + hz / 20000, ns2 = ns1 + 1000000000ull;
		uint64_t before = ep_devclock_ns(&c, t2);

		CHECK_EQ(ep_devclock_calibrate(&c2, t1, ns1, t2, ns2), 0);
		CHECK_EQ(ep_devclock_ns(&c2, t2), ns2);
		CHECK(before - ns2 > 49000 && before - ns2 < 51000); /* the old rate is 50 us off */
		err = (int64_t)(ep_devclock_ns(&c2, t2 + hz) - (ns2 + 999950006ull)); /* 1e9 * hz / (hz + 7812) */
		CHECK(err >= -2 && err <= 2);
	}
	/* Readings near the top of the counter. */
	CHECK_EQ(ep_devclock_calibrate(&c, UINT64_MAX - 10, ns0, UINT64_MAX - 5, ns0 + 32), 0);
	CHECK_EQ(ep_devclock_ns(&c, UINT64_MAX - 6), ns0 + 26); /* 25.6 rounded */
	/* Clocks that did not advance. */
	CHECK_EQ(ep_devclock_calibrate(&c, t1, ns0, t0, ns1), -EINVAL);
	CHECK_EQ(ep_devclock_calibrate(&c, t0, ns1, t1, ns0), -EINVAL);
	CHECK_EQ(ep_devclock_calibrate(&c, t0, ns0, t0, ns1), -EINVAL);
	CHECK_DONE();
}
