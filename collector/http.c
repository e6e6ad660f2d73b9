/* SPDX-License-Identifier: BSD-3-Clause */
/* http.c - libmicrohttpd front end of the API, the SSE stream and static files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "http.h"
#include "http_int.h"
#include "log.h"
#include "net.h"

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
	json_t *o = json_pack("{s:s,s:i}", "error", msg, "status", status);
	char *body = o ? json_dumps(o, EP_JV_FLAGS) : NULL;

	json_decref(o);
	if (!body)
		return MHD_NO;
	return queue_buf(conn, status, "application/json", body, strlen(body));
}

static enum MHD_Result serve_file(struct ep_http *h, struct MHD_Connection *conn, const char *url)
{
	char path[768];
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int fd;

	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};

	if (h->web_fd < 0)
		return json_error(conn, 404, "no dashboard (--web-dir)");
	if (!strcmp(url, "/"))
		url = "/index.html";
	if (!safe_path(url))
		return json_error(conn, 404, "not found");
	snprintf(path, sizeof(path), "%s", url + 1);
	/* Resolved beneath the directory: no symlink or ".." leads out of it. */
	fd = (int)syscall(SYS_openat2, h->web_fd, path, &how, sizeof(how));
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

static void refused(struct ep_http *h)
{
	pthread_mutex_lock(&h->c->lock);
	h->c->ctr[EP_CC_http_refused]++;
	pthread_mutex_unlock(&h->c->lock);
}

/*
 * DNS rebinding: a page served under an attacker's name must not reach the
 * API.  Accepted: IP literals, localhost, and the configured names (any port);
 * and no Host at all (HTTP/1.0 tools: a browser always sends one).
 */
static int host_ok(const struct ep_http *h, const char *host)
{
	char name[256], *colon;
	struct in6_addr a6;
	struct in_addr a4;
	int i;

	if (!host)
		return 1; /* HTTP/1.0 without Host: not a browser, so not a rebinding page */
	if (!*host || strlen(host) >= sizeof(name))
		return 0;
	snprintf(name, sizeof(name), "%s", host);
	if (name[0] == '[') {
		char *close = strchr(name, ']');

		if (!close || (close[1] && close[1] != ':'))
			return 0;
		*close = '\0';
		return inet_pton(AF_INET6, name + 1, &a6) == 1;
	}
	colon = strchr(name, ':');
	if (colon)
		*colon = '\0';
	if (inet_pton(AF_INET, name, &a4) == 1 || !strcasecmp(name, "localhost"))
		return 1;
	for (i = 0; h->hosts[i]; i++)
		if (!strcasecmp(name, h->hosts[i]))
			return 1;
	return 0;
}

/* Constant-time comparison of the presented token (header or access_token=). */
static int token_ok(const struct ep_http *h, struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *t = NULL;
	size_t i, n = strlen(h->token), m;
	unsigned diff = 0;

	if (auth && !strncasecmp(auth, "Bearer ", 7))
		t = auth + 7;
	else
		t = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token");
	if (!t)
		return 0;
	m = strlen(t);
	for (i = 0; i < n; i++)
		diff |= (unsigned)(uint8_t)h->token[i] ^ (unsigned)(uint8_t)(i < m ? t[i] : 0);
	return !diff && m == n;
}

static const char *get_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Per request: set up by uri_log before libmicrohttpd parses the query string. */
struct req {
	int seen;    /* the headers-only first call happened */
	int too_big; /* the query string was cut: answer 414 */
	struct ep_qoe_upload qoe; /* a players' report being received */
};

