/* SPDX-License-Identifier: BSD-3-Clause */
/* isotime.h - wall-clock nanoseconds as ISO 8601 UTC text, the one format of logs and outputs. */
#ifndef EP_ISOTIME_H
#define EP_ISOTIME_H

#include <stdint.h>

#define EP_ISO_TIME_LEN 32

/*
 * "2026-12-01T00:00:00.000Z" (with_ms) or "2026-12-01T00:00:00Z" into out.
 * @return out
 */
char *ep_iso_time(uint64_t ns, int with_ms, char out[EP_ISO_TIME_LEN]);

#endif
