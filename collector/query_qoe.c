/* SPDX-License-Identifier: BSD-3-Clause */
/* query_qoe.c - edgeprobe-query explain and correlation: players' QoE against the network. */
#include <stdio.h>

#include <jansson.h>

#include "query.h"

static void pct(char *buf, size_t n, json_t *v)
{
	if (json_is_number(v))
		snprintf(buf, n, "%.2f%%", 100 * json_number_value(v));
	else
		snprintf(buf, n, "-");
}

int ep_query_explain(const struct client *cl, const char *asn, const char *range,
		     const char *baseline, const char *end, const char *country, const char *region,
		     int raw)
{
	char path[1024], a[32], b[32], p[32], p0[32], x[32], x0[32];
	json_t *j, *q, *n;

	snprintf(path, sizeof(path), "/api/v1/asns/%s/explain", asn);
	if (ep_query_append_where(path, sizeof(path), country, region) ||
	    ep_query_append(path, sizeof(path), "range", range) ||
	    ep_query_append(path, sizeof(path), "baseline", baseline) ||
	    ep_query_append(path, sizeof(path), "end", end))
		return 2;
	if (!(j = ep_query_fetch(cl, path, raw)))
		return 1;
	if (!raw) {
		q = json_object_get(j, "qoe");
		n = json_object_get(j, "network");
		pct(a, sizeof(a), json_object_get(q, "rebuffer_ratio"));
		pct(b, sizeof(b), json_object_get(q, "baseline_rebuffer_ratio"));
		ep_query_ms(p, sizeof(p), json_object_get(n, "rtt_p90_us"));
		ep_query_ms(p0, sizeof(p0), json_object_get(n, "baseline_rtt_p90_us"));
		pct(x, sizeof(x), json_object_get(n, "retx_rate"));
		pct(x0, sizeof(x0), json_object_get(n, "baseline_retx_rate"));
		printf("AS%s: %s\n  %s\n", asn, ep_query_str(j, "verdict", "?"),
		       ep_query_str(j, "summary", ""));
		printf("  %-22s %10s %10s\n", "", "NOW", "BASELINE");
		printf("  %-22s %10s %10s  (%s; %.0f sessions, %.0f stalls)\n", "rebuffering", a, b,
		       ep_query_str(q, "baseline_from", "?"), ep_query_num(q, "sessions"),
		       ep_query_num(q, "stalls"));
		printf("  %-22s %10s %10s\n", "in-flow RTT p90 (ms)", p, p0);
		printf("  %-22s %10s %10s\n", "retransmissions", x, x0);
	}
	json_decref(j);
	return 0;
}

static void rho(json_t *v, char after)
{
	if (json_is_number(v))
		printf("%9.2f%c", json_number_value(v), after);
	else
		printf("%9s%c", "-", after);
}

int ep_query_correlation(const struct client *cl, const char *range, const char *step,
			 const char *end, const char *country, const char *region, int raw)
{
	char path[1024], rb[32], p[32], x[32];
	json_t *j, *a;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/correlation");
	if (ep_query_append_where(path, sizeof(path), country, region) ||
	    ep_query_append(path, sizeof(path), "range", range) ||
	    ep_query_append(path, sizeof(path), "step", step) ||
	    ep_query_append(path, sizeof(path), "end", end))
		return 2;
	if (!(j = ep_query_fetch(cl, path, raw)))
		return 1;
	if (!raw) {
		printf("%-10s %7s %9s %8s %7s %9s %9s\n", "ASN", "POINTS", "REBUFFER", "P90_MS",
		       "RETX%", "RHO_RTT", "RHO_RETX");
		json_array_foreach(json_object_get(j, "asns"), i, a) {
			json_t *r1 = json_object_get(a, "rho_rtt_p90"),
			       *r2 = json_object_get(a, "rho_retx_rate");

			pct(rb, sizeof(rb), json_object_get(a, "rebuffer_ratio"));
			ep_query_ms(p, sizeof(p), json_object_get(a, "rtt_p90_us"));
			pct(x, sizeof(x), json_object_get(a, "retx_rate"));
			printf("AS%-8.0f %7.0f %9s %8s %7s ", ep_query_num(a, "asn"),
			       ep_query_num(a, "points"), rb, p, x);
			rho(r1, ' ');
			rho(r2, '\n');
		}
	}
	json_decref(j);
	return 0;
}