/*
 * libmicrohttpd stores every query parameter in the connection's memory pool
 * and drops the connection without a status when the pool runs out.  A query
 * beyond EP_HTTP_MAX_ARGS parameters or EP_HTTP_MAX_QUERY bytes is therefore
 * cut before it is parsed (the URI is in the connection's own read buffer)
 * and answered with 414.
 */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *rq = calloc(1, sizeof(*rq));
	char *q = strchr(uri, '?');
	unsigned nargs = 0;
	const char *s;

	(void)cls;
	(void)conn;
	if (!rq || !q)
		return rq;
	for (s = q; *s; s++)
		nargs += *s == '&';
	if (nargs >= EP_HTTP_MAX_ARGS || strlen(q) > EP_HTTP_MAX_QUERY) {
		rq->too_big = 1;
		q[1] = '\0';
	}
	return rq;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*con_cls)
		free(((struct req *)*con_cls)->qoe.buf);
	free(*con_cls);
	*con_cls = NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **con_cls)
{
	struct ep_http *h = cls;
	struct req *rq = *con_cls;
	struct ep_api_req req;
	struct ep_api_resp resp;
	int handled;

	(void)version;
	if (h->qoe && !strcmp(url, "/api/v1/qoe")) {
		if (!rq)
			return MHD_NO;
		if (!h->qoe_only && !rq->qoe.seen &&
		    !host_ok(h, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"))) {
			refused(h);
			return json_error(conn, 421, "unknown Host (--http-host)");
		}
		return ep_http_qoe(h->qoe, &h->qoe_cfg, conn, method, upload_data, upload_size,
				   &rq->qoe);
	}
	if (h->qoe_only)
		return json_error(conn, 404, "this listener takes only POST /api/v1/qoe");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return json_error(conn, 405, "only GET");
	if (*upload_size) /* no bodies */
		return json_error(conn, 413, "request bodies are not accepted");
	if (!rq)
		return MHD_NO; /* out of memory in uri_log */
	if (!rq->seen) { /* first call: headers only */
		rq->seen = 1;
		return MHD_YES;
	}
	if (rq->too_big) {
		refused(h);
		return json_error(conn, 414, "query string too long or too many parameters");
	}
	if (!host_ok(h, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"))) {
		refused(h);
		return json_error(conn, 421, "unknown Host (--http-host)");
	}
	if (h->token && (!strncmp(url, "/api/", 5) || !strcmp(url, "/metrics")) &&
	    !token_ok(h, conn)) {
		refused(h);
		return json_error(conn, 401, "a bearer token is required");
	}
	if (!strcmp(url, "/api/v1/stream")) {
		enum MHD_Result ret;

		if (ep_http_stream_open(h, conn, &ret) < 0) {
			refused(h);
			return json_error(conn, 503, "too many stream subscribers");
		}
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
	unsigned max_conns, per_addr, flags;
	struct MHD_OptionItem tls[3], pool[2];
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
	h->qoe = cfg->qoe;
	h->qoe_only = cfg->qoe_only;
	if (cfg->qoe_cfg)
		h->qoe_cfg = *cfg->qoe_cfg;
	h->web_fd = -1;
	max_conns = cfg->max_conns ? cfg->max_conns : 64;
	per_addr = cfg->per_addr ? cfg->per_addr : max_conns / 8 < 2 ? 2 : max_conns / 8;
	h->sse_max = cfg->sse_max ? cfg->sse_max : max_conns / 4 ? max_conns / 4 : 1;
	h->sse_per_addr = cfg->sse_per_addr ? cfg->sse_per_addr : 2;
	memcpy(h->hosts, cfg->hosts, sizeof(h->hosts));
	h->subs = calloc(h->sse_max, sizeof(*h->subs));
	h->sub_used = calloc(h->sse_max, 1);
	h->token = cfg->token ? strdup(cfg->token) : NULL;
	if (!h->subs || !h->sub_used || (cfg->token && !h->token)) {
		freeaddrinfo(ai);
		ep_http_stop(h);
		return -ENOMEM;
	}
	/* Without the directory the API still serves; the dashboard answers 404 (main warns). */
	if (cfg->web_dir)
		h->web_fd = open(cfg->web_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	/*
	 * The API: a thread per connection (a stream subscriber holds its thread).  The players'
	 * listener: short requests from many keep-alive connections, served by a small pool of
	 * epoll threads (a thread per connection spends most of a one-report request in the
	 * scheduler and select()).
	 */
	flags = (cfg->qoe_only ? MHD_USE_EPOLL_INTERNAL_THREAD
			       : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD) |
		MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
		(cfg->tls_cert ? MHD_USE_TLS : 0);
	pool[0] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, EP_HTTP_QOE_THREADS, NULL};
	pool[1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	/* HTTPS: the certificate and key options, or an empty list. */
	tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert};
	tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key};
	tls[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_addr,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 15,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		NULL, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL, MHD_OPTION_NOTIFY_COMPLETED,
		request_done, NULL, MHD_OPTION_ARRAY, cfg->tls_cert ? tls : tls + 2, MHD_OPTION_ARRAY,
		cfg->qoe_only ? pool : pool + 1, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen, "--http '%s': cannot listen (address in use or not local%s?)",
			 cfg->addr, cfg->tls_cert ? ", or a bad TLS certificate or key" : "");
		ep_http_stop(h);
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
	if (h->d) {
		pthread_mutex_lock(&h->lock);
		h->stopping = 1;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
		MHD_stop_daemon(h->d);
	}
	for (i = 0; i < STREAM_RING; i++)
		free(h->ring[i].data);
	if (h->web_fd >= 0)
		close(h->web_fd);
	free(h->subs);
	free(h->sub_used);
	free(h->token);
	free(h);
}
