/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_send.c - alerts POSTed to Alertmanager or a webhook by a sender thread (libcurl). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alert_send.h"
#include "wallclock.h"

#define BATCH_MAX 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define POST_TIMEOUT_MS 3000

struct item {
	char *json;
	size_t len;
};

struct ep_asend {
	enum ep_asend_kind kind;
	char url[1024];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *q;            /* ring */
	uint32_t cap, head, n;
	int stop;
	uint64_t stop_by;          /* wall ns: give up sending at stop after this */
	struct ep_asend_stats st;
};

static int valid_url(const char *u)
{
	const char *s;

	if (!strncmp(u, "http://", 7))
		s = u + 7;
	else if (!strncmp(u, "https://", 8))
		s = u + 8;
	else
		return 0;
	if (!*s || *s == '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* POST body to the receiver. @return 0 (2xx), -1 */
static int post(struct ep_asend *s, CURL *h, const char *body, size_t len)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)POST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	return rc == CURLE_OK && code >= 200 && code < 300 ? 0 : -1;
}

/* The queue's first n items as one request body (caller holds the lock). */
static char *batch_body(struct ep_asend *s, uint32_t n, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	uint32_t i;

	if (!fp)
		return NULL;
	fputs(s->kind == EP_ASEND_WEBHOOK ? "{\"receiver\":\"edgeprobe\",\"alerts\":[" : "[", fp);
	for (i = 0; i < n; i++) {
		const struct item *it = &s->q[(s->head + i) % s->cap];

		if (i)
			fputc(',', fp);
		fwrite(it->json, 1, it->len, fp);
	}
	fputs(s->kind == EP_ASEND_WEBHOOK ? "]}" : "]", fp);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Wait ms with the lock held (released meanwhile), or less when stopping. */
static void backoff_wait(struct ep_asend *s, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	/* New alerts signal too: keep waiting until the time is up or the sender stops. */
	while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
		;
}

static void *run(void *arg)
{
	struct ep_asend *s = arg;
	CURL *h = curl_easy_init();
	unsigned backoff = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		char *body;
		size_t len = 0;
		uint32_t n, i;
		uint64_t d0;
		int ok;

		while (!s->n && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->n || (s->stop && ep_wall_ns() > s->stop_by))
			break;
		n = s->n < BATCH_MAX ? s->n : BATCH_MAX;
		body = batch_body(s, n, &len);
		d0 = s->st.dropped;
		pthread_mutex_unlock(&s->lock);
		ok = body && h && post(s, h, body, len) == 0;
		free(body);
		pthread_mutex_lock(&s->lock);
		if (!ok) {
			s->st.failures++;
			backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			backoff_wait(s, backoff);
			s->st.retries++;
			continue;
		}
		backoff = 0;
		s->st.batches++;
		s->st.last_ok_wall = ep_wall_ns();
		/* Items dropped meanwhile (queue full) were the oldest: of those sent. */
		n = s->st.dropped - d0 >= n ? 0 : n - (uint32_t)(s->st.dropped - d0);
		for (i = 0; i < n; i++) {
			struct item *it = &s->q[s->head];

			free(it->json);
			it->json = NULL;
			s->head = (s->head + 1) % s->cap;
		}
		s->n -= n;
		s->st.sent += n;
	}
	pthread_mutex_unlock(&s->lock);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int ep_asend_start(struct ep_asend **out, enum ep_asend_kind kind, const char *url,
		   unsigned queue_max, char *err, size_t errlen)
{
	struct ep_asend *s;
	size_t n = strlen(url);

	if (!valid_url(url) || n + 16 > sizeof(s->url)) {
		snprintf(err, errlen, "'%s' is not an http:// or https:// URL", url);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kind = kind;
	while (n && url[n - 1] == '/' && kind == EP_ASEND_ALERTMANAGER)
		n--;
	snprintf(s->url, sizeof(s->url), "%.*s%s", (int)n, url,
		 kind == EP_ASEND_ALERTMANAGER ? "/api/v2/alerts" : "");
	s->cap = queue_max ? queue_max : 10000;
	s->q = calloc(s->cap, sizeof(*s->q));
	if (!s->q) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		free(s->q);
		free(s);
		snprintf(err, errlen, "cannot start the alert sender thread");
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void ep_asend_put(struct ep_asend *s, const char *json, size_t len)
{
	char *copy;

	if (!s)
		return;
	copy = malloc(len);
	pthread_mutex_lock(&s->lock);
	if (!copy) {
		s->st.dropped++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	memcpy(copy, json, len);
	if (s->n == s->cap) {
		/* Full: the oldest goes (a newer state of the same alert is likelier queued). */
		free(s->q[s->head].json);
		s->head = (s->head + 1) % s->cap;
		s->n--;
		s->st.dropped++;
	}
	s->q[(s->head + s->n) % s->cap] = (struct item){copy, len};
	s->n++;
	s->st.queued++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

struct ep_asend_stats ep_asend_stats(struct ep_asend *s)
{
	struct ep_asend_stats st;

	pthread_mutex_lock(&s->lock);
	st = s->st;
	st.depth = s->n;
	pthread_mutex_unlock(&s->lock);
	return st;
}

const char *ep_asend_url(const struct ep_asend *s)
{
	return s->url;
}

void ep_asend_stop(struct ep_asend *s, unsigned timeout_ms)
{
	uint32_t i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	s->stop_by = ep_wall_ns() + (uint64_t)timeout_ms * 1000000ull;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	for (i = 0; i < s->n; i++)
		free(s->q[(s->head + i) % s->cap].json);
	free(s->q);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
