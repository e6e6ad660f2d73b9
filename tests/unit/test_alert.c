/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_alert.c - the alert engine on windows fed straight into the
 * collector's roll-ups: a relative rule fires after its pending windows and
 * resolves after its clean ones, exactly once per episode (flapping
 * included); too few samples or no baseline yet give no verdict; absolute
 * rules need no baseline; a removed rule resolves its alerts; the state
 * table's cap is counted; rules files name the line of each error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"
#include "country.h"
#include "collector.h"

#define S 1000000000ull
#define T0 (1767225600ull * S)

struct events {
	int firing, resolved, refresh;
	char last_key[200];
	double last_value;
	char last_json[4096];
	char fired[512]; /* keys fired by the latest tick or window, ';'-separated */
};

static struct ep_alerts *g_alerts;
static struct events g_ev;
static uint64_t g_wall;
static uint32_t g_timed; /* RTTs measured per ASN and second (rtt_data_timed); 0: not counted */

static void on_event(const struct ep_alert_event *ev, void *ctx)
{
	struct events *e = ctx;

	if (ev->kind == EP_AE_FIRING) {
		e->firing++;
		if (strlen(e->fired) + strlen(ev->key) + 2 < sizeof(e->fired)) {
			strcat(e->fired, ev->key);
			strcat(e->fired, ";");
		}
	}
	else if (ev->kind == EP_AE_RESOLVED)
		e->resolved++;
	else
		e->refresh++;
	snprintf(e->last_key, sizeof(e->last_key), "%s", ev->key);
	snprintf(e->last_json, sizeof(e->last_json), "%.*s", (int)ev->json_len, ev->json);
}

static void on_publish(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	ep_alerts_window(g_alerts, ctx, b, step_ns, g_wall);
}

/*
 * One second [t, t + 1 s) of nasn ASNs (65001...): n in-flow samples of rtt_us each (in
 * its first 100 ms; g_timed RTTs measured, weighed as n), segs segments of which retx
 * retransmitted, as ten 100 ms windows.  Then close what it can.
 */
static void second(struct ep_collector *c, uint64_t t, uint32_t nasn, const uint32_t *rtt_us,
		   uint32_t n, uint64_t segs, uint64_t retx)
{
	static struct ep_crec recs[64];
	static struct ep_hbin bins[64];
	int w;
	uint32_t i;

	for (w = 0; w < 10; w++) {
		uint64_t s = t + (uint64_t)w * (S / 10);

		memset(recs, 0, sizeof(recs));
		for (i = 0; i < nasn; i++) {
			recs[i].asn = 65001 + i;
			recs[i].c[EP_AC_segs_out] = segs / 10;
			recs[i].c[EP_AC_retx_out] = retx / 10;
			recs[i].c[EP_AC_rtt_data_timed] = w == 0 ? g_timed : 0;
			/* The second's samples all in its first window. */
			bins[i] = (struct ep_hbin){ep_hdr_index(&c->hcfg, rtt_us[i]), n};
			recs[i].bins[EP_AH_RTT_DATA] = &bins[i];
			recs[i].nbins[EP_AH_RTT_DATA] = w == 0 && n ? 1 : 0;
		}
		ep_view_add(&c->all, s, s + S / 10, recs, nasn);
	}
	g_wall += S;
	ep_view_advance(&c->all, t + S);
}

