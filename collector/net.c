/* SPDX-License-Identifier: BSD-3-Clause */
/* net.c - UDP, Unix datagram and TCP ingest in one poll loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "edgeprobe/ep_wire.h"
#include "net.h"
#include "url.h"

#define MAX_LISTENERS 16
#define BATCH 64
#define MSG_MAX (EP_WIRE_MAX_MESSAGE + EP_WIRE_HMAC_BYTES)

struct conn {
	int fd;
	uint8_t *buf;
	size_t len;
	uint64_t last_msg_ns;          /* monotonic: accepted, or the last complete message */
	struct sockaddr_storage peer;
};

struct listener {
	int fd;
	int kind; /* enum ep_url_scheme: udp, unix or tcp */
	unsigned port;
	char path[108];
};

struct ep_net {
	struct listener l[MAX_LISTENERS];
	unsigned nl;
	struct conn *conns;
	unsigned max_conns, per_addr;
	uint64_t idle_ns;
	struct pollfd *pfd;
	uint8_t (*bufs)[MSG_MAX];
	struct ep_net_stats st;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ep_net_new(struct ep_net **out, const struct ep_net_cfg *cfg)
{
	struct ep_net *n = calloc(1, sizeof(*n));
	unsigned i, max_tcp_conns = cfg->max_conns;

	if (!n)
		return -ENOMEM;
	n->max_conns = max_tcp_conns;
	n->per_addr = cfg->per_addr ? cfg->per_addr : max_tcp_conns;
	n->idle_ns = (uint64_t)cfg->idle_s * 1000000000ull;
	n->conns = calloc(max_tcp_conns + 1, sizeof(*n->conns));
	n->pfd = calloc(MAX_LISTENERS + max_tcp_conns, sizeof(*n->pfd));
	n->bufs = malloc(BATCH * sizeof(*n->bufs));
	if (!n->conns || !n->pfd || !n->bufs) {
		ep_net_free(n);
		return -ENOMEM;
	}
	for (i = 0; i < max_tcp_conns; i++)
		n->conns[i].fd = -1;
	*out = n;
	return 0;
}

int ep_net_listen(struct ep_net *n, const char *url, char *err, size_t errlen)
{
	char host[256], port[32];
	struct listener *l;
	struct stat st;
	int kind = ep_url_parse(url, host, sizeof(host), port, sizeof(port));
	int fd = -1, one = 1, rc;

	if (n->nl >= MAX_LISTENERS) {
		snprintf(err, errlen, "--listen '%s': at most %d listeners", url, MAX_LISTENERS);
		return -EINVAL;
	}
	if (kind != EP_URL_UDP && kind != EP_URL_TCP && kind != EP_URL_UNIX) {
		snprintf(err, errlen, "--listen '%s': expected udp://HOST:PORT, tcp://HOST:PORT or unix:PATH", url);
		return -EINVAL;
	}
	l = &n->l[n->nl];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	if (kind == EP_URL_UNIX) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};

		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			goto sys_err;
		memcpy(sun.sun_path, host, strlen(host) + 1); /* length checked by ep_url_parse */
		if (lstat(host, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				close(fd);
				snprintf(err, errlen, "--listen '%s': %s exists and is not a socket", url,
					 host);
				return -EEXIST;
			}
			unlink(host); /* a stale socket of an earlier run */
		}
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			goto sys_err;
		memcpy(l->path, host, strlen(host) + 1);
	} else {
		struct addrinfo hints = {0}, *ai;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = kind == EP_URL_UDP ? SOCK_DGRAM : SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
		if (rc) {
			snprintf(err, errlen, "--listen '%s': %s", url, gai_strerror(rc));
			return -EINVAL;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			freeaddrinfo(ai);
			goto sys_err;
		}
		/*
		 * TCP only (a restart must not wait out TIME_WAIT): on UDP it would let a
		 * second collector bind the same port and silently take the datagrams.
		 */
		if (kind == EP_URL_TCP)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (kind == EP_URL_UDP) {
			int rcv = 256 << 20;

			/* Bursts of 100 ms windows from many probes: a deep receive queue. */
			if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
				setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		}
		rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
		if (rc < 0 || (kind == EP_URL_TCP && listen(fd, 64) < 0))
			goto sys_err;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
								 : ((struct sockaddr_in *)&ss)->sin_port);
	}
	if (kind == EP_URL_UNIX) {
		int rcv = 256 << 20;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	l->fd = fd;
	n->nl++;
	return 0;
sys_err:
	rc = -errno;
	snprintf(err, errlen, "--listen '%s': %s", url, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

unsigned ep_net_port(const struct ep_net *n, unsigned i)
{
	return i < n->nl ? n->l[i].port : 0;
}

static void conn_close(struct ep_net *n, struct conn *c)
{
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
	n->st.tcp_closed++;
}

static int read_dgrams(struct ep_net *n, int fd, ep_net_msg_cb cb, void *ctx)
{
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int i, got, total = 0;

	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = n->bufs[i];
			iov[i].iov_len = MSG_MAX;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				n->st.recv_errors++;
			return total;
		}
		for (i = 0; i < got; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				n->st.frames_oversized++;
			else
				cb(n->bufs[i], mm[i].msg_len, ctx);
		}
		total += got;
		if (total >= 4096) /* let the caller tick between large bursts */
			return total;
	}
}

