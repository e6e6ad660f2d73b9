/* SPDX-License-Identifier: BSD-3-Clause */
/* http.c - libmicrohttpd front end of the API, the SSE stream and static files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "http.h"
#include "log.h"

#define STREAM_RING 64
#define STREAM_KEEPALIVE_S 10

struct stream_item {
	uint64_t id;
	char *data; /* the whole SSE event */
	size_t len;
};

struct ep_http {
	struct MHD_Daemon *d;
	struct ep_collector *c;
	char web_dir[512];
	unsigned port;
	pthread_mutex_t lock; /* the stream ring */
	pthread_cond_t cond;
	struct stream_item ring[STREAM_RING];
	uint64_t next_id;     /* id of the next published event */
	int stopping;
};

/* ------------------------------------------------------------------------ */
/* Server-sent events                                                         */
/* ------------------------------------------------------------------------ */

void ep_http_publish(struct ep_http *h, const char *json, size_t len)
{
	struct stream_item *it;
	char *data;
	int n;

	if (!h)
		return;
	data = malloc(len + 64);
	if (!data)
		return;
	pthread_mutex_lock(&h->lock);
	n = snprintf(data, 64, "id: %" PRIu64 "\nevent: window\ndata: ", h->next_id);
	memcpy(data + n, json, len);
	memcpy(data + n + len, "\n\n", 2);
	it = &h->ring[h->next_id % STREAM_RING];
	free(it->data);
	it->id = h->next_id++;
	it->data = data;
	it->len = (size_t)n + len + 2;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

struct sub {
	struct ep_http *h;
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
		while (!h->stopping && s->next >= h->next_id && !timed_out)
			timed_out = pthread_cond_timedwait(&h->cond, &h->lock, &until) == ETIMEDOUT;
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

static void stream_free(void *cls)
{
	struct sub *s = cls;

	free(s->pending);
	free(s);
}

/* ------------------------------------------------------------------------ */
/* Static files                                                               */
/* ------------------------------------------------------------------------ */

static const char *mime_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".json"))
		return "application/json";
	return "application/octet-stream";
}

/* Only [A-Za-z0-9._-/] and no "..": nothing outside the web directory is reachable. */
static int safe_path(const char *p)
{
	const char *s;

	if (strstr(p, "..") || strlen(p) > 200)
		return 0;
	for (s = p; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' || *s == '/'))
			return 0;
	return 1;
}

static enum MHD_Result queue_buf(struct MHD_Connection *conn, int status, const char *ctype,
				 char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result json_error(struct MHD_Connection *conn, int status, const char *msg)
{
	char *body = malloc(256);

	if (!body)
		return MHD_NO;
	snprintf(body, 256, "{\"error\":\"%s\",\"status\":%d}\n", msg, status);
	return queue_buf(conn, status, "application/json", body, strlen(body));
}

static enum MHD_Result serve_file(struct ep_http *h, struct MHD_Connection *conn, const char *url)
{
	char path[768];
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int fd;

	if (!h->web_dir[0])
		return json_error(conn, 404, "no dashboard (--web-dir)");
	if (!strcmp(url, "/"))
		url = "/index.html";
	if (!safe_path(url))
		return json_error(conn, 404, "not found");
	snprintf(path, sizeof(path), "%s%s", h->web_dir, url);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return json_error(conn, 404, "not found");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return json_error(conn, 404, "not found");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", mime_of(path));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                   */
/* ------------------------------------------------------------------------ */

static const char *get_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **con_cls)
{
	struct ep_http *h = cls;
	struct ep_api_req req;
	struct ep_api_resp resp;
	int handled;

	(void)version;
	(void)upload_data;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return json_error(conn, 405, "only GET");
	if (*upload_size) /* no bodies */
		return json_error(conn, 413, "request bodies are not accepted");
	if (!*con_cls) { /* first call: headers only */
		*con_cls = h;
		return MHD_YES;
	}
	if (!strcmp(url, "/api/v1/stream")) {
		struct sub *s = calloc(1, sizeof(*s));
		struct MHD_Response *r;
		enum MHD_Result ret;

		if (!s)
			return MHD_NO;
		s->h = h;
		pthread_mutex_lock(&h->lock);
		s->next = h->next_id;
		pthread_mutex_unlock(&h->lock);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s,
						      stream_free);
		if (!r) {
			free(s);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Content-Type", "text/event-stream");
		MHD_add_response_header(r, "Cache-Control", "no-store");
		ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	req.path = url;
	req.arg = get_arg;
	req.ctx = conn;
	pthread_mutex_lock(&h->c->lock);
	handled = ep_api_handle(h->c, &req, &resp);
	pthread_mutex_unlock(&h->c->lock);
	if (!handled)
		return serve_file(h, conn, url);
	if (!resp.body)
		return json_error(conn, 500, "out of memory");
	return queue_buf(conn, resp.status, resp.ctype, resp.body, resp.len);
}

/* libmicrohttpd's own messages (e.g. a stream client that went away): debug level. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	ep_log_debug("http: %s", msg);
}

int ep_http_start(struct ep_collector *c, const struct ep_http_cfg *cfg, struct ep_http **out,
		  char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char host[256], *colon;
	const union MHD_DaemonInfo *info;
	struct ep_http *h;
	int rc;

	snprintf(host, sizeof(host), "%s", cfg->addr);
	colon = strrchr(host, ':');
	if (!colon || !colon[1]) {
		snprintf(err, errlen, "--http '%s': expected HOST:PORT", cfg->addr);
		return -EINVAL;
	}
	*colon = '\0';
	if (host[0] == '[') { /* [v6]:port */
		memmove(host, host + 1, strlen(host));
		if (host[0] && host[strlen(host) - 1] == ']')
			host[strlen(host) - 1] = '\0';
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "--http '%s': %s", cfg->addr, gai_strerror(rc));
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->c = c;
	if (cfg->web_dir)
		snprintf(h->web_dir, sizeof(h->web_dir), "%s", cfg->web_dir);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns ? cfg->max_conns : 64,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conns ? cfg->max_conns : 64,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 30,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen, "--http '%s': cannot listen (address in use or not local?)",
			 cfg->addr);
		free(h);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*out = h;
	return 0;
}

unsigned ep_http_port(const struct ep_http *h)
{
	return h->port;
}

void ep_http_stop(struct ep_http *h)
{
	uint32_t i;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	MHD_stop_daemon(h->d);
	for (i = 0; i < STREAM_RING; i++)
		free(h->ring[i].data);
	free(h);
}
