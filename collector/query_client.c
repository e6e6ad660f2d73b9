/* SPDX-License-Identifier: BSD-3-Clause */
/* query_client.c - edgeprobe-query's HTTP client (libcurl) and JSON helpers. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "query.h"

/* The response body, bounded (a collector answers a query in megabytes at most). */
#define MAX_BODY (256u << 20)

struct body {
	char *p;
	size_t len, cap;
	int too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;

	if (b->len + add + 1 > MAX_BODY) {
		b->too_big = 1;
		return 0; /* libcurl stops the transfer */
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + add + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* GET server + path with libcurl; the body in *body. @return HTTP status, or -1. */
int ep_query_http_get(const struct client *cl, const char *path, char **body, size_t *blen)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	struct body b = {0};
	CURL *h = curl_easy_init();
	long status = -1;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", cl->server, path);
	if (cl->auth[0])
		hdrs = curl_slist_append(hdrs, cl->auth);
	if (!h || !hdrs) {
		fprintf(stderr, "edgeprobe-query: out of memory\n");
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(h);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cl->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, cl->cacert);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else if (b.too_big)
		fprintf(stderr, "edgeprobe-query: %s: the response exceeds %u MiB\n", url,
			MAX_BODY >> 20);
	else
		fprintf(stderr, "edgeprobe-query: %s %s: %s\n",
			rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST
				? "cannot connect to" : "request failed:",
			url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		free(b.p);
		return -1;
	}
	if (!b.p && !(b.p = calloc(1, 1)))
		return -1;
	*body = b.p;
	*blen = b.len;
	return (int)status;
}

/* The first line of FILE as the bearer token. @return 0, or -1 (said why). */
int ep_query_read_token(struct client *cl, const char *file)
{
	char tok[512];
	FILE *fp = fopen(file, "r");

	if (!fp || !fgets(tok, sizeof(tok), fp)) {
		fprintf(stderr, "edgeprobe-query: --token-file '%s': %s\n", file,
			fp ? "empty" : strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	if (!strchr(tok, '\n') && fgetc(fp) != EOF) {
		fprintf(stderr, "edgeprobe-query: --token-file '%s': first line longer than %zu bytes\n",
			file, sizeof(tok) - 2);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	tok[strcspn(tok, "\r\n")] = '\0';
	if (!tok[0]) {
		fprintf(stderr, "edgeprobe-query: --token-file '%s': empty first line\n", file);
		return -1;
	}
	snprintf(cl->auth, sizeof(cl->auth), "Authorization: Bearer %s", tok);
	return 0;
}

json_t *ep_query_fetch(const struct client *cl, const char *path, int raw)
{
	char *body = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *j;
	int status = ep_query_http_get(cl, path, &body, &len);

	if (status < 0)
		return NULL;
	j = json_loadb(body, len, 0, &jerr);
	if (status != 200) {
		const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;

		fprintf(stderr, "edgeprobe-query: %s: HTTP %d: %s\n", path, status,
			msg ? msg : body);
		free(body);
		json_decref(j);
		return NULL;
	}
	if (!j) {
		fprintf(stderr, "edgeprobe-query: %s: bad JSON: %s\n", path, jerr.text);
		free(body);
		return NULL;
	}
	if (raw)
		fwrite(body, 1, len, stdout);
	free(body);
	return j;
}

double ep_query_num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Microseconds as milliseconds; "-" for null (no sample). */
void ep_query_ms(char *buf, size_t n, json_t *us)
{
	if (!json_is_number(us))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f", json_number_value(us) / 1000.0);
}

const char *ep_query_str(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

/* Add k=v (percent-encoded) to the query of q. @return 0, or -1 (said why) */
int ep_query_append(char *q, size_t n, const char *k, const char *v)
{
	size_t len = strlen(q);
	char *e;
	int w;

	if (!v)
		return 0;
	if (!(e = curl_easy_escape(NULL, v, 0))) {
		fprintf(stderr, "edgeprobe-query: --%s: out of memory\n", k);
		return -1;
	}
	w = snprintf(q + len, n - len, "%s%s=%s", strchr(q, '?') ? "&" : "?", k, e);
	curl_free(e);
	if (w < 0 || (size_t)w >= n - len) {
		fprintf(stderr, "edgeprobe-query: --%s: too long\n", k);
		return -1;
	}
	return 0;
}

/* --country and --region, which every command passes on. */
int ep_query_append_where(char *q, size_t n, const char *country, const char *region)
{
	return ep_query_append(q, n, "country", country) || ep_query_append(q, n, "region", region) ? -1 : 0;
}