static void setup(struct ep_collector *c, const char *rules_text, uint32_t max_states)
{
	struct ep_collector_cfg cfg;
	struct ep_alert_rules rules;
	struct ep_alerts_cfg acfg = {.external_url = "http://noc", .max_states = max_states,
				     .emit = on_event, .emit_ctx = &g_ev};
	char err[300] = "";

	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(c, &cfg), 0);
	c->publish = on_publish;
	c->publish_ctx = c;
	CHECK_EQ(ep_alerts_new(&g_alerts, &acfg), 0);
	CHECK_EQ(ep_alert_rules_parse(rules_text, "t.ini", &rules, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	ep_alerts_set_rules(g_alerts, &rules, g_wall);
	c->alerts = g_alerts;
	memset(&g_ev, 0, sizeof(g_ev));
}

static void teardown(struct ep_collector *c)
{
	ep_alerts_free(g_alerts);
	g_alerts = NULL;
	ep_collector_fini(c);
}

static const char *RELATIVE = "[up]\nmetric = rtt_data:p90\nover = 5s\nbaseline = 60s\n"
			      "ratio = 1.5\nmargin = 10ms\nmin_samples = 30\npending = 2\n"
			      "resolve = 5\n";

/* 20 ms for 90 s, 60 ms for 20 s, 20 ms again: one alert, fired and resolved on time. */
static void test_episode(void)
{
	struct ep_collector c;
	uint32_t base[1] = {20000}, bad[1] = {60000};
	uint64_t t = T0, fired_at = 0, resolved_at = 0;
	int i;

	setup(&c, RELATIVE, 0);
	for (i = 0; i < 90; i++, t += S)
		second(&c, t, 1, base, 100, 1000, 1);
	CHECK_EQ(g_ev.firing, 0);
	for (i = 0; i < 20; i++, t += S) {
		second(&c, t, 1, bad, 100, 1000, 1);
		if (g_ev.firing && !fired_at)
			fired_at = (t - T0) / S - 90;
	}
	/* The first bad window goes pending, two more fire it: the third bad second. */
	CHECK_EQ(fired_at, 2);
	CHECK_EQ(g_ev.firing, 1);
	CHECK(!strcmp(g_ev.last_key, "up/asn=65001"));
	CHECK(strstr(g_ev.last_json, "\"baseline\":20095") != NULL); /* HDR top of 20 ms */
	CHECK(strstr(g_ev.last_json, "\"url\":\"http://noc/#asn=65001\"") != NULL);
	CHECK_EQ(ep_alerts_firing(g_alerts), 1);
	for (i = 0; i < 30; i++, t += S) {
		second(&c, t, 1, base, 100, 1000, 1);
		if (g_ev.resolved && !resolved_at)
			resolved_at = (t - T0) / S - 110;
	}
	/* The 5 s span holds bad seconds for 4 more windows, then 5 clean ones resolve. */
	CHECK_EQ(resolved_at, 8);
	CHECK_EQ(g_ev.firing, 1);
	CHECK_EQ(g_ev.resolved, 1);
	CHECK_EQ(ep_alerts_firing(g_alerts), 0);
	CHECK_EQ(ep_alerts_counters(g_alerts)[EP_ALC_alerts_fired], 1);
	teardown(&c);
}

/* 3 s bad, 3 s good for a minute: one episode. */
static void test_flapping(void)
{
	struct ep_collector c;
	uint32_t base[1] = {20000}, bad[1] = {60000};
	uint64_t t = T0;
	int i;

	setup(&c, RELATIVE, 0);
	for (i = 0; i < 90; i++, t += S)
		second(&c, t, 1, base, 100, 1000, 1);
	for (i = 0; i < 60; i++, t += S)
		second(&c, t, 1, (i / 3) % 2 ? base : bad, 100, 1000, 1);
	for (i = 0; i < 30; i++, t += S)
		second(&c, t, 1, base, 100, 1000, 1);
	CHECK_EQ(g_ev.firing, 1);
	CHECK_EQ(g_ev.resolved, 1);
	teardown(&c);
}

/* Too few samples, or no baseline yet: no verdict (counted); an absolute rule needs none. */
static void test_no_verdict(void)
{
	struct ep_collector c;
	uint32_t base[2] = {20000, 20000}, bad[2] = {60000, 60000};
	uint64_t t = T0;
	const uint64_t *ctr;
	int i;

	setup(&c, "[up]\nmetric = rtt_data:p90\nover = 5s\nbaseline = 60s\nmin_samples = 30\n"
		  "margin = 10ms\n[abs]\nmetric = rtt_data:p90\nover = 5s\nabove = 50ms\n"
		  "min_samples = 30\npending = 0\n", 0);
	/* Degraded from the start: the relative rule has no baseline, the absolute one fires. */
	for (i = 0; i < 10; i++, t += S)
		second(&c, t, 2, bad, 100, 1000, 1);
	ctr = ep_alerts_counters(g_alerts);
	CHECK(ctr[EP_ALC_alert_no_baseline] > 0);
	CHECK_EQ(g_ev.firing, 2); /* abs, for both ASNs */
	CHECK(strstr(g_ev.last_key, "abs/asn=") == g_ev.last_key);
	teardown(&c);

	setup(&c, RELATIVE, 0);
	for (i = 0; i < 90; i++, t += S)
		second(&c, t, 1, base, 100, 1000, 1);
	for (i = 0; i < 20; i++, t += S)
		second(&c, t, 1, bad, 5, 1000, 1); /* 5 samples a second: 25 < 30 in 5 s */
	ctr = ep_alerts_counters(g_alerts);
	CHECK_EQ(g_ev.firing, 0);
	/* The first 4 bad seconds share their span with 100-sample ones: 16 without a verdict. */
	CHECK_EQ(ctr[EP_ALC_alert_few_samples], 16);
	teardown(&c);

	/*
	 * In-flow samples weighed by the echoes they stand for: 100 a second in the
	 * histogram, but 5 RTTs measured (25 < 30 in 5 s): no verdict.  With 10 (50),
	 * the same seconds fire.
	 */
	for (g_timed = 5; g_timed <= 10; g_timed += 5) {
		setup(&c, RELATIVE, 0);
		for (i = 0; i < 90; i++, t += S)
			second(&c, t, 1, base, 100, 1000, 1);
		for (i = 0; i < 20; i++, t += S)
			second(&c, t, 1, bad, 100, 1000, 1);
		ctr = ep_alerts_counters(g_alerts);
		CHECK_EQ(g_ev.firing, g_timed == 10);
		CHECK(g_timed == 10 || ctr[EP_ALC_alert_few_samples] > 100);
		teardown(&c);
	}
	g_timed = 0;
}

/* Retransmissions, a removed rule, and the state cap. */
static void test_retx_reload_cap(void)
{
	struct ep_collector c;
	struct ep_alert_rules r;
	uint32_t rtt[40];
	uint64_t t = T0;
	char err[300];
	int i;

	for (i = 0; i < 40; i++)
		rtt[i] = 20000;
	setup(&c, "[retx]\nmetric = retx_rate\nover = 5s\nbaseline = 60s\nratio = 3\nmargin = 2%\n"
		  "min_samples = 1000\npending = 0\n", 0);
	for (i = 0; i < 90; i++, t += S)
		second(&c, t, 1, rtt, 10, 1000, 5); /* 0.5 % */
	for (i = 0; i < 3; i++, t += S)
		second(&c, t, 1, rtt, 10, 1000, 80); /* 8 % */
	CHECK_EQ(g_ev.firing, 1);
	CHECK(strstr(g_ev.last_json, "\"metric\":\"retx_rate\"") != NULL);
	/* Removing the rule resolves its alert. */
	CHECK_EQ(ep_alert_rules_parse("[other]\nmetric = probe_silent\nabove = 10s\n", "t.ini", &r,
				      err, sizeof(err)), 0);
	ep_alerts_set_rules(g_alerts, &r, g_wall);
	CHECK_EQ(g_ev.resolved, 1);
	CHECK_EQ(ep_alerts_firing(g_alerts), 0);
	teardown(&c);

	setup(&c, "[abs]\nmetric = rtt_data:p90\nabove = 1ms\nmin_samples = 1\n", 16);
	for (i = 0; i < 3; i++, t += S)
		second(&c, t, 40, rtt, 10, 1000, 1);
	CHECK(ep_alerts_counters(g_alerts)[EP_ALC_alert_states_cap] > 0);
	CHECK(g_ev.firing > 0 && g_ev.firing <= 16);
	teardown(&c);
}

/* One 1 s window for one ASN: n samples of rtt_us. */
static void second1(struct ep_collector *c, uint64_t t, uint32_t rtt_us, uint32_t n)
{
	struct ep_crec rec = {.asn = 65001};
	struct ep_hbin bin = {ep_hdr_index(&c->hcfg, rtt_us), n};

	rec.c[EP_AC_segs_out] = 100;
	rec.bins[EP_AH_RTT_DATA] = &bin;
	rec.nbins[EP_AH_RTT_DATA] = 1;
	ep_view_add(&c->all, t, t + S, &rec, 1);
	g_wall += S;
	ep_view_advance(&c->all, t + S);
}

/*
 * The same time yesterday (offset = 1d): an evening peak that comes every day is not an
 * alert for it, while the previous-hour rule fires at its start; a peak above yesterday's
 * is.  A 1 min tier of 26 h keeps yesterday in memory.
 */
static void test_offset(void)
{
	static const char *rules =
		"[hour]\nmetric = rtt_data:p90\nover = 5s\nbaseline = 1h\nmargin = 10ms\n"
		"min_samples = 30\npending = 2\nresolve = 5\n"
		"[yesterday]\nmetric = rtt_data:p90\nover = 5s\nbaseline = 1h\noffset = 1d\n"
		"margin = 10ms\nmin_samples = 30\npending = 2\nresolve = 5\n";
	struct ep_collector_cfg cfg;
	struct ep_alert_rules r;
	struct ep_alerts_cfg acfg = {.max_states = 64, .emit = on_event, .emit_ctx = &g_ev};
	struct ep_collector c;
	char err[300] = "";
	uint64_t t = T0, s, hour_fired = 0, yest_fired = 0;

	ep_collector_cfg_default(&cfg);
	cfg.counts[2] = 26 * 60;
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	c.publish = on_publish;
	c.publish_ctx = &c;
	CHECK_EQ(ep_alerts_new(&g_alerts, &acfg), 0);
	CHECK_EQ(ep_alert_rules_parse(rules, "t.ini", &r, err, sizeof(err)), 0);
	ep_alerts_set_rules(g_alerts, &r, g_wall);
	memset(&g_ev, 0, sizeof(g_ev));
	/* Yesterday: 2 h of the 60 ms peak, then 22 h at 20 ms; today the peak again. */
	for (s = 0; s < 26 * 3600; s++, t += S) {
		int before = g_ev.firing;

		second1(&c, t, s < 7200 || s >= 86400 ? 60000 : 20000, 40);
		if (g_ev.firing > before && !strncmp(g_ev.last_key, "hour/", 5) && !hour_fired)
			hour_fired = s;
		if (g_ev.firing > before && !strncmp(g_ev.last_key, "yesterday/", 10))
			yest_fired = s;
	}
	CHECK(hour_fired >= 86400 && hour_fired < 86410); /* the previous hour says: alert */
	CHECK_EQ(yest_fired, 0);                          /* yesterday had the same peak */
	/* A peak above yesterday's: 150 ms. */
	for (s = 0; s < 20; s++, t += S) {
		int before = g_ev.firing;

		second1(&c, t, 150000, 40);
		if (g_ev.firing > before && !strncmp(g_ev.last_key, "yesterday/", 10) && !yest_fired)
			yest_fired = s + 1;
	}
	CHECK(yest_fired >= 1 && yest_fired <= 5);
	CHECK(strstr(g_ev.last_json, "\"baseline\":60") != NULL); /* yesterday's 60 ms peak */
	ep_alerts_free(g_alerts);
	g_alerts = NULL;
	ep_collector_fini(&c);
	CHECK_EQ(ep_alert_rules_parse("[a]\nmetric = retx_rate\noffset = 1d\nabove = 1%\n", "t.ini",
				      &r, err, sizeof(err)), -22);
	CHECK(strstr(err, "'offset' moves a baseline") != NULL);
}

/* Probe health, once a wall second: silence, message loss, capture drops, evictions. */
static void test_probe_health(void)
{
	static const char *rules =
		"[silent]\nmetric = probe_silent\nabove = 5s\npending = 0\nresolve = 1\n"
		"[loss]\nmetric = msg_loss\nover = 5s\nabove = 1%\nmin_samples = 100\npending = 1\n"
		"resolve = 3\n"
		"[drops]\nmetric = src_drops\nover = 5s\nabove = 0.1%\nmin_samples = 1000\n"
		"pending = 1\nresolve = 3\n"
		"[evict]\nmetric = evictions\nover = 5s\nabove = 100\nmin_samples = 1\npending = 1\n"
		"resolve = 3\n";
	struct ep_collector c;
	struct ep_cprobe *p;
	int i, silent_at = -1, loss_at = -1, drops_at = -1, evict_at = -1;

	setup(&c, rules, 0);
	p = ep_collector_probe_add(&c, "edge-1");
	CHECK(p != NULL);
	p->last_seen = g_wall;
	for (i = 0; i < 20; i++) {
		g_wall += S;
		g_ev.fired[0] = '\0';
		if (i < 12) { /* heard every second until 12 s, then silent */
			p->last_seen = g_wall;
			p->seq.accepted += 100;
			p->stats[EP_ST_packets] += 100000;
		}
		if (i >= 6 && i < 12) { /* from 6 s: 5 % message loss, 1 % drops, 500 evictions/s */
			p->seq.lost += 5;
			p->stats[EP_ST_src_drops] += 1000;
			p->stats[EP_ST_flows_evicted] += 500;
		}
		ep_alerts_tick(g_alerts, &c, g_wall);
		if (strstr(g_ev.fired, "silent/probe=edge-1;"))
			silent_at = i;
		if (strstr(g_ev.fired, "loss/probe=edge-1;"))
			loss_at = i;
		if (strstr(g_ev.fired, "drops/probe=edge-1;"))
			drops_at = i;
		if (strstr(g_ev.fired, "evict/probe=edge-1;"))
			evict_at = i;
	}
	/*
	 * One bad second goes pending, the second fires (pending = 1).  The first lossy second
	 * is 5 of 505 messages over the 5 s span: 0.99 %, under 1 %; the loss fires a second
	 * after the others.
	 */
	CHECK_EQ(loss_at, 8);
	CHECK_EQ(drops_at, 7);
	CHECK_EQ(evict_at, 7);
	CHECK(strstr(g_ev.last_key, "probe=edge-1") != NULL);
	/* Last heard at 11 s: 5 s of silence at 16 s. */
	CHECK_EQ(silent_at, 16);
	/* Loss, drops and evictions stopped at 12 s: resolved by now (3 clean seconds). */
	CHECK_EQ(g_ev.firing, 4);
	CHECK_EQ(g_ev.resolved, 3);
	CHECK_EQ(ep_alerts_firing(g_alerts), 1);
	teardown(&c);
}

/*
 * One ASN in two countries, DE at 60 ms and FR at 20 ms, for n seconds from t:
 * a record per country in each 100 ms window, the samples in the first.
 */
static void seconds_two_countries(struct ep_collector *c, uint64_t t, int n)
{
	struct ep_crec recs[2];
	struct ep_hbin bins[2];
	int s, w, i;

	for (s = 0; s < n; s++, t += S) {
		for (w = 0; w < 10; w++) {
			uint64_t st = t + (uint64_t)w * (S / 10);

			memset(recs, 0, sizeof(recs));
			for (i = 0; i < 2; i++) {
				recs[i].asn = 65001;
				recs[i].cc = ep_cc_parse(i ? "FR" : "DE", 2);
				recs[i].c[EP_AC_segs_out] = 100;
				bins[i] = (struct ep_hbin){ep_hdr_index(&c->hcfg, i ? 20000 : 60000), 50};
				recs[i].bins[EP_AH_RTT_DATA] = &bins[i];
				recs[i].nbins[EP_AH_RTT_DATA] = w == 0 ? 1 : 0;
			}
			ep_view_add(&c->all, st, st + S / 10, recs, 2);
		}
		g_wall += S;
		ep_view_advance(&c->all, t + S);
	}
}

/* Rules limited to a country or a region see only the ASN's entries there. */
static void test_country_rules(void)
{
	struct ep_collector c;
	char err[300];

	setup(&c, "[de]\nmetric = rtt_data:p90\nover = 2s\nabove = 40ms\nmin_samples = 5\n"
		  "pending = 0\ncountry = de\n"
		  "[fr]\nmetric = rtt_data:p90\nover = 2s\nabove = 40ms\nmin_samples = 5\n"
		  "pending = 0\ncountry = FR\n"
		  "[eu]\nmetric = rtt_data:p50\nover = 2s\nabove = 15ms\nmin_samples = 5\n"
		  "pending = 0\nregion = EU\n"
		  "[asia]\nmetric = rtt_data:p50\nover = 2s\nabove = 1ms\nmin_samples = 5\n"
		  "pending = 0\nregion = Asia\n", 0);
	CHECK_EQ(ep_regions_parse("[EU]\ncountries = DE FR\n[Asia]\ncountries = JP\n", "r.ini",
				  &c.regions, err, sizeof(err)), 0);
	seconds_two_countries(&c, T0, 5);
	/* DE (60 ms) fires, FR (20 ms) does not; EU's p50 over both (20|60) is above 15 ms; Asia has none. */
	CHECK_EQ(g_ev.firing, 2);
	CHECK_EQ(ep_alerts_firing(g_alerts), 2);
	CHECK(strstr(g_ev.last_json, "\"country\":null,\"region\":\"EU\"") != NULL ||
	      strstr(g_ev.last_json, "\"country\":\"DE\"") != NULL);
	teardown(&c);
	{
		struct ep_alert_rules r;

		CHECK_EQ(ep_alert_rules_parse("[a]\nmetric = retx_rate\nabove = 1%\ncountry = QQ\n",
					      "t.ini", &r, err, sizeof(err)), -22);
		CHECK(!strncmp(err, "t.ini:4: bad country 'QQ'", 25));
		CHECK_EQ(ep_alert_rules_parse("[a]\nmetric = probe_silent\nabove = 10s\n"
					      "country = DE\n", "t.ini", &r, err, sizeof(err)), -22);
	}
}

static void test_rules_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[a]\nmetric = rtt_data:p90\nabove = 20\n", "t.ini:3: bad above '20'"},
		{"[a]\nmetric = rtt_data:p101\nabove = 20ms\n", "t.ini:2: metric 'rtt_data:p101'"},
		{"[a]\nmetric = retx_rate\nover = 61s\nabove = 1%\n", "t.ini:3: bad over"},
		{"[a]\nmetric = retx_rate\nbaseline = 10s\nover = 10s\n", "t.ini:1: rule 'a': the baseline"},
		{"[a]\nmetric = retx_rate\nabove = 101%\n", "t.ini:3: bad above"},
		{"[a b]\nmetric = retx_rate\nabove = 1%\n", "t.ini:1: rule name 'a b'"},
		{"[a]\nmetric = retx_rate\nabove = 1%\nresolve = 0\n", "t.ini:4: bad resolve"},
		{"[a]\nmetric = retx_rate\n", "t.ini:1: rule 'a' needs 'above'"},
		{"[a]\nmetric = rebuffer_ratio\nabove = 2%\nrequires = b\n",
		 "t.ini:4: 'b' is not another rule"},
		{"[a]\nmetric = rebuffer_ratio\nabove = 2%\nunless = a\n",
		 "t.ini:4: 'a' is not another rule"},
		{"[a]\nmetric = rebuffer_ratio\nabove = 2%\nrequires = b\n[b]\nmetric = retx_rate\n"
		 "above = 1%\nscope = probe\n", "t.ini:4: 'b': requires and unless join rules of scope"},
		{"[a]\nmetric = rebuffer_ratio\nabove = 2%\nunless = b, b, b, b, b\n[b]\n"
		 "metric = retx_rate\nabove = 1%\n", "t.ini:4: more than 4 rules in unless"},
		{"[a]\nmetric = rebuffer_ratio:p90\nabove = 2%\n", "t.ini:2: metric 'rebuffer_ratio:p90'"},
	};
	struct ep_alert_rules r;
	char err[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CHECK_EQ(ep_alert_rules_parse(cases[i].text, "t.ini", &r, err, sizeof(err)), -22);
		if (strncmp(err, cases[i].want, strlen(cases[i].want))) {
			fprintf(stderr, "rules error '%s', wanted '%s...'\n", err, cases[i].want);
			CHECK(0);
		}
	}
	CHECK_EQ(ep_alert_rules_parse("; nothing\n", "t.ini", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(ep_alert_rules_parse("[x]\nmetric = rtt_hs:p99.9\nabove = 300ms\n", "t.ini", &r,
				      err, sizeof(err)), 0);
	CHECK(fabs(r.r[0].q - 0.999) < 1e-9 && r.r[0].above == 300000.0);
	/* Rebuffering joined with network rules, by name, in any order of the file. */
	CHECK_EQ(ep_alert_rules_parse("[q]\nmetric = rebuffer_ratio\nbaseline = 1h\nmargin = 1%\n"
				      "requires = r, x\nunless = x\n[r]\nmetric = rtt_data:p90\n"
				      "above = 1s\n[x]\nmetric = retx_rate\nabove = 5%\n",
				      "t.ini", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(r.r[0].metric, EP_AM_REBUFFER);
	CHECK(fabs(r.r[0].margin - 0.01) < 1e-12);
	CHECK_EQ(r.r[0].nrequires, 2);
	CHECK_EQ(r.r[0].requires[0], 1);
	CHECK_EQ(r.r[0].requires[1], 2);
	CHECK_EQ(r.r[0].nunless, 1);
	CHECK_EQ(r.r[0].unless[0], 2);
}

int main(void)
{
	test_country_rules();
	g_wall = 1764547200ull * S;
	test_rules_errors();
	test_episode();
	test_flapping();
	test_no_verdict();
	test_retx_reload_cap();
	test_offset();
	test_probe_health();
	CHECK_DONE();
}
