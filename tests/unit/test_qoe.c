/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_qoe.c - the QoE accounting's edges: duplicate and late sequence numbers, a report
 * older than its session's newest, a ts from the future, a full session table, a session
 * forgotten when idle, and the per-source rate limit.
 */
#include <string.h>

#include "asn_map.h"
#include "check.h"
#include "hist.h"
#include "qoe.h"
#include "store.h"

#define S 1000000000ull
#define NOW (1800000000ull * S)

static struct ep_qoe q;

static void add(const char *text, uint64_t now)
{
	struct ep_cmcd r;
	char detail[96];

	ep_cmcd_init(&r);
	CHECK_EQ(ep_cmcd_parse(&r, text, strlen(text), detail, sizeof(detail)), EP_CMCD_OK);
	ep_qoe_add(&q, &r, 64500, 0, now);
}

/* A counter of (64500, no country) summed over the view. */
static uint64_t total(enum ep_qoe_counter k)
{
	const struct ep_tier *t = &q.view.t[0];
	uint64_t sum = 0;
	uint32_t i, j;

	for (i = 0; i < t->count; i++)
		for (j = 0; t->b[i].used && j < t->b[i].set.n; j++)
			sum += t->b[i].set.e[j].c[k];
	return sum;
}

int main(void)
{
	struct ep_qoe_cfg cfg = {.max_sessions = 8, .rate = 5, .max_skew_ns = 10 * S};
	struct ep_hdr_cfg h;
	struct ep_asn_map *m;
	uint64_t steps[1] = {100000000ull};
	uint32_t counts[1] = {36000}; /* one hour of 100 ms windows */
	char line[128];
	int i, passed;
	uint8_t a1[4] = {203, 0, 113, 5}, a2[4] = {203, 0, 113, 6};

	CHECK_EQ(ep_hdr_cfg_init(&h, 1, EP_HIST_DEFAULT_HIGHEST, 2), 0);
	CHECK_EQ(ep_asn_map_empty(&m), 0);
	CHECK_EQ(ep_qoe_init(&q, &cfg, m, &h, 1, steps, counts, 1000), 0);

	/* Sequence numbers: a duplicate and one older than the last 64 are dropped. */
	add("sid=\"a\",sn=100,sta=p,ts=1799999990000", NOW);
	add("sid=\"a\",sn=100,sta=r,ts=1799999991000", NOW);
	CHECK_EQ(q.ctr[EP_QOE_qoe_duplicate], 1);
	add("sid=\"a\",sn=30", NOW);
	CHECK_EQ(q.ctr[EP_QOE_qoe_late], 1);
	add("sid=\"a\",sn=99,sta=p,ts=1799999992000", NOW); /* out of order but new: taken */
	CHECK_EQ(total(EP_QC_reports), 2);
	CHECK_EQ(total(EP_QC_play_ms), 2000);
	/* A report older than the session's newest is counted, not timed. */
	add("sid=\"a\",sn=101,sta=r,ts=1799999991500", NOW);
	CHECK_EQ(q.ctr[EP_QOE_qoe_reordered], 1);
	CHECK_EQ(total(EP_QC_play_ms), 2000);
	CHECK_EQ(total(EP_QC_stalls), 0);
	add("sid=\"a\",sn=102,sta=r,ts=1799999993000", NOW);
	add("sid=\"a\",sn=103,sta=p,ts=1799999995500", NOW);
	CHECK_EQ(total(EP_QC_stalls), 1);
	CHECK_EQ(total(EP_QC_stall_ms), 2500);
	CHECK_EQ(total(EP_QC_play_ms), 3000);
	/* A gap over 10 minutes is not timed. */
	add("sid=\"a\",sn=104,sta=e,ts=1800000700000", NOW + 700 * S);
	CHECK_EQ(total(EP_QC_play_ms), 3000);

	/* ts ahead of the clock by more than the skew: placed at arrival, counted. */
	add("sid=\"f\",ts=1800000020000", NOW);
	CHECK_EQ(q.ctr[EP_QOE_qoe_ts_ignored], 1);
	add("sid=\"f2\",ts=16000000000001", NOW); /* past the year 2500 */
	CHECK_EQ(q.ctr[EP_QOE_qoe_ts_ignored], 2);

	/* One set of 8 sessions: "a" (100 s idle) stays; "f" and "f2" (800 s idle) make room;
	 * the 9th new session finds none, until the others are idle too. */
	for (i = 0; i < 8; i++) {
		snprintf(line, sizeof(line), "sid=\"full%d\",br=1", i);
		add(line, NOW + 800 * S);
	}
	CHECK_EQ(q.ctr[EP_QOE_qoe_sessions_expired], 2);
	CHECK_EQ(q.ctr[EP_QOE_qoe_sessions_full], 1);
	add("sid=\"late-comer\",br=1", NOW + 1200 * S); /* the others idle for 400 s */
	CHECK_EQ(q.ctr[EP_QOE_qoe_sessions_expired], 3);
	CHECK_EQ(q.ctr[EP_QOE_qoe_sessions_full], 1);

	/* Rate: 5 reports/s, a burst of 10; another source has its own bucket. */
	for (i = 0, passed = 0; i < 30; i++)
		passed += ep_qoe_rate_take(&q, 4, a1, 1, NOW + (uint64_t)i * 1000);
	CHECK_EQ(passed, 10);
	CHECK_EQ(ep_qoe_rate_take(&q, 4, a2, 1, NOW), 1);
	CHECK_EQ(ep_qoe_rate_take(&q, 4, a1, 1, NOW + 2 * S), 1);   /* refilled */
	CHECK_EQ(ep_qoe_rate_take(&q, 4, a1, 20, NOW + 60 * S), 0); /* more than a burst */

	ep_qoe_fini(&q);

	/* --qoe-memcap: fine buckets, then old coarse ones, are shed; the view stays bounded. */
	{
		struct ep_qoe_cfg mc = {.max_sessions = 1024, .memcap = 256 << 10};
		uint64_t st2[2] = {100000000ull, 1000000000ull}, peak = 0;
		uint32_t ct2[2] = {600, 600};
		struct ep_cmcd r;
		uint32_t w, k;

		CHECK_EQ(ep_asn_map_empty(&m), 0);
		CHECK_EQ(ep_qoe_init(&q, &mc, m, &h, 2, st2, ct2, 100000), 0);
		ep_cmcd_init(&r);
		CHECK_EQ(ep_cmcd_parse(&r, "br=3000,mtp=5000,ot=v", 21, line, sizeof(line)), 0);
		for (w = 0; w < 300; w++)
			for (k = 0; k < 200; k++) {
				ep_qoe_add(&q, &r, 64500 + k, 0, NOW + (uint64_t)w * 100000000ull);
				if (q.view.bytes > peak)
					peak = q.view.bytes;
			}
		CHECK(q.ctr[EP_QOE_qoe_memcap_shed] > 0);
		CHECK(peak <= mc.memcap + 8192); /* one report's entry above the cap at most */
		CHECK_EQ(q.ctr[EP_QOE_qoe_reports] + q.ctr[EP_QOE_qoe_memcap_refused], 300 * 200);
		ep_qoe_fini(&q);
	}
	CHECK_DONE();
}
