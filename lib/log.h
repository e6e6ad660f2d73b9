/* SPDX-License-Identifier: BSD-3-Clause */
/* log.h - one line per event on stderr, with a level; used by programs, not by library code. */
#ifndef EP_LOG_H
#define EP_LOG_H

#include <stdint.h>

enum ep_log_level { EP_LOG_ERR, EP_LOG_WARN, EP_LOG_INFO, EP_LOG_DEBUG };

extern enum ep_log_level ep_log_max;

void ep_log(enum ep_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ep_log_err(...) ep_log(EP_LOG_ERR, __VA_ARGS__)
#define ep_log_warn(...) ep_log(EP_LOG_WARN, __VA_ARGS__)
#define ep_log_info(...) ep_log(EP_LOG_INFO, __VA_ARGS__)
#define ep_log_debug(...) ep_log(EP_LOG_DEBUG, __VA_ARGS__)

/*
 * Conditions that can recur per packet are logged through a limiter: events
 * accumulate, and at most one line per interval reports how many there were.
 */
struct ep_ratelimit {
	uint64_t next_ms;   /* monotonic time of the next line allowed */
	uint64_t pending;   /* events not reported yet */
};

/*
 * Add n events at now_ms.  @return the number to report now (then the limiter
 * waits interval_ms), or 0 to hold them back.
 */
uint64_t ep_ratelimit(struct ep_ratelimit *r, uint64_t n, uint64_t now_ms, uint32_t interval_ms);

#endif
