/* SPDX-License-Identifier: BSD-3-Clause */
/* isotime.c - ISO 8601 UTC timestamps (isotime.h). */
#include <stdio.h>
#include <time.h>

#include "isotime.h"

char *ep_iso_time(uint64_t ns, int with_ms, char out[EP_ISO_TIME_LEN])
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, EP_ISO_TIME_LEN, "?");
		return out;
	}
	n = strftime(out, EP_ISO_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(out + n, EP_ISO_TIME_LEN - n, ".%03uZ",
			 (unsigned)(ns % 1000000000ull / 1000000u));
	else
		snprintf(out + n, EP_ISO_TIME_LEN - n, "Z");
	return out;
}
