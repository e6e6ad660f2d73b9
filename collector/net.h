/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.h - the collector's ingest sockets: udp://HOST:PORT and unix:PATH
 * (one message per datagram, read in batches with recvmmsg) and
 * tcp://HOST:PORT (length-prefixed frames, a bounded number of connections).
 * One poll loop; every complete message goes to a callback.
 */
#ifndef EP_NET_H
#define EP_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ep_net;

typedef void (*ep_net_msg_cb)(const uint8_t *msg, size_t len, void *ctx);

/* Counters the loop keeps. */
struct ep_net_stats {
	uint64_t frames_oversized, tcp_accepted, tcp_refused, tcp_closed, recv_errors;
	uint64_t tcp_idle_closed;   /* closed after idle_s without a complete message */
	uint64_t tcp_addr_refused;  /* refused: the peer address holds per_addr already */
};

struct ep_net_cfg {
	unsigned max_conns;         /* TCP connections in all */
	unsigned per_addr;          /* TCP connections from one address */
	unsigned idle_s;            /* close a TCP connection silent this long (0: never) */
};

/* @return 0, -ENOMEM */
int ep_net_new(struct ep_net **out, const struct ep_net_cfg *cfg);
/* @return 0, or -EINVAL / a socket errno with err filled. */
int ep_net_listen(struct ep_net *n, const char *url, char *err, size_t errlen);

/* The bound port of the i-th listener (0 for unix). */
unsigned ep_net_port(const struct ep_net *n, unsigned i);

/* Wait up to timeout_ms, then deliver every message received. @return messages delivered. */
int ep_net_poll(struct ep_net *n, int timeout_ms, ep_net_msg_cb cb, void *ctx);

const struct ep_net_stats *ep_net_stats(const struct ep_net *n);

/* 1 when a and b are the same host (IPv4 or IPv6 address; ports ignored), else 0. */
int ep_net_same_host(const struct sockaddr_storage *a, const struct sockaddr *b);
void ep_net_free(struct ep_net *n);

#endif
