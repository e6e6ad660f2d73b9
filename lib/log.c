/* SPDX-License-Identifier: BSD-3-Clause */
/* log.c - leveled, timestamped log lines on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "isotime.h"
#include "log.h"

enum ep_log_level ep_log_max = EP_LOG_INFO;

void ep_log(enum ep_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	struct timespec ts;
	char when[EP_ISO_TIME_LEN];
	va_list ap;

	if (lvl > ep_log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%s %s: ",
		ep_iso_time((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, 1, when),
		names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t ep_ratelimit(struct ep_ratelimit *r, uint64_t n, uint64_t now_ms, uint32_t interval_ms)
{
	uint64_t out;

	r->pending += n;
	if (!r->pending || now_ms < r->next_ms)
		return 0;
	out = r->pending;
	r->pending = 0;
	r->next_ms = now_ms + interval_ms;
	return out;
}
