/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-query - the collector's JSON API from a shell: top ASNs, a
 * percentile over time, regressions against a baseline, probe health, one
 * ASN's histogram; as tables, or the API's JSON with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "isotime.h"

#ifndef EP_VERSION
#define EP_VERSION "0.0.0"
#endif

static void usage(FILE *fp)
{
	fputs("usage: edgeprobe-query [--server URL] [--token-file F] [--cacert F] [--json] COMMAND [options]\n"
	      "  top [--by p50|p90|p99|max|retx_rate|samples|flows] [--metric rtt_data|rtt_hs]\n"
	      "      [--group asn|country|region|pair] [--range 5m] [--limit 20] [--probe ID]\n"
	      "      [--end T]\n"
	      "  series ASN [--metric rtt_data|rtt_hs|retx_rate] [--q 0.99] [--step 1s] [--range 15m]\n"
	      "  regressions [--range 5m] [--baseline 1h] [--metric rtt_data] [--limit 20]\n"
	      "  histogram ASN [--range 1m]\n"
	      "  probes\n"
	      "  alerts [--state firing|pending|resolved|all]\n"
	      "  report --period 2026-11|2026-11-30|yesterday|last-month [--format json|csv|html]\n"
	      "      [--out DIR]: a compliance report per (country, ASN), to stdout or a file\n"
	      "Every command takes --country CC and --region NAME (only that country's or\n"
	      "region's entries).\n"
	      "The server defaults to $EDGEPROBE_COLLECTOR or http://127.0.0.1:8080 (https:// with\n"
	      "the collector's --tls-cert; --cacert for a certificate the system does not trust).\n"
	      "--token-file: the first line is sent as the bearer token (the collector's\n"
	      "--api-token-file); default $EDGEPROBE_TOKEN_FILE.\n",
	      fp);
}

/* Where and how to ask: the server's base URL, a bearer token, a CA file for HTTPS. */
struct client {
	const char *server;
	const char *cacert;
	char auth[600]; /* "Authorization: Bearer TOKEN", or empty */
};

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
static int http_get(const struct client *cl, const char *path, char **body, size_t *blen)
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
static int read_token(struct client *cl, const char *file)
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

