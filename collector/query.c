/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-query - the collector's JSON API from a shell: top ASNs, a
 * percentile over time, regressions against a baseline, probe health, one
 * ASN's histogram; as tables, or the API's JSON with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#ifndef EP_VERSION
#define EP_VERSION "0.0.0"
#endif

static void usage(FILE *fp)
{
	fputs("usage: edgeprobe-query [--server URL] [--json] COMMAND [options]\n"
	      "  top [--by p50|p90|p99|max|retx_rate|samples|flows] [--metric rtt_data|rtt_hs]\n"
	      "      [--range 5m] [--limit 20] [--probe ID] [--end T]\n"
	      "  series ASN [--metric rtt_data|rtt_hs|retx_rate] [--q 0.99] [--step 1s] [--range 15m]\n"
	      "  regressions [--range 5m] [--baseline 1h] [--metric rtt_data] [--limit 20]\n"
	      "  histogram ASN [--range 1m]\n"
	      "  probes\n"
	      "The server defaults to $EDGEPROBE_COLLECTOR or http://127.0.0.1:8080.\n",
	      fp);
}

/* GET path from http://HOST:PORT; the body in *body. @return HTTP status, or -1. */
static int http_get(const char *server, const char *path, char **body, size_t *blen)
{
	char host[256], port[16] = "80", req[2048], *p, *resp = NULL;
	struct addrinfo hints = {0}, *ai, *it;
	size_t len = 0, cap = 0;
	const char *s = server;
	int fd = -1, status, rc;

	if (!strncmp(s, "http://", 7))
		s += 7;
	snprintf(host, sizeof(host), "%s", s);
	if ((p = strchr(host, '/')))
		*p = '\0';
	if (host[0] == '[') {
		char *close = strchr(host, ']');

		if (close && close[1] == ':')
			snprintf(port, sizeof(port), "%s", close + 2);
		if (close)
			*close = '\0';
		memmove(host, host + 1, strlen(host));
	} else if ((p = strrchr(host, ':'))) {
		*p = '\0';
		snprintf(port, sizeof(port), "%s", p + 1);
	}
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "edgeprobe-query: %s: %s\n", server, gai_strerror(rc));
		return -1;
	}
	for (it = ai; it; it = it->ai_next) {
		fd = socket(it->ai_family, it->ai_socktype, 0);
		if (fd >= 0 && connect(fd, it->ai_addr, it->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		fprintf(stderr, "edgeprobe-query: cannot connect to %s: %s\n", server, strerror(errno));
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n\r\n",
		 path, host);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 > cap) {
			char *r = realloc(resp, cap = cap ? cap * 2 : 65536);

			if (!r) {
				free(resp);
				close(fd);
				return -1;
			}
			resp = r;
		}
		n = read(fd, resp + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!resp)
		return -1;
	resp[len] = '\0';
	if (sscanf(resp, "HTTP/%*s %d", &status) != 1 || !(p = strstr(resp, "\r\n\r\n"))) {
		fprintf(stderr, "edgeprobe-query: %s: not an HTTP response\n", server);
		free(resp);
		return -1;
	}
	p += 4;
	*blen = len - (size_t)(p - resp);
	memmove(resp, p, *blen + 1);
	*body = resp;
	return status;
}

