/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * backlog.h - messages held by the ingest thread while a reader has the
 * collector's lock, so that ingest never waits for a query: a bounded buffer
 * of (receive time, length, bytes) records, merged in order as soon as the
 * lock is free.
 */
#ifndef EP_BACKLOG_H
#define EP_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

struct ep_backlog {
	uint8_t *buf;
	size_t cap, len;  /* bytes */
	uint32_t n;       /* messages held */
};

/* @return 0, -ENOMEM */
int ep_backlog_init(struct ep_backlog *b, size_t cap);
void ep_backlog_fini(struct ep_backlog *b);

/* Hold a copy of msg received at now_ns. @return 0, or -ENOSPC (full: nothing held) */
int ep_backlog_put(struct ep_backlog *b, const uint8_t *msg, size_t len, uint64_t now_ns);

typedef void (*ep_backlog_cb)(const uint8_t *msg, size_t len, uint64_t now_ns, void *ctx);

/* Hand every held message to cb, oldest first, and empty the backlog. */
void ep_backlog_drain(struct ep_backlog *b, ep_backlog_cb cb, void *ctx);

#endif
