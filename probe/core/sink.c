/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sink.c - UDP, TCP, Unix datagram and file sinks for wire messages.
 *
 * A live TCP sink never blocks its caller: messages go through a bounded
 * backlog that drains with non-blocking writes while the collector is
 * reachable and fills while it is not (connects are non-blocking too, retried
 * every second).  When the backlog is full, whole windows are dropped, oldest
 * first, and counted; the collector sees the gap in the sequence numbers.
 * Names are resolved once at open; the send path only connects to those
 * addresses.  When connecting keeps failing (or the name did not resolve at
 * start), it is resolved again with getaddrinfo_a() in glibc's own thread,
 * so that a DNS outage never stalls the caller (a capture thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

/* One queued message of a live TCP sink: the 4-byte length prefix, then the message. */
struct bl_msg {
	struct bl_msg *next;
	uint64_t window;     /* the window it belongs to (dropped together) */
	size_t len;          /* bytes in data */
	uint8_t data[];
};

#define EP_SINK_MAX_ADDRS 8

struct ep_sink;

/* What differs between transports: one small table each (below). */
struct sink_ops {
	int socktype;        /* SOCK_DGRAM or SOCK_STREAM for the resolved ones, else 0 */
	int stream;          /* messages are length-prefixed frames on a byte stream */
	int (*connect)(struct ep_sink *s);
};

struct ep_sink {
	char url[256];
	const struct sink_ops *ops;
	int fd;
	int reliable;
	int connecting;      /* live tcp: a non-blocking connect is in progress */
	char host[256], port[32];
	uint64_t sent_since_pause;
	uint64_t next_retry_ms; /* tcp: earliest reconnect attempt (monotonic) */
	/* The resolved addresses (udp, tcp), and an asynchronous re-resolution. */
	struct sockaddr_storage addr[EP_SINK_MAX_ADDRS];
	socklen_t addrlen[EP_SINK_MAX_ADDRS];
	int naddrs;
	uint32_t failures;      /* consecutive failed connects since the last resolution */
	int resolving;          /* req is in flight */
	struct addrinfo hints;
	struct gaicb req;
	/* Live tcp backlog. */
	struct bl_msg *head, *tail;
	size_t head_off;     /* bytes of head already written on this connection */
	size_t bytes, max_bytes;
	uint64_t last_refused;  /* window + 1 of the last message refused whole */
	struct ep_sink_counters ctr;
};

#define EP_SINK_RETRY_MS 1000
#define EP_SINK_RESOLVE_AFTER 5 /* failed connects before the name is resolved again */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int live_tcp(const struct ep_sink *s)
{
	return s->ops->socktype == SOCK_STREAM && !s->reliable;
}

/* Keep the addresses of an addrinfo list (those that fit). */
static void take_addrs(struct ep_sink *s, const struct addrinfo *res)
{
	const struct addrinfo *ai;

	s->naddrs = 0;
	for (ai = res; ai && s->naddrs < EP_SINK_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(s->addr[0]))
			continue;
		memcpy(&s->addr[s->naddrs], ai->ai_addr, ai->ai_addrlen);
		s->addrlen[s->naddrs++] = ai->ai_addrlen;
	}
}

/* At open (the caller may block): @return 0 or -EHOSTUNREACH. */
static int resolve_now(struct ep_sink *s)
{
	struct addrinfo *res;

	s->hints.ai_socktype = s->ops->socktype;
	if (getaddrinfo(s->host, s->port, &s->hints, &res))
		return -EHOSTUNREACH;
	take_addrs(s, res);
	freeaddrinfo(res);
	return s->naddrs ? 0 : -EHOSTUNREACH;
}

/*
 * Live TCP: resolve again without blocking.  Starts a lookup when none runs;
 * takes its answer when it is done.  @return 1 while a lookup is in flight.
 */
static int resolve_async(struct ep_sink *s)
{
	struct gaicb *list[1] = {&s->req};
	int rc;

	if (!s->resolving) {
		memset(&s->req, 0, sizeof(s->req));
		s->req.ar_name = s->host;
		s->req.ar_service = s->port;
		s->req.ar_request = &s->hints;
		if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0)
			return 0; /* could not start: keep the old addresses, try later */
		s->resolving = 1;
		s->ctr.resolves++;
	}
	rc = gai_error(&s->req);
	if (rc == EAI_INPROGRESS)
		return 1;
	s->resolving = 0;
	if (rc == 0 && s->req.ar_result) {
		take_addrs(s, s->req.ar_result);
		s->failures = 0;
	}
	if (s->req.ar_result)
		freeaddrinfo(s->req.ar_result);
	s->req.ar_result = NULL;
	return 0;
}