int ep_net_same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
	return 1; /* Unix sockets: one host */
}

static void accept_conns(struct ep_net *n, int lfd)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC | SOCK_NONBLOCK);
		unsigned i, free_slot = n->max_conns, from_peer = 0;

		if (fd < 0)
			return;
		for (i = 0; i < n->max_conns; i++) {
			if (n->conns[i].fd < 0) {
				if (free_slot == n->max_conns)
					free_slot = i;
			} else if (ep_net_same_host(&n->conns[i].peer, (struct sockaddr *)&peer)) {
				from_peer++;
			}
		}
		if (from_peer >= n->per_addr) {
			n->st.tcp_addr_refused++;
			close(fd);
			continue;
		}
		if (free_slot == n->max_conns) {
			n->st.tcp_refused++;
			close(fd);
			continue;
		}
		i = free_slot;
		n->conns[i].fd = fd;
		n->conns[i].len = 0;
		n->conns[i].peer = peer;
		n->conns[i].last_msg_ns = mono_ns();
		n->conns[i].buf = malloc(4 + MSG_MAX);
		if (!n->conns[i].buf) {
			close(fd);
			n->conns[i].fd = -1;
			continue;
		}
		n->st.tcp_accepted++;
	}
}

static int read_conn(struct ep_net *n, struct conn *c, ep_net_msg_cb cb, void *ctx)
{
	int delivered = 0;

	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, 4 + MSG_MAX - c->len);
		size_t off = 0;

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(n, c);
			return delivered;
		}
		if (r < 0)
			return delivered;
		c->len += (size_t)r;
		while (c->len - off >= 4) {
			uint32_t fl = (uint32_t)c->buf[off] << 24 | (uint32_t)c->buf[off + 1] << 16 |
				      (uint32_t)c->buf[off + 2] << 8 | c->buf[off + 3];

			if (fl > MSG_MAX || fl == 0) {
				/* Framing is lost: nothing after can be trusted. */
				n->st.frames_oversized++;
				conn_close(n, c);
				return delivered;
			}
			if (c->len - off < 4 + (size_t)fl)
				break;
			cb(c->buf + off + 4, fl, ctx);
			c->last_msg_ns = mono_ns();
			delivered++;
			off += 4 + fl;
		}
		if (off) {
			memmove(c->buf, c->buf + off, c->len - off);
			c->len -= off;
		}
	}
}

/* Close the TCP connections that sent no complete message for idle_ns. */
static void sweep_idle(struct ep_net *n)
{
	uint64_t now;
	unsigned i;

	if (!n->idle_ns)
		return;
	now = mono_ns();
	for (i = 0; i < n->max_conns; i++) {
		if (n->conns[i].fd >= 0 && now - n->conns[i].last_msg_ns > n->idle_ns) {
			conn_close(n, &n->conns[i]);
			n->st.tcp_idle_closed++;
		}
	}
}

int ep_net_poll(struct ep_net *n, int timeout_ms, ep_net_msg_cb cb, void *ctx)
{
	unsigned i, np = 0, map[MAX_LISTENERS];
	int total = 0;

	sweep_idle(n);
	for (i = 0; i < n->nl; i++) {
		n->pfd[np].fd = n->l[i].fd;
		n->pfd[np].events = POLLIN;
		map[i] = np++;
	}
	for (i = 0; i < n->max_conns; i++) {
		n->pfd[np].fd = n->conns[i].fd; /* -1 is ignored by poll */
		n->pfd[np].events = POLLIN;
		np++;
	}
	if (poll(n->pfd, np, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < n->nl; i++) {
		if (!(n->pfd[map[i]].revents & POLLIN))
			continue;
		if (n->l[i].kind == EP_URL_TCP)
			accept_conns(n, n->l[i].fd);
		else
			total += read_dgrams(n, n->l[i].fd, cb, ctx);
	}
	for (i = 0; i < n->max_conns; i++)
		if (n->conns[i].fd >= 0 && (n->pfd[n->nl + i].revents & (POLLIN | POLLHUP | POLLERR)))
			total += read_conn(n, &n->conns[i], cb, ctx);
	return total;
}


const struct ep_net_stats *ep_net_stats(const struct ep_net *n)
{
	return &n->st;
}

void ep_net_free(struct ep_net *n)
{
	unsigned i;

	if (!n)
		return;
	for (i = 0; i < n->nl; i++) {
		close(n->l[i].fd);
		struct stat st;

		if (n->l[i].kind == EP_URL_UNIX && n->l[i].path[0] && lstat(n->l[i].path, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			unlink(n->l[i].path);
	}
	for (i = 0; n->conns && i < n->max_conns; i++)
		if (n->conns[i].fd >= 0)
			conn_close(n, &n->conns[i]);
	free(n->conns);
	free(n->pfd);
	free(n->bufs);
	free(n);
}
