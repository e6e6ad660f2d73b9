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

struct ep_sink;

/*
 * @param url the address
 * @param reliable 1 to block rather than drop when the receiver is slow (file
 *        input: nothing may be lost), 0 for live capture (never block long)
 * @return 0, -EINVAL (bad URL: err says why), or a socket/file errno
 */
int ep_sink_open(const char *url, int reliable, struct ep_sink **out, char *err, size_t errlen);

/* @return 0, or a negative errno when the message was not sent (counted by the caller). */
int ep_sink_send(struct ep_sink *s, const uint8_t *msg, size_t len);

/* NULL-safe. */
void ep_sink_close(struct ep_sink *s);

const char *ep_sink_url(const struct ep_sink *s);

/*
 * Split "udp://host:port" / "tcp://host:port" / "unix:path" / "file:path".
 * @return the scheme ('u', 't', 'x' unix, 'f' file) or -EINVAL; host and port
 *         (or path in host) are copied out.
 */
int ep_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen);

/* Write/read one length-prefixed record (u32 big-endian length, then bytes). */
int ep_frame_write(int fd, const uint8_t *msg, size_t len);

#endif