static json_t *fetch(const char *server, const char *path, int raw)
{
	char *body = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *j;
	int status = http_get(server, path, &body, &len);

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

static void ms(char *buf, size_t n, double us)
{
	snprintf(buf, n, "%.1f", us / 1000.0);
}

static void print_asn_table(json_t *asns, const char *metric)
{
	size_t i;
	json_t *a;

	printf("%-10s %-28s %8s %8s %9s %9s %9s %9s %7s\n", "ASN", "ORG", "FLOWS", "SAMPLES",
	       "P50_MS", "P90_MS", "P99_MS", "MAX_MS", "RETX%");
	json_array_foreach(asns, i, a) {
		json_t *h = json_object_get(a, metric);
		char p50[32], p90[32], p99[32], mx[32];
		const char *org = json_string_value(json_object_get(a, "org"));

		ms(p50, sizeof(p50), num(h, "p50_us"));
		ms(p90, sizeof(p90), num(h, "p90_us"));
		ms(p99, sizeof(p99), num(h, "p99_us"));
		ms(mx, sizeof(mx), num(h, "max_us"));
		printf("AS%-8.0f %-28.28s %8.0f %8.0f %9s %9s %9s %9s %7.3f\n", num(a, "asn"),
		       org ? org : "", num(a, "flows_new"), num(h, "n"), p50, p90, p99, mx,
		       100.0 * num(a, "retx_rate"));
	}
}

static int append(char *q, size_t n, const char *k, const char *v)
{
	size_t len = strlen(q);
	const char *s;
	char *o;

	if (!v)
		return 0;
	for (s = v; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("._-:", *s))) {
			fprintf(stderr, "edgeprobe-query: --%s '%s': unexpected character '%c'\n", k, v,
				*s);
			return -1;
		}
	o = q + len;
	snprintf(o, n - len, "%s%s=%s", strchr(q, '?') ? "&" : "?", k, v);
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
		{"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *server = getenv("EDGEPROBE_COLLECTOR"), *by = NULL, *metric = NULL,
		   *range = NULL, *limit = NULL, *probe = NULL, *end = NULL, *q = NULL, *step = NULL,
		   *baseline = NULL, *cmd, *asn = NULL;
	char path[1024];
	int opt, raw = 0, ret = 1;
	json_t *j = NULL;

	if (!server)
		server = "http://127.0.0.1:8080";
	/* Options may come before or after the command. */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': server = optarg; break;
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
		case 'h': usage(stdout); return 0;
		case 'V': printf("edgeprobe-query %s\n", EP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
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
		snprintf(path, sizeof(path), "/api/v1/asns");
		if (append(path, sizeof(path), "sort", by ? by : "samples") ||
		    append(path, sizeof(path), "metric", metric) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(server, path, raw)))
			return 1;
		if (!raw)
			print_asn_table(json_object_get(j, "asns"), metric ? metric : "rtt_data");
	} else if (!strcmp(cmd, "series")) {
		size_t i;
		json_t *pt;

		snprintf(path, sizeof(path), "/api/v1/asns/%s/series", asn);
		if (append(path, sizeof(path), "metric", metric) || append(path, sizeof(path), "q", q) ||
		    append(path, sizeof(path), "step", step) ||
		    append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(server, path, raw)))
			return 1;
		if (!raw) {
			int rate = metric && !strcmp(metric, "retx_rate");

			printf("%-24s %12s %10s\n", "TIME_UTC",
			       rate ? "RETX%" : "VALUE_MS", rate ? "SEGMENTS" : "SAMPLES");
			json_array_foreach(json_object_get(j, "points"), i, pt) {
				double t = json_number_value(json_array_get(pt, 0));
				json_t *v = json_array_get(pt, 1);
				time_t sec = (time_t)(t / 1e9);
				struct tm tm;
				char ts[40];

				gmtime_r(&sec, &tm);
				strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
				if (json_is_null(v))
					printf("%-20s.%03d %12s %10.0f\n", ts,
					       (int)((uint64_t)t / 1000000 % 1000), "-", 0.0);
				else
					printf("%-20s.%03d %12.*f %10.0f\n", ts,
					       (int)((uint64_t)t / 1000000 % 1000), rate ? 4 : 1,
					       rate ? 100 * json_number_value(v)
						    : json_number_value(v) / 1000.0,
					       json_number_value(json_array_get(pt, 2)));
			}
		}
	} else if (!strcmp(cmd, "regressions")) {
		size_t i;
		json_t *g;

		snprintf(path, sizeof(path), "/api/v1/regressions");
		if (append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "baseline", baseline) ||
		    append(path, sizeof(path), "metric", metric) ||
		    append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(server, path, raw)))
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
		if (append(path, sizeof(path), "range", range) ||
		    append(path, sizeof(path), "probe", probe) || append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = fetch(server, path, raw)))
			return 1;
		if (!raw) {
			json_t *a = json_object_get(j, "asn"), *arr = json_array();

			json_array_append(arr, a);
			print_asn_table(arr, metric ? metric : "rtt_data");
			json_decref(arr);
			printf("rtt_hs   %s\nrtt_data %s\n",
			       json_string_value(json_object_get(json_object_get(a, "rtt_hs"), "hdr")),
			       json_string_value(json_object_get(json_object_get(a, "rtt_data"), "hdr")));
		}
	} else if (!strcmp(cmd, "probes")) {
		size_t i;
		json_t *p;

		if (!(j = fetch(server, "/api/v1/probes", raw)))
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
	} else {
		fprintf(stderr, "edgeprobe-query: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	ret = 0;
	json_decref(j);
	return ret;
}