static json_t *fetch(const struct client *cl, const char *path, int raw)
{
	char *body = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *j;
	int status = http_get(cl, path, &body, &len);

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

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Microseconds as milliseconds; "-" for null (no sample). */
static void ms(char *buf, size_t n, json_t *us)
{
	if (!json_is_number(us))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f", json_number_value(us) / 1000.0);
}

static const char *str(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

/* A list: g 0 ASNs, 1 (ASN, country) pairs, 2 countries, 3 regions. */
static void print_table(json_t *rows, int g, const char *metric)
{
	static const char *const head[] = {"ASN        ORG                         ",
					   "ASN        CC ORG                         ",
					   "CC NAME                      REGION                   ",
					   "REGION                        "};
	size_t i;
	json_t *a;

	printf("%s %8s %8s %9s %9s %9s %9s %7s\n", head[g], "FLOWS", "SAMPLES", "P50_MS", "P90_MS",
	       "P99_MS", "MAX_MS", "RETX%");
	json_array_foreach(rows, i, a) {
		json_t *h = json_object_get(a, metric);
		char p50[32], p90[32], p99[32], mx[32];

		ms(p50, sizeof(p50), json_object_get(h, "p50_us"));
		ms(p90, sizeof(p90), json_object_get(h, "p90_us"));
		ms(p99, sizeof(p99), json_object_get(h, "p99_us"));
		ms(mx, sizeof(mx), json_object_get(h, "max_us"));
		if (g == 0)
			printf("AS%-8.0f %-28.28s", num(a, "asn"), str(a, "org", ""));
		else if (g == 1)
			printf("AS%-8.0f %-2s %-28.28s", num(a, "asn"), str(a, "country", "-"),
			       str(a, "org", ""));
		else if (g == 2)
			printf("%-2s %-24.24s %-24.24s", str(a, "country", "-"), str(a, "name", "unknown"),
			       str(a, "region", "-"));
		else
			printf("%-30.30s", str(a, "region", "(none)"));
		printf(" %8.0f %8.0f %9s %9s %9s %9s %7.3f\n", num(a, "flows_new"), num(h, "n"), p50,
		       p90, p99, mx, 100.0 * num(a, "retx_rate"));
	}
}

/* Add k=v (percent-encoded) to the query of q. @return 0, or -1 (said why) */
static int append(char *q, size_t n, const char *k, const char *v)
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
static int append_where(char *q, size_t n, const char *country, const char *region)
{
	return append(q, n, "country", country) || append(q, n, "region", region) ? -1 : 0;
}

/* yesterday / last-month (UTC) into a period; others are passed as given. @return 0, -1 */
static int resolve_period(const char *p, char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!p) {
		fprintf(stderr, "edgeprobe-query: report: --period is required (2026-11, 2026-11-30, "
				"yesterday, last-month)\n");
		return -1;
	}
	if (!strcmp(p, "yesterday")) {
		now -= 86400;
		gmtime_r(&now, &tm);
		strftime(out, n, "%Y-%m-%d", &tm);
	} else if (!strcmp(p, "last-month")) {
		gmtime_r(&now, &tm);
		tm.tm_mday = 1;
		tm.tm_mon--;
		if (tm.tm_mon < 0) {
			tm.tm_mon = 11;
			tm.tm_year--;
		}
		strftime(out, n, "%Y-%m", &tm);
	} else {
		snprintf(out, n, "%s", p);
	}
	return 0;
}

/*
 * The report endpoint's body to stdout, or to DIR/edgeprobe-report-PERIOD[-SCOPE].EXT
 * (written to a temporary name and renamed: a reader never sees half a report).
 */
static int report(const struct client *cl, const char *period, const char *format,
		  const char *outdir, const char *country, const char *region, const char *probe)
{
	char per[32], path[1024], file[1200], tmp[1300], scope[80] = "";
	const char *ext = format ? format : "json";
	char *body = NULL;
	size_t len = 0, i;
	int status;
	FILE *fp;

	if (resolve_period(period, per, sizeof(per)) < 0)
		return 2;
	snprintf(path, sizeof(path), "/api/v1/report");
	if (append(path, sizeof(path), "period", per) || append(path, sizeof(path), "format", format) ||
	    append_where(path, sizeof(path), country, region) ||
	    append(path, sizeof(path), "probe", probe))
		return 2;
	status = http_get(cl, path, &body, &len);
	if (status < 0)
		return 1;
	if (status != 200) {
		json_error_t jerr;
		json_t *j = json_loadb(body, len, 0, &jerr);
		const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;

		fprintf(stderr, "edgeprobe-query: %s: HTTP %d: %s\n", path, status, msg ? msg : body);
		json_decref(j);
		free(body);
		return 1;
	}
	if (!outdir) {
		fwrite(body, 1, len, stdout);
		free(body);
		return 0;
	}
	/* The scope in the file name, as letters, digits and '-'. */
	snprintf(scope, sizeof(scope), "%s%s", region || country ? "-" : "",
		 region ? region : country ? country : "");
	for (i = 1; scope[i]; i++)
		if (!((scope[i] >= 'a' && scope[i] <= 'z') || (scope[i] >= 'A' && scope[i] <= 'Z') ||
		      (scope[i] >= '0' && scope[i] <= '9')))
			scope[i] = '-';
	snprintf(file, sizeof(file), "%s/edgeprobe-report-%s%s.%s", outdir, per, scope, ext);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fp = fopen(tmp, "w");
	if (fp) {
		int bad = fwrite(body, 1, len, fp) != len;

		bad |= fclose(fp) != 0;
		fp = bad ? NULL : fp;
	}
	if (!fp || rename(tmp, file) < 0) {
		fprintf(stderr, "edgeprobe-query: report: writing %s: %s\n", file, strerror(errno));
		unlink(tmp);
		free(body);
		return 1;
	}
	free(body);
	printf("%s\n", file);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"by", required_argument, NULL, 'b'},     {"metric", required_argument, NULL, 'm'},
		{"range", required_argument, NULL, 'r'},  {"limit", required_argument, NULL, 'l'},
		{"probe", required_argument, NULL, 'p'},  {"end", required_argument, NULL, 'e'},
		{"q", required_argument, NULL, 'q'},      {"step", required_argument, NULL, 't'},
		{"baseline", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {"state", required_argument, NULL, 'S'},
		{"token-file", required_argument, NULL, 'T'}, {"cacert", required_argument, NULL, 'C'},
		{"group", required_argument, NULL, 'g'},  {"country", required_argument, NULL, 'c'},
		{"region", required_argument, NULL, 'R'},  {"period", required_argument, NULL, 'P'},
		{"format", required_argument, NULL, 'F'},  {"out", required_argument, NULL, 'O'},
		{NULL, 0, NULL, 0},
	};
	const char *server = getenv("EDGEPROBE_COLLECTOR"), *token = getenv("EDGEPROBE_TOKEN_FILE"),
		   *by = NULL, *metric = NULL,
		   *range = NULL, *limit = NULL, *probe = NULL, *end = NULL, *q = NULL, *step = NULL,
		   *baseline = NULL, *cmd, *asn = NULL, *state = NULL, *group = NULL,
		   *country = NULL, *region = NULL, *period = NULL, *format = NULL, *outdir = NULL;
	char path[1024];
	int opt, raw = 0, ret = 1;
	json_t *j = NULL;
	struct client cl = {0};

	if (!server)
		server = "http://127.0.0.1:8080";
	/* Options may come before or after the command. */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': server = optarg; break;
		case 'T': token = optarg; break;
		case 'C': cl.cacert = optarg; break;
		case 'j': raw = 1; break;
		case 'b': by = optarg; break;
		case 'm': metric = optarg; break;
		case 'r': range = optarg; break;
		case 'l': limit = optarg; break;
		case 'p': probe = optarg; break;
		case 'e': end = optarg; break;
		case 'q': q = optarg; break;
		case 't': step = optarg; break;
		case 'B': baseline = optarg; break;
		case 'S': state = optarg; break;
		case 'g': group = optarg; break;
		case 'c': country = optarg; break;
		case 'R': region = optarg; break;
		case 'P': period = optarg; break;
		case 'F': format = optarg; break;
		case 'O': outdir = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("edgeprobe-query %s\n", EP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	{
		/* The base URL without a trailing slash: paths start with one. */
		static char base[1024];
		size_t n = strlen(server);

		while (n > 1 && server[n - 1] == '/')
			n--;
		if (n >= sizeof(base)) {
			fprintf(stderr, "edgeprobe-query: --server: longer than %zu bytes\n",
				sizeof(base) - 1);
			return 2;
		}
		memcpy(base, server, n);
		base[n] = '\0';
		cl.server = base;
	}
	if (token && read_token(&cl, token) < 0)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "edgeprobe-query: libcurl failed to start\n");
		return 1;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "series") || !strcmp(cmd, "histogram")) {
		if (optind >= argc) {
			fprintf(stderr, "edgeprobe-query: %s: which ASN?\n", cmd);
			return 2;
		}
		asn = argv[optind++];
		if (strspn(asn + (strncasecmp(asn, "AS", 2) ? 0 : 2), "0123456789") !=
			    strlen(asn + (strncasecmp(asn, "AS", 2) ? 0 : 2)) || !asn[0]) {
			fprintf(stderr, "edgeprobe-query: '%s' is not an ASN\n", asn);
			return 2;
		}
		if (!strncasecmp(asn, "AS", 2))
			asn += 2;
	}
	if (optind < argc) {
		fprintf(stderr, "edgeprobe-query: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!strcmp(cmd, "top")) {
		static const char *const groups[][3] = {{"asn", "/api/v1/asns", "asns"},
							{"pair", "/api/v1/asns?by=country", "pairs"},
							{"country", "/api/v1/countries", "countries"},
							{"region", "/api/v1/regions", "regions"}};
		int g;

		for (g = 0; g < 4 && strcmp(group ? group : "asn", groups[g][0]); g++)
			;
		if (g == 4) {
			fprintf(stderr, "edgeprobe-query: --group '%s': asn, country, region or pair\n",
				group);
			return 2;
		}
		snprintf(path, sizeof(path), "%s", groups[g][1]);
		if (append(path, sizeof(path), "sort", by ? by : "samples") ||
		    append_where(path, sizeof(path), country, region) ||
		    append(path, sizeof(path), "metric", metric) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(&cl, path, raw)))
			return 1;
		if (!raw)
			print_table(json_object_get(j, groups[g][2]), g, metric ? metric : "rtt_data");
	} else if (!strcmp(cmd, "series")) {
		size_t i;
		json_t *pt;

		snprintf(path, sizeof(path), "/api/v1/asns/%s/series", asn);
		if (append_where(path, sizeof(path), country, region) ||
		    append(path, sizeof(path), "metric", metric) || append(path, sizeof(path), "q", q) ||
		    append(path, sizeof(path), "step", step) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(&cl, path, raw)))
			return 1;
		if (!raw) {
			int rate = metric && !strcmp(metric, "retx_rate");

			printf("%-24s %12s %10s\n", "TIME (UTC)",
			       rate ? "RETX%" : "VALUE_MS", rate ? "SEGMENTS" : "SAMPLES");
			json_array_foreach(json_object_get(j, "points"), i, pt) {
				double t = json_number_value(json_array_get(pt, 0));
				json_t *v = json_array_get(pt, 1);
				char ts[EP_ISO_TIME_LEN];

				ep_iso_time((uint64_t)t, 1, ts);
				if (json_is_null(v))
					printf("%s %12s %10.0f\n", ts, "-", 0.0);
				else
					printf("%s %12.*f %10.0f\n", ts, rate ? 4 : 1,
					       rate ? 100 * json_number_value(v)
						    : json_number_value(v) / 1000.0,
					       json_number_value(json_array_get(pt, 2)));
			}
		}
	} else if (!strcmp(cmd, "regressions")) {
		size_t i;
		json_t *g;

		snprintf(path, sizeof(path), "/api/v1/regressions");
		if (append_where(path, sizeof(path), country, region) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "baseline", baseline) ||
		    append(path, sizeof(path), "metric", metric) ||
		    append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(&cl, path, raw)))
			return 1;
		if (!raw) {
			printf("%-10s %-28s %7s %9s %9s %8s %8s\n", "ASN", "ORG", "SCORE", "P90_MS",
			       "BASE_MS", "RETX%", "BASE%");
			json_array_foreach(json_object_get(j, "regressions"), i, g) {
				const char *org = json_string_value(json_object_get(g, "org"));

				printf("AS%-8.0f %-28.28s %7.2f %9.1f %9.1f %8.3f %8.3f\n",
				       num(g, "asn"), org ? org : "", num(g, "score"),
				       num(g, "p90_us") / 1000, num(g, "baseline_p90_us") / 1000,
				       100 * num(g, "retx_rate"), 100 * num(g, "baseline_retx_rate"));
			}
		}
	} else if (!strcmp(cmd, "histogram")) {
		snprintf(path, sizeof(path), "/api/v1/asns/%s/histogram", asn);
		if (append_where(path, sizeof(path), country, region) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(&cl, path, raw)))
			return 1;
		if (!raw) {
			json_t *a = json_object_get(j, "asn"), *arr = json_array();

			json_array_append(arr, a);
			print_table(arr, 0, metric ? metric : "rtt_data");
			json_decref(arr);
			printf("rtt_hs   %s\nrtt_data %s\n",
			       json_string_value(json_object_get(json_object_get(a, "rtt_hs"), "hdr")),
			       json_string_value(json_object_get(json_object_get(a, "rtt_data"), "hdr")));
		}
	} else if (!strcmp(cmd, "report")) {
		return report(&cl, period, format, outdir, country, region, probe);
	} else if (!strcmp(cmd, "probes")) {
		size_t i;
		json_t *p;

		if (!(j = fetch(&cl, "/api/v1/probes", raw)))
			return 1;
		if (!raw) {
			printf("%-24s %8s %10s %8s %6s %6s %8s %8s %9s\n", "PROBE", "AGE_S", "MSGS",
			       "LOST", "DUPS", "REORD", "RESTARTS", "DROPPED", "PACKETS");
			json_array_foreach(json_object_get(j, "probes"), i, p) {
				printf("%-24.24s %8.1f %10.0f %8.0f %6.0f %6.0f %8.0f %8.0f %9.0f\n",
				       json_string_value(json_object_get(p, "id")), num(p, "age_s"),
				       num(p, "msgs"), num(p, "lost"), num(p, "duplicates"),
				       num(p, "reordered"), num(p, "restarts"), num(p, "windows_dropped"),
				       num(json_object_get(p, "stats"), "packets"));
			}
		}
	} else if (!strcmp(cmd, "alerts")) {
		size_t i;
		json_t *a;

		snprintf(path, sizeof(path), "/api/v1/alerts");
		if (append(path, sizeof(path), "state", state))
			return 2;
		if (!(j = fetch(&cl, path, raw)))
			return 1;
		if (!raw) {
			if (!json_is_true(json_object_get(j, "enabled")))
				printf("alerting is off (the collector has no --alert-rules)\n");
			printf("%-8s %-24s %-10s %-16s %12s %12s %9s  %s\n", "STATE", "RULE", "ASN",
			       "PROBE", "VALUE", "BASELINE", "SAMPLES", "SINCE");
			json_array_foreach(json_object_get(j, "alerts"), i, a) {
				const char *unit = json_string_value(json_object_get(a, "unit"));
				const char *pr = json_string_value(json_object_get(a, "probe"));
				double scale = unit && !strcmp(unit, "us") ? 1000.0
					       : unit && !strcmp(unit, "ratio") ? 0.01 : 1.0;
				json_t *base = json_object_get(a, "baseline");
				char asn_s[16] = "-", ts[EP_ISO_TIME_LEN];

				if (json_object_get(a, "asn"))
					snprintf(asn_s, sizeof(asn_s), "AS%.0f", num(a, "asn"));
				ep_iso_time((uint64_t)num(a, "since_ns"), 0, ts);
				printf("%-8s %-24.24s %-10s %-16.16s %12.3f ",
				       json_string_value(json_object_get(a, "state")),
				       json_string_value(json_object_get(a, "rule")), asn_s,
				       pr ? pr : "-", num(a, "value") / scale);
				if (json_is_number(base))
					printf("%12.3f ", json_number_value(base) / scale);
				else
					printf("%12s ", "-");
				printf("%9.0f  %s\n", num(a, "samples"), ts);
			}
			printf("values in %s\n", "ms (RTT), % (ratios), s, or per second");
		}
	} else {
		fprintf(stderr, "edgeprobe-query: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	ret = 0;
	json_decref(j);
	curl_global_cleanup();
	return ret;
}
