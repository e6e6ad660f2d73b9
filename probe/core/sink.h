/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sink.h - where wire messages go: udp://HOST:PORT, tcp://HOST:PORT
 * (length-prefixed, reconnecting), unix:PATH (datagram) and file:PATH
 * (length-prefixed records, for saving and replaying with edgeprobe-dump).
 */
#ifndef EP_SINK_H
#define EP_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"

struct ep_sink;

/*
 * @param url the address
 * @param reliable 1 to block rather than drop when the receiver is slow (file
 *        input: nothing may be lost), 0 for live capture (never block long)
 * @return 0, -EINVAL (bad URL: err says why), or a socket/file errno
 */
int ep_sink_open(const char *url, int reliable, struct ep_sink **out, char *err, size_t errlen);

/* Default bound of a live TCP sink's backlog. */
#define EP_SINK_DEFAULT_BACKLOG ((size_t)64 << 20)

/*
 * Send one message of window `window` (any number unique per window).  A live
 * TCP sink queues it (bounded; see ep_sink_set_backlog) and writes what the
 * socket takes without blocking.
 * @return 0 (sent or queued), or a negative errno when the message was not
 *         sent (counted by the caller).
 */
int ep_sink_send(struct ep_sink *s, const uint8_t *msg, size_t len, uint64_t window);

/* What a live TCP sink did with its messages. */
struct ep_sink_counters {
	uint64_t msgs_delivered;   /* written whole to a connection */
	uint64_t msgs_dropped;     /* dropped with their window from a full backlog */
	uint64_t windows_dropped;  /* whole windows dropped */
	uint64_t connects;         /* connections established */
	uint64_t resolves;         /* names resolved again (in the background) */
	uint64_t backlog_bytes;    /* queued now */
};

/* Bound a live TCP sink's backlog (bytes, length prefixes included). */
void ep_sink_set_backlog(struct ep_sink *s, size_t max_bytes);

void ep_sink_get_counters(const struct ep_sink *s, struct ep_sink_counters *c);

/*
 * Try for up to timeout_ms to write a live TCP sink's backlog (at exit).
 * @return the number of windows still undelivered.
 */
uint64_t ep_sink_flush(struct ep_sink *s, uint32_t timeout_ms);

/* NULL-safe; drops whatever is still queued. */
void ep_sink_close(struct ep_sink *s);

const char *ep_sink_url(const struct ep_sink *s);

/* Write/read one length-prefixed record (u32 big-endian length, then bytes). */
int ep_frame_write(int fd, const uint8_t *msg, size_t len);

#endif
