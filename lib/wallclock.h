/* SPDX-License-Identifier: BSD-3-Clause */
/* wallclock.h - the wall clock in Unix nanoseconds (live windows, epochs, ages). */
#ifndef EP_WALLCLOCK_H
#define EP_WALLCLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ep_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