static int connect_inet(struct ep_sink *s)
{
	int fd = -1, ret = -EHOSTUNREACH, i;

	for (i = 0; i < s->naddrs; i++) {
		fd = socket(s->addr[i].ss_family,
			    s->ops->socktype | SOCK_CLOEXEC |
				    (live_tcp(s) ? SOCK_NONBLOCK : 0),
			    0);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&s->addr[i], s->addrlen[i]) == 0)
			break;
		if (errno == EINPROGRESS && live_tcp(s)) {
			s->connecting = 1; /* completes (or fails) later: see pump() */
			break;
		}
		ret = -errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		return ret;
	if (s->ops->stream) {
		struct timeval tv = {.tv_sec = s->reliable ? 30 : 0, .tv_usec = s->reliable ? 0 : 200000};

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	} else {
		int sz = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	s->fd = fd;
	return 0;
}

static int connect_unix(struct ep_sink *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, s->host);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	s->fd = fd;
	return 0;
}

static int connect_file(struct ep_sink *s)
{
	s->fd = open(s->host, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return s->fd < 0 ? -errno : 0;
}

static const struct sink_ops ops_udp = {SOCK_DGRAM, 0, connect_inet};
static const struct sink_ops ops_tcp = {SOCK_STREAM, 1, connect_inet};
static const struct sink_ops ops_unix = {0, 0, connect_unix};
static const struct sink_ops ops_file = {0, 1, connect_file};

static const struct sink_ops *ops_of(int scheme)
{
	switch (scheme) {
	case EP_URL_UDP:
		return &ops_udp;
	case EP_URL_TCP:
		return &ops_tcp;
	case EP_URL_UNIX:
		return &ops_unix;
	case EP_URL_FILE:
		return &ops_file;
	default:
		return NULL;
	}
}

int ep_sink_open(const char *url, int reliable, struct ep_sink **out, char *err, size_t errlen)
{
	struct ep_sink *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->reliable = reliable;
	s->max_bytes = EP_SINK_DEFAULT_BACKLOG;
	snprintf(s->url, sizeof(s->url), "%s", url);
	ret = ep_url_parse(url, s->host, sizeof(s->host), s->port, sizeof(s->port));
	if (ret < 0) {
		snprintf(err, errlen,
			 "'%s': expected udp://HOST:PORT, tcp://HOST:PORT, unix:PATH or file:PATH",
			 url);
		free(s);
		return -EINVAL;
	}
	s->ops = ops_of(ret);
	ret = s->ops->socktype ? resolve_now(s) : 0;
	if (ret == 0)
		ret = s->ops->connect(s);
	if (ret < 0 && live_tcp(s))
		s->next_retry_ms = mono_ms() + EP_SINK_RETRY_MS;
	else if (ret == 0 && live_tcp(s) && !s->connecting)
		s->ctr.connects++;
	if (ret < 0 && !live_tcp(s)) {
		/* A TCP collector that is down is retried later when live. */
		snprintf(err, errlen, "'%s': %s", url, strerror(-ret));
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

/*
 * Write all of p to fd: a socket with MSG_NOSIGNAL (a collector that closed
 * its end is -EPIPE for the caller to count and report, not a SIGPIPE that
 * kills the probe without its summary), anything else with write().
 */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	int sock = 1;

	while (len) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0) {
			if (errno == ENOTSOCK && sock) {
				sock = 0;
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ep_frame_write(int fd, const uint8_t *msg, size_t len)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len};
	int ret = write_all(fd, hdr, 4);

	return ret ? ret : write_all(fd, msg, len);
}

static void tcp_drop_conn(struct ep_sink *s)
{
	close(s->fd);
	s->fd = -1;
	s->connecting = 0;
	s->head_off = 0; /* a message cut off with the connection goes again, whole */
	s->next_retry_ms = mono_ms() + EP_SINK_RETRY_MS;
}

/*
 * Drop the oldest whole window not being written (a window whose first message
 * is half on the wire stays whole: the rest of it must follow).
 * @return 0 when there was none.
 */
static int drop_oldest_window(struct ep_sink *s)
{
	struct bl_msg **pp = &s->head, *prev = NULL, *m;
	uint64_t w;

	if (s->head && s->head_off) {
		w = s->head->window;
		while (*pp && (*pp)->window == w) {
			prev = *pp;
			pp = &(*pp)->next;
		}
	}
	if (!*pp)
		return 0;
	w = (*pp)->window;
	while ((m = *pp) && m->window == w) {
		*pp = m->next;
		s->bytes -= m->len;
		s->ctr.msgs_dropped++;
		free(m);
	}
	if (!*pp)
		s->tail = prev;
	s->ctr.windows_dropped++;
	return 1;
}

/* Connect when due, finish a connect in progress, write what the socket takes. */
static void pump(struct ep_sink *s)
{
	if (s->fd < 0) {
		if (mono_ms() < s->next_retry_ms)
			return;
		/* No address, or none answers for a while: the name may have moved. */
		if ((s->resolving || !s->naddrs || s->failures >= EP_SINK_RESOLVE_AFTER) &&
		    resolve_async(s))
			return;
		if (s->ops->connect(s) < 0) {
			s->failures++;
			s->next_retry_ms = mono_ms() + EP_SINK_RETRY_MS;
			return;
		}
		if (!s->connecting)
			s->ctr.connects++;
	}
	if (s->connecting) {
		struct pollfd pfd = {s->fd, POLLOUT, 0};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (poll(&pfd, 1, 0) <= 0)
			return;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			s->failures++;
			tcp_drop_conn(s);
			return;
		}
		s->connecting = 0;
		s->failures = 0;
		s->ctr.connects++;
	}
	while (s->head) {
		struct bl_msg *m = s->head;
		ssize_t n = send(s->fd, m->data + s->head_off, m->len - s->head_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tcp_drop_conn(s);
			return;
		}
		s->head_off += (size_t)n;
		if (s->head_off < m->len)
			return;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		s->bytes -= m->len;
		s->head_off = 0;
		s->ctr.msgs_delivered++;
		free(m);
	}
}

static int backlog_send(struct ep_sink *s, const uint8_t *msg, size_t len, uint64_t window)
{
	struct bl_msg *m;

	while (s->bytes + len + 4 > s->max_bytes && drop_oldest_window(s))
		;
	if (s->bytes + len + 4 > s->max_bytes) {
		/* Not even this message fits: its window is lost (counted once). */
		if (s->last_refused != window + 1) {
			s->last_refused = window + 1;
			s->ctr.windows_dropped++;
		}
		s->ctr.msgs_dropped++;
		pump(s);
		return 0;
	}
	m = malloc(sizeof(*m) + len + 4);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->window = window;
	m->len = len + 4;
	m->data[0] = (uint8_t)(len >> 24);
	m->data[1] = (uint8_t)(len >> 16);
	m->data[2] = (uint8_t)(len >> 8);
	m->data[3] = (uint8_t)len;
	memcpy(m->data + 4, msg, len);
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->bytes += m->len;
	pump(s);
	return 0;
}

int ep_sink_send(struct ep_sink *s, const uint8_t *msg, size_t len, uint64_t window)
{
	int ret;

	if (live_tcp(s))
		return backlog_send(s, msg, len, window);
	if (s->fd < 0) {
		uint64_t now = mono_ms();

		if (now < s->next_retry_ms)
			return -ENOTCONN;
		s->next_retry_ms = now + EP_SINK_RETRY_MS;
		ret = s->ops->connect(s);
		if (ret < 0)
			return ret;
	}
	if (!s->ops->stream) {
		for (;;) {
			ssize_t n = send(s->fd, msg, len, s->reliable ? 0 : MSG_DONTWAIT);

			if (n >= 0)
				break;
			if (errno == EINTR)
				continue;
			if (s->reliable && (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED)) {
				struct timespec ts = {0, 1000000};

				if (errno == ECONNREFUSED)
					return -ECONNREFUSED;
				nanosleep(&ts, NULL);
				continue;
			}
			return -errno;
		}
		/* Pace UDP replays of files so a local collector's buffer keeps up. */
		if (s->reliable && s->ops == &ops_udp && ++s->sent_since_pause >= 32) {
			struct timespec ts = {0, 500000};

			s->sent_since_pause = 0;
			nanosleep(&ts, NULL);
		}
		return 0;
	}
	ret = ep_frame_write(s->fd, msg, len);
	if (ret < 0 && s->ops == &ops_tcp) {
		close(s->fd); /* reconnect on a later message */
		s->fd = -1;
	}
	return ret;
}

uint64_t ep_sink_flush(struct ep_sink *s, uint32_t timeout_ms)
{
	uint64_t end = mono_ms() + timeout_ms, left = 0;
	struct bl_msg *m;

	if (!live_tcp(s))
		return 0;
	while (s->head && mono_ms() < end) {
		struct pollfd pfd = {s->fd, POLLOUT, 0};

		pump(s);
		if (!s->head)
			break;
		if (s->fd >= 0)
			poll(&pfd, 1, 50);
		else
			poll(NULL, 0, 50);
	}
	for (m = s->head; m; m = m->next)
		if (!m->next || m->next->window != m->window)
			left++;
	return left;
}

void ep_sink_set_backlog(struct ep_sink *s, size_t max_bytes)
{
	s->max_bytes = max_bytes;
}

void ep_sink_get_counters(const struct ep_sink *s, struct ep_sink_counters *c)
{
	*c = s->ctr;
	c->backlog_bytes = s->bytes;
}

void ep_sink_close(struct ep_sink *s)
{
	struct bl_msg *m;

	if (!s)
		return;
	while ((m = s->head)) {
		s->head = m->next;
		free(m);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->resolving) {
		const struct gaicb *list[1] = {&s->req};

		/* The lookup writes into s: it must be over before s goes. */
		if (gai_cancel(&s->req) != EAI_CANCELED)
			while (gai_error(&s->req) == EAI_INPROGRESS)
				gai_suspend(list, 1, NULL);
		if (s->req.ar_result)
			freeaddrinfo(s->req.ar_result);
	}
	free(s);
}

const char *ep_sink_url(const struct ep_sink *s)
{
	return s->url;
}
