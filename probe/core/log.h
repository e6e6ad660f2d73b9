/* SPDX-License-Identifier: BSD-3-Clause */
/* log.h - one line per event on stderr, with a level; used by programs, not by library code. */
#ifndef EP_LOG_H
#define EP_LOG_H

enum ep_log_level { EP_LOG_ERR, EP_LOG_WARN, EP_LOG_INFO, EP_LOG_DEBUG };

extern enum ep_log_level ep_log_max;

void ep_log(enum ep_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ep_log_err(...) ep_log(EP_LOG_ERR, __VA_ARGS__)
#define ep_log_warn(...) ep_log(EP_LOG_WARN, __VA_ARGS__)
#define ep_log_info(...) ep_log(EP_LOG_INFO, __VA_ARGS__)
#define ep_log_debug(...) ep_log(EP_LOG_DEBUG, __VA_ARGS__)

#endif
