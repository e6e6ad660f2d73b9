/* SPDX-License-Identifier: BSD-3-Clause */
/* sink.c - UDP, TCP, Unix datagram and file sinks for wire messages. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

struct ep_sink {
	char url[256];
	int scheme;
	int fd;
	int reliable;
	char host[256], port[32];
	uint64_t sent_since_pause;
	time_t next_retry;   /* tcp: earliest reconnect attempt */
};

int ep_url_parse(const char *url, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *rest, *colon;
	int scheme;

	if (!strncmp(url, "udp://", 6)) {
		scheme = 'u';
		rest = url + 6;
	} else if (!strncmp(url, "tcp://", 6)) {
		scheme = 't';
		rest = url + 6;
	} else if (!strncmp(url, "unix:", 5)) {
		rest = url + 5;
		if (!*rest || strlen(rest) >= hostlen || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -EINVAL;
		strcpy(host, rest);
		return 'x';
	} else if (!strncmp(url, "file:", 5)) {
		rest = url + 5;
		if (!*rest || strlen(rest) >= hostlen)
			return -EINVAL;
		strcpy(host, rest);
		return 'f';
	} else {
		return -EINVAL;
	}
	if (rest[0] == '[') { /* [v6]:port */
		const char *close = strchr(rest, ']');

		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= hostlen)
			return -EINVAL;
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon || (size_t)(colon - rest) >= hostlen || colon == rest)
			return -EINVAL;
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
	}
	if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	strcpy(port, colon + 1);
	return scheme;
}

static int connect_inet(struct ep_sink *s)
{
	struct addrinfo hints = {0}, *res, *ai;
	int fd = -1, ret;

	hints.ai_socktype = s->scheme == 'u' ? SOCK_DGRAM : SOCK_STREAM;
	ret = getaddrinfo(s->host, s->port, &hints, &res);
	if (ret)
		return -EHOSTUNREACH;
	ret = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ret;
	if (s->scheme == 't') {
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

static int sink_connect(struct ep_sink *s)
{
	switch (s->scheme) {
	case 'u':
	case 't':
		return connect_inet(s);
	case 'x':
		return connect_unix(s);
	default:
		s->fd = open(s->host, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		return s->fd < 0 ? -errno : 0;
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
	snprintf(s->url, sizeof(s->url), "%s", url);
	ret = ep_url_parse(url, s->host, sizeof(s->host), s->port, sizeof(s->port));
	if (ret < 0) {
		snprintf(err, errlen,
			 "'%s': expected udp://HOST:PORT, tcp://HOST:PORT, unix:PATH or file:PATH",
			 url);
		free(s);
		return -EINVAL;
	}
	s->scheme = ret;
	ret = sink_connect(s);
	if (ret < 0 && (s->scheme != 't' || reliable)) {
		/* A TCP collector that is down is retried later when live. */
		snprintf(err, errlen, "'%s': %s", url, strerror(-ret));
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
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

int ep_sink_send(struct ep_sink *s, const uint8_t *msg, size_t len)
{
	int ret;

	if (s->fd < 0) {
		time_t now = time(NULL);

		if (now < s->next_retry)
			return -ENOTCONN;
		s->next_retry = now + 1;
		ret = sink_connect(s);
		if (ret < 0)
			return ret;
	}
	switch (s->scheme) {
	case 'u':
	case 'x':
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
		if (s->reliable && s->scheme == 'u' && ++s->sent_since_pause >= 32) {
			struct timespec ts = {0, 500000};

			s->sent_since_pause = 0;
			nanosleep(&ts, NULL);
		}
		return 0;
	default:
		ret = ep_frame_write(s->fd, msg, len);
		if (ret < 0 && s->scheme == 't') {
			close(s->fd); /* reconnect on a later message */
			s->fd = -1;
		}
		return ret;
	}
}

void ep_sink_close(struct ep_sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

const char *ep_sink_url(const struct ep_sink *s)
{
	return s->url;
}
