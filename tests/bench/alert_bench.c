/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_bench.c - the alert engine's cost per closed 1 s window at N active
 * ASNs (every ASN in every window), under a rules file, beside the roll-up
 * of the same window (ep_view_advance: the collector's own work per window)
 * as the peer in the same run.  TSC cycles, then ms at the measured rate.
 *
 * Usage: alert_bench RULES_FILE [ASNS (10000)] [SECONDS (240)]
 * Prints one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "alert.h"
#include "collector.h"

#define S 1000000000ull
#define T0 (1767225600ull * S)

static struct ep_alerts *g_alerts;
static uint64_t g_eval_cycles, g_evals_windows;
static int g_measure;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_publish(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	uint64_t c0 = __rdtsc();

	ep_alerts_window(g_alerts, ctx, b, step_ns, T0 + b->start);
	if (g_measure) {
		g_eval_cycles += __rdtsc() - c0;
		g_evals_windows++;
	}
}

int main(int argc, char **argv)
{
	static struct ep_collector c;
	struct ep_collector_cfg cfg;
	struct ep_alert_rules rules;
	struct ep_alerts_cfg acfg = {.external_url = ""};
	uint32_t nasn = argc > 2 ? (uint32_t)atoi(argv[2]) : 10000;
	uint32_t secs = argc > 3 ? (uint32_t)atoi(argv[3]) : 240, i, s;
	struct ep_crec *recs = calloc(nasn, sizeof(*recs));
	struct ep_hbin *bins = calloc((size_t)nasn * 4, sizeof(*bins));
	uint64_t seed = 1, adv_cycles = 0, adv_windows = 0, ev0 = 0;
	double t0, t1, tsc_ns;
	uint64_t c0;
	char err[400];

	if (argc < 2 || !recs || !bins || nasn < 1) {
		fprintf(stderr, "usage: alert_bench RULES_FILE [ASNS] [SECONDS]\n");
		return 2;
	}
	if (ep_alert_rules_load(argv[1], &rules, err, sizeof(err)) < 0) {
		fprintf(stderr, "alert_bench: %s\n", err);
		return 2;
	}
	ep_collector_cfg_default(&cfg);
	cfg.max_asns = nasn + 10;
	cfg.memcap = 0;
	if (ep_collector_init(&c, &cfg) < 0 || ep_alerts_new(&g_alerts, &acfg) < 0)
		return 1;
	ep_alerts_set_rules(g_alerts, &rules, T0);
	c.publish = on_publish;
	c.publish_ctx = &c;
	c.alerts = g_alerts;
	t0 = now_s();
	c0 = __rdtsc();
	for (s = 0; s < secs; s++) {
		uint64_t t = T0 + (uint64_t)s * S, a0;

		/* One 1 s window per ASN: 4 RTT buckets of both histograms, a few counters. */
		for (i = 0; i < nasn; i++) {
			struct ep_crec *r = &recs[i];
			uint32_t k, base = 2000 + (i % 300) * 1000;

			memset(r, 0, sizeof(*r));
			r->asn = 1000 + i;
			r->c[EP_AC_segs_out] = 2000;
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			r->c[EP_AC_retx_out] = (seed >> 33) % 20;
			for (k = 0; k < 4; k++)
				bins[i * 4 + k] = (struct ep_hbin){
					ep_hdr_index(&c.hcfg, base + k * base / 8 + (int64_t)((seed >> 40) % 500)),
					20 + k};
			/* Indexes must ascend: the jitter may reorder neighbours. */
			for (k = 1; k < 4; k++)
				if (bins[i * 4 + k].idx <= bins[i * 4 + k - 1].idx)
					bins[i * 4 + k].idx = bins[i * 4 + k - 1].idx + 1;
			r->bins[EP_AH_RTT_DATA] = r->bins[EP_AH_RTT_HS] = &bins[i * 4];
			r->nbins[EP_AH_RTT_DATA] = r->nbins[EP_AH_RTT_HS] = 4;
		}
		ep_view_add(&c.all, t, t + S, recs, nasn);
		g_measure = s >= secs - 60; /* the last minute: baselines in their steady state */
		if (s == secs - 60)
			ev0 = ep_alerts_counters(g_alerts)[EP_ALC_alert_evaluations];
		a0 = __rdtsc();
		ep_view_advance(&c.all, t + S);
		if (g_measure) {
			adv_cycles += __rdtsc() - a0;
			adv_windows++;
		}
	}
	t1 = now_s();
	tsc_ns = (double)(__rdtsc() - c0) / ((t1 - t0) * 1e9);
	{
		const uint64_t *ctr = ep_alerts_counters(g_alerts);
		double eval = (double)g_eval_cycles / (double)(g_evals_windows ? g_evals_windows : 1);
		double adv = (double)(adv_cycles - g_eval_cycles) / (double)(adv_windows ? adv_windows : 1);

		printf("{\"asns\":%u,\"rules\":%u,\"seconds\":%u,\"windows_measured\":%llu,"
		       "\"eval_cycles_per_window\":%.0f,\"eval_ms_per_window\":%.2f,"
		       "\"rollup_cycles_per_window\":%.0f,\"eval_vs_rollup\":%.2f,"
		       "\"evaluations\":%llu,\"baselines\":%llu,\"cycles_per_evaluation\":%.0f,"
		       "\"fired\":%llu}\n",
		       nasn, rules.n, secs, (unsigned long long)g_evals_windows, eval,
		       eval / tsc_ns / 1e6, adv, adv > 0 ? eval / adv : 0.0,
		       (unsigned long long)ctr[EP_ALC_alert_evaluations],
		       (unsigned long long)ctr[EP_ALC_alert_baselines],
		       (double)g_eval_cycles / (double)(ctr[EP_ALC_alert_evaluations] - ev0 + 1),
		       (unsigned long long)ctr[EP_ALC_alerts_fired]);
	}
	ep_alerts_free(g_alerts);
	ep_collector_fini(&c);
	free(recs);
	free(bins);
	return 0;
}
