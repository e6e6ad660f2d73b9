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
#include "query.h"

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
	      "  explain ASN [--range 15m] [--baseline 1h] [--end T]: is the ISP's rebuffering\n"
	      "      the network's doing? (players' CMCD reports against the probes' RTT)\n"
	      "  correlation [--range 1h] [--step 1m]: per ISP, rank correlation of rebuffering\n"
	      "      with in-flow RTT p90 and retransmissions over time\n"
	      "Every command takes --country CC and --region NAME (only that country's or\n"
	      "region's entries).\n"
	      "The server defaults to $EDGEPROBE_COLLECTOR or http://127.0.0.1:8080 (https:// with\n"
	      "the collector's --tls-cert; --cacert for a certificate the system does not trust).\n"
	      "--token-file: the first line is sent as the bearer token (the collector's\n"
	      "--api-token-file); default $EDGEPROBE_TOKEN_FILE.\n",
	      fp);
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

		ep_query_ms(p50, sizeof(p50), json_object_get(h, "p50_us"));
		ep_query_ms(p90, sizeof(p90), json_object_get(h, "p90_us"));
		ep_query_ms(p99, sizeof(p99), json_object_get(h, "p99_us"));
		ep_query_ms(mx, sizeof(mx), json_object_get(h, "max_us"));
		if (g == 0)
			printf("AS%-8.0f %-28.28s", ep_query_num(a, "asn"), ep_query_str(a, "org", ""));
		else if (g == 1)
			printf("AS%-8.0f %-2s %-28.28s", ep_query_num(a, "asn"), ep_query_str(a, "country", "-"),
			       ep_query_str(a, "org", ""));
		else if (g == 2)
			printf("%-2s %-24.24s %-24.24s", ep_query_str(a, "country", "-"), ep_query_str(a, "name", "unknown"),
			       ep_query_str(a, "region", "-"));
		else
			printf("%-30.30s", ep_query_str(a, "region", "(none)"));
		printf(" %8.0f %8.0f %9s %9s %9s %9s %7.3f\n", ep_query_num(a, "flows_new"), ep_query_num(h, "n"), p50,
		       p90, p99, mx, 100.0 * ep_query_num(a, "retx_rate"));
	}
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
	if (token && ep_query_read_token(&cl, token) < 0)
		return 2;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "edgeprobe-query: libcurl failed to start\n");
		return 1;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "series") || !strcmp(cmd, "histogram") || !strcmp(cmd, "explain")) {
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
		if (ep_query_append(path, sizeof(path), "sort", by ? by : "samples") ||
		    ep_query_append_where(path, sizeof(path), country, region) ||
		    ep_query_append(path, sizeof(path), "metric", metric) ||
		    ep_query_append(path, sizeof(path), "range", range) ||
		    ep_query_append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    ep_query_append(path, sizeof(path), "probe", probe) || ep_query_append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = ep_query_fetch(&cl, path, raw)))
			return 1;
		if (!raw)
			print_table(json_object_get(j, groups[g][2]), g, metric ? metric : "rtt_data");
	} else if (!strcmp(cmd, "series")) {
		size_t i;
		json_t *pt;

		snprintf(path, sizeof(path), "/api/v1/asns/%s/series", asn);
		if (ep_query_append_where(path, sizeof(path), country, region) ||
		    ep_query_append(path, sizeof(path), "metric", metric) || ep_query_append(path, sizeof(path), "q", q) ||
		    ep_query_append(path, sizeof(path), "step", step) ||
		    ep_query_append(path, sizeof(path), "range", range) ||
		    ep_query_append(path, sizeof(path), "probe", probe) || ep_query_append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = ep_query_fetch(&cl, path, raw)))
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
		if (ep_query_append_where(path, sizeof(path), country, region) ||
		    ep_query_append(path, sizeof(path), "range", range) ||
		    ep_query_append(path, sizeof(path), "baseline", baseline) ||
		    ep_query_append(path, sizeof(path), "metric", metric) ||
		    ep_query_append(path, sizeof(path), "limit", limit ? limit : "20") ||
		    ep_query_append(path, sizeof(path), "probe", probe) || ep_query_append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = ep_query_fetch(&cl, path, raw)))
			return 1;
		if (!raw) {
			printf("%-10s %-28s %7s %9s %9s %8s %8s\n", "ASN", "ORG", "SCORE", "P90_MS",
			       "BASE_MS", "RETX%", "BASE%");
			json_array_foreach(json_object_get(j, "regressions"), i, g) {
				const char *org = json_string_value(json_object_get(g, "org"));

				printf("AS%-8.0f %-28.28s %7.2f %9.1f %9.1f %8.3f %8.3f\n",
				       ep_query_num(g, "asn"), org ? org : "", ep_query_num(g, "score"),
				       ep_query_num(g, "p90_us") / 1000, ep_query_num(g, "baseline_p90_us") / 1000,
				       100 * ep_query_num(g, "retx_rate"), 100 * ep_query_num(g, "baseline_retx_rate"));
			}
		}
	} else if (!strcmp(cmd, "histogram")) {
		snprintf(path, sizeof(path), "/api/v1/asns/%s/histogram", asn);
		if (ep_query_append_where(path, sizeof(path), country, region) ||
		    ep_query_append(path, sizeof(path), "range", range) ||
		    ep_query_append(path, sizeof(path), "probe", probe) || ep_query_append(path, sizeof(path), "end", end))
			return 2;
		if (!(j = ep_query_fetch(&cl, path, raw)))
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
	} else if (!strcmp(cmd, "explain")) {
		return ep_query_explain(&cl, asn, range, baseline, end, country, region, raw);
	} else if (!strcmp(cmd, "correlation")) {
		return ep_query_correlation(&cl, range, step, end, country, region, raw);
	} else if (!strcmp(cmd, "report")) {
		return ep_query_report(&cl, period, format, outdir, country, region, probe);
	} else if (!strcmp(cmd, "probes")) {
		size_t i;
		json_t *p;

		if (!(j = ep_query_fetch(&cl, "/api/v1/probes", raw)))
			return 1;
		if (!raw) {
			printf("%-24s %8s %10s %8s %6s %6s %8s %8s %9s\n", "PROBE", "AGE_S", "MSGS",
			       "LOST", "DUPS", "REORD", "RESTARTS", "DROPPED", "PACKETS");
			json_array_foreach(json_object_get(j, "probes"), i, p) {
				printf("%-24.24s %8.1f %10.0f %8.0f %6.0f %6.0f %8.0f %8.0f %9.0f\n",
				       json_string_value(json_object_get(p, "id")), ep_query_num(p, "age_s"),
				       ep_query_num(p, "msgs"), ep_query_num(p, "lost"), ep_query_num(p, "duplicates"),
				       ep_query_num(p, "reordered"), ep_query_num(p, "restarts"), ep_query_num(p, "windows_dropped"),
				       ep_query_num(json_object_get(p, "stats"), "packets"));
			}
		}
	} else if (!strcmp(cmd, "alerts")) {
		size_t i;
		json_t *a;

		snprintf(path, sizeof(path), "/api/v1/alerts");
		if (ep_query_append(path, sizeof(path), "state", state))
			return 2;
		if (!(j = ep_query_fetch(&cl, path, raw)))
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
					snprintf(asn_s, sizeof(asn_s), "AS%.0f", ep_query_num(a, "asn"));
				ep_iso_time((uint64_t)ep_query_num(a, "since_ns"), 0, ts);
				printf("%-8s %-24.24s %-10s %-16.16s %12.3f ",
				       json_string_value(json_object_get(a, "state")),
				       json_string_value(json_object_get(a, "rule")), asn_s,
				       pr ? pr : "-", ep_query_num(a, "value") / scale);
				if (json_is_number(base))
					printf("%12.3f ", json_number_value(base) / scale);
				else
					printf("%12s ", "-");
				printf("%9.0f  %s\n", ep_query_num(a, "samples"), ts);
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
