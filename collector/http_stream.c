/* SPDX-License-Identifier: BSD-3-Clause */
/* http_stream.c - server-sent events: the ring of published events and its subscribers. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_int.h"
#include "net.h"

void ep_http_publish(struct ep_http *h, const char *json, size_t len)
{
	ep_http_publish_event(h, "window", json, len);
}

int ep_http_wants_windows(struct ep_http *h)
{
	unsigned n;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	n = h->window_subs;
	pthread_mutex_unlock(&h->lock);
	return n > 0;
}

void ep_http_publish_event(struct ep_http *h, const char *event, const char *json, size_t len)
{
	struct stream_item *it;
	char *data;
	int n;

	if (!h)
		return;
	data = malloc(len + 96);
	if (!data)
		return;
	pthread_mutex_lock(&h->lock);
	n = snprintf(data, 96, "id: %" PRIu64 "\nevent: %.16s\ndata: ", h->next_id, event);
	memcpy(data + n, json, len);
	memcpy(data + n + len, "\n\n", 2);
	it = &h->ring[h->next_id % STREAM_RING];
	free(it->data);
	it->kind = !strcmp(event, "window") ? EV_WINDOW : !strcmp(event, "alert") ? EV_ALERT
		   : !strcmp(event, "tick") ? EV_TICK : EV_OTHER;
	it->id = h->next_id++;
	it->data = data;
	it->len = (size_t)n + len + 2;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

struct sub {
	struct ep_http *h;
	unsigned slot;  /* in h->subs */
	unsigned mask;  /* EV_* the subscriber asked for */
	uint64_t next;  /* next event id to send */
	char *pending;
	size_t len, off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub *s = cls;
	struct ep_http *h = s->h;
	size_t n;

	(void)pos;
	if (s->off == s->len) {
		struct timespec until;
		int timed_out = 0;

		free(s->pending);
		s->pending = NULL;
		s->len = s->off = 0;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STREAM_KEEPALIVE_S;
		pthread_mutex_lock(&h->lock);
		for (;;) {
			/* Events of kinds not asked for are passed over. */
			while (s->next < h->next_id && h->next_id - s->next <= STREAM_RING &&
			       !(h->ring[s->next % STREAM_RING].kind & s->mask))
				s->next++;
			if (h->stopping || s->next < h->next_id || timed_out)
				break;
			timed_out = pthread_cond_timedwait(&h->cond, &h->lock, &until) == ETIMEDOUT;
		}
		if (h->stopping) {
			pthread_mutex_unlock(&h->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (s->next < h->next_id) {
			/* A subscriber too slow for the ring skips to the oldest kept event. */
			if (h->next_id - s->next > STREAM_RING)
				s->next = h->next_id - STREAM_RING;
			{
				const struct stream_item *it = &h->ring[s->next % STREAM_RING];

				s->pending = malloc(it->len);
				if (s->pending) {
					memcpy(s->pending, it->data, it->len);
					s->len = it->len;
				}
			}
			s->next++;
		}
		pthread_mutex_unlock(&h->lock);
		if (!s->pending) {
			s->pending = strdup(": keepalive\n\n");
			if (!s->pending)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			s->len = strlen(s->pending);
		}
	}
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->pending + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* ?events=window,alert,tick (default: window and alert; tick: {start_ns,end_ns,entries} only). */
static unsigned stream_mask(const char *v)
{
	unsigned m = 0;
	char buf[64], *tok, *save = NULL;

	if (!v || !*v)
		return EV_DEFAULT;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		m |= !strcmp(tok, "window") ? EV_WINDOW : !strcmp(tok, "alert") ? EV_ALERT
		     : !strcmp(tok, "tick") ? EV_TICK : 0;
	return m ? m : EV_DEFAULT;
}

static void stream_free(void *cls)
{
	struct sub *s = cls;

	pthread_mutex_lock(&s->h->lock);
	s->h->sub_used[s->slot] = 0;
	if (s->mask & EV_WINDOW)
		s->h->window_subs--;
	pthread_mutex_unlock(&s->h->lock);
	free(s->pending);
	free(s);
}

/* Take a subscriber slot for peer. @return the slot, or -1 (a limit: 503). */
static int sub_take(struct ep_http *h, const struct sockaddr *peer)
{
	unsigned i, from_peer = 0;
	int free_slot = -1;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->sse_max; i++) {
		if (!h->sub_used[i]) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (peer && ep_net_same_host(&h->subs[i], peer)) {
			from_peer++;
		}
	}
	if (from_peer >= h->sse_per_addr)
		free_slot = -1;
	if (free_slot >= 0) {
		h->sub_used[free_slot] = 1;
		memset(&h->subs[free_slot], 0, sizeof(h->subs[free_slot]));
		if (peer)
			memcpy(&h->subs[free_slot], peer,
			       peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in));
	}
	pthread_mutex_unlock(&h->lock);
	return free_slot;
}

/* A subscriber for /api/v1/stream, or -1 when the limits are reached (the caller answers). */
int ep_http_stream_open(struct ep_http *h, struct MHD_Connection *conn, enum MHD_Result *ret)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int slot = sub_take(h, ci ? ci->client_addr : NULL);
	struct sub *s;
	struct MHD_Response *r;

	if (slot < 0)
		return -1;
	*ret = MHD_NO;
	s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_lock(&h->lock);
		h->sub_used[slot] = 0;
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	s->h = h;
	s->slot = (unsigned)slot;
	s->mask = stream_mask(MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "events"));
	pthread_mutex_lock(&h->lock);
	s->next = h->next_id;
	if (s->mask & EV_WINDOW)
		h->window_subs++;
	pthread_mutex_unlock(&h->lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
	if (!r) {
		stream_free(s);
		return 0;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	*ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return 0;
}
