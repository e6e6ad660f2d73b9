/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_collector.c - the collector's core: sparse histogram merges equal the
 * histogram of the union, sequence accounting (loss, duplicates, reordering,
 * restarts) is exact, roll-ups hold every record exactly once whatever the
 * tier, lateness or slot reuse, and ingest validates (signatures, histograms).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backlog.h"
#include "check.h"
#include "collector.h"
#include "shist.h"
#include "store.h"
#include "wire.h"
#include "xorshift.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;

static uint64_t rng = 88172645463325252ull;

/* Dense -> ascending bins. */
static uint32_t to_bins(const struct ep_hist *h, struct ep_hbin *b)
{
	uint32_t n = 0;
	int32_t i;

	for (i = h->min_idx; i <= h->max_idx; i++)
		if (h->counts[i])
			b[n++] = (struct ep_hbin){i, h->counts[i]};
	return n;
}

static void test_shist_union(void)
{
	static struct ep_hbin bins[4096];
	int trial;

	for (trial = 0; trial < 300; trial++) {
		struct ep_hist *uni, *part, *back;
		struct ep_shist s = {0};
		int p, nparts = 1 + (int)(xorshift64(&rng) % 6), bad = 0;
		double q;

		ep_hist_new(1, 60000000, 2, &uni);
		ep_hist_new(1, 60000000, 2, &part);
		ep_hist_new(1, 60000000, 2, &back);
		for (p = 0; p < nparts; p++) {
			int i, n = (int)(xorshift64(&rng) % 200);
			uint64_t base = 1 + xorshift64(&rng) % 100000;

			ep_hist_reset(part);
			for (i = 0; i < n; i++) {
				int64_t v = (int64_t)(base + xorshift64(&rng) % (base + 1));

				ep_hist_record(part, v);
				ep_hist_record(uni, v);
			}
			CHECK_EQ(ep_shist_add_bins(&s, bins, to_bins(part, bins), NULL), 0);
		}
		CHECK_EQ(s.total, uni->total);
		for (p = 1; p < (int)s.n; p++)
			if (s.b[p - 1].idx >= s.b[p].idx)
				bad++;
		CHECK_EQ(bad, 0);
		ep_shist_to_hist(&s, back);
		for (p = 0; p < uni->cfg.counts_len; p++)
			if (uni->counts[p] != back->counts[p])
				bad++;
		CHECK_EQ(bad, 0);
		for (q = 0; q <= 100.0; q += 12.5)
			CHECK_EQ(ep_hist_percentile(back, q), ep_hist_percentile(uni, q));
		CHECK_EQ(ep_hist_max(back), ep_hist_max(uni));
		ep_shist_free(&s);
		ep_hist_free(uni);
		ep_hist_free(part);
		ep_hist_free(back);
	}
}

static void test_seqwin(void)
{
	struct ep_seqwin w = {0};
	uint64_t s;

	/* First contact mid-run at 100: nothing before it is loss. */
	for (s = 100; s <= 110; s++)
		CHECK_EQ(ep_seqwin_check(&w, 5, s), EP_SEQ_NEW);
	CHECK_EQ(w.lost, 0);
	CHECK_EQ(ep_seqwin_check(&w, 5, 99), EP_SEQ_NEW); /* late, from before first contact */
	CHECK_EQ(w.lost, 0);
	CHECK_EQ(ep_seqwin_check(&w, 5, 113), EP_SEQ_NEW); /* 111, 112 missing */
	CHECK_EQ(w.lost, 2);
	CHECK_EQ(ep_seqwin_check(&w, 5, 112), EP_SEQ_NEW); /* reordered */
	CHECK_EQ(w.lost, 1);
	CHECK_EQ(w.reordered, 2); /* 99 and 112 */
	CHECK_EQ(ep_seqwin_check(&w, 5, 112), EP_SEQ_DUP);
	CHECK_EQ(ep_seqwin_check(&w, 5, 113), EP_SEQ_DUP);
	CHECK_EQ(w.dups, 2);
	CHECK_EQ(ep_seqwin_check(&w, 5, 113 + EP_SEQWIN_BITS + 10), EP_SEQ_NEW);
	CHECK_EQ(w.lost, 1 + EP_SEQWIN_BITS + 9);
	CHECK_EQ(ep_seqwin_check(&w, 5, 111), EP_SEQ_TOO_OLD); /* behind the window: stays lost */
	CHECK_EQ(w.lost, 1 + EP_SEQWIN_BITS + 9);
	/* Restart: a new epoch numbers from 1; its first message lost shows. */
	CHECK_EQ(ep_seqwin_check(&w, 9, 2), EP_SEQ_NEW);
	CHECK_EQ(w.restarts, 1);
	CHECK_EQ(w.lost, 1 + EP_SEQWIN_BITS + 9 + 1);
	CHECK_EQ(ep_seqwin_check(&w, 5, 200), EP_SEQ_STALE); /* the old epoch */
	CHECK_EQ(ep_seqwin_check(&w, 9, 1), EP_SEQ_NEW);
	CHECK_EQ(w.lost, 1 + EP_SEQWIN_BITS + 9);
	CHECK_EQ(ep_seqwin_check(&w, 9, 0), EP_SEQ_TOO_OLD);
}

/* ------------------------------------------------------------------------ */

struct tot {
	uint64_t c, n;
};

static void sum_cb(const struct ep_bucket *b, uint64_t step, void *ctx)
{
	struct tot *t = ctx;
	uint32_t i;

	(void)step;
	for (i = 0; i < b->set.n; i++) {
		t->c += b->set.e[i].c[EP_AC_segs_out];
		t->n += b->set.e[i].h[EP_AH_RTT_DATA].total;
	}
}

static uint64_t announced;

static void on_close(const struct ep_bucket *b, uint64_t step, void *ctx)
{
	(void)ctx;
	(void)step;
	(void)b;
	announced++;
}

static void test_store(void)
{
	const uint64_t ms = 1000000ull, t0 = 1700000000000000000ull;
	uint64_t steps[3] = {100 * ms, 1000 * ms, 60000 * ms};
	uint32_t counts[3] = {30, 120, 10};
	struct ep_view v;
	struct ep_hbin bins[8];
	struct ep_crec r;
	uint64_t want_c = 0, want_n = 0, w;
	struct tot t;
	int round;

	CHECK_EQ(ep_view_init(&v, 3, steps, counts, 5), 0);
	v.announce_tier = 1;
	v.on_close = on_close;
	/* 90 s of 100 ms windows, 8 ASNs (5 kept apart + "other"), advancing with a 1 s lag. */
	for (w = 0; w < 900; w++) {
		uint64_t start = t0 + w * 100 * ms;
		int a;

		for (a = 0; a < 8; a++) {
			memset(&r, 0, sizeof(r));
			r.asn = 64500 + (uint32_t)a;
			r.c[EP_AC_segs_out] = 1 + xorshift64(&rng) % 10;
			bins[0] = (struct ep_hbin){(int32_t)(100 + a), (uint32_t)(1 + xorshift64(&rng) % 5)};
			bins[1] = (struct ep_hbin){(int32_t)(900 + a), 1};
			r.bins[EP_AH_RTT_DATA] = bins;
			r.nbins[EP_AH_RTT_DATA] = 2;
			want_c += r.c[EP_AC_segs_out];
			want_n += bins[0].count + 1;
			ep_view_add(&v, start, start + 100 * ms, &r, 1);
		}
		if (w % 7 == 0 && start > t0 + 1000 * ms)
			ep_view_advance(&v, start - 1000 * ms);
	}
	CHECK(v.ctr.asn_cap > 0); /* ASNs beyond 5 were folded into "other" */
	/* Every tier's view of everything holds each record exactly once. */
	for (round = 0; round < 3; round++) {
		uint64_t used;

		memset(&t, 0, sizeof(t));
		used = ep_view_visit(&v, round == 2 ? t0 - 600000 * ms
					 : round == 1 ? t0 : v.newest_end - 2000 * ms,
				     v.newest_end, 0, sum_cb, &t);
		if (round == 2) {
			CHECK_EQ(used, 60000 * ms);
		}
		if (round >= 1) {
			CHECK_EQ(t.c, want_c);
			CHECK_EQ(t.n, want_n);
		} else {
			CHECK_EQ(used, round ? 1000 * ms : 100 * ms);
		}
	}
	/* Late data for a closed, long gone 100 ms window still lands once. */
	memset(&r, 0, sizeof(r));
	r.asn = 64500;
	r.c[EP_AC_segs_out] = 1000;
	ep_view_add(&v, t0 + 5 * 100 * ms, t0 + 6 * 100 * ms, &r, 1);
	want_c += 1000;
	ep_view_advance(&v, v.newest_end);
	memset(&t, 0, sizeof(t));
	ep_view_visit(&v, t0, v.newest_end, 0, sum_cb, &t);
	CHECK_EQ(t.c, want_c);
	CHECK_EQ(t.n, want_n);
	/* The same at 1 s resolution over the last 60 s: equal to the 100 ms ground truth there. */
	{
		struct tot a = {0}, b = {0};

		ep_view_visit(&v, v.newest_end - 2000 * ms, v.newest_end, 100 * ms, sum_cb, &a);
		ep_view_visit(&v, v.newest_end - 2000 * ms, v.newest_end, 1000 * ms, sum_cb, &b);
		CHECK_EQ(a.c, b.c);
		CHECK_EQ(a.n, b.n);
		CHECK(a.c > 0);
	}
	/* Every closed 1 s window was announced once. */
	CHECK_EQ(announced, 90);
	ep_view_fini(&v);

	/* Without any advance, slot reuse forces closes: still nothing lost. */
	CHECK_EQ(ep_view_init(&v, 3, steps, counts, 100), 0);
	want_c = 0;
	for (w = 0; w < 600; w++) {
		memset(&r, 0, sizeof(r));
		r.asn = 1;
		r.c[EP_AC_segs_out] = w;
		want_c += w;
		ep_view_add(&v, t0 + w * 100 * ms, t0 + (w + 1) * 100 * ms, &r, 1);
	}
	CHECK(v.ctr.forced_close > 0);
	memset(&t, 0, sizeof(t));
	ep_view_visit(&v, t0, v.newest_end, 0, sum_cb, &t);
	CHECK_EQ(t.c, want_c);
	/* Beyond every tier's retention: counted, not kept. */
	ep_view_advance(&v, v.newest_end);
	memset(&t, 0, sizeof(t));
	ep_view_visit(&v, t0 - 600000 * ms, v.newest_end, 0, sum_cb, &t);
	CHECK_EQ(t.c, want_c);
	ep_view_add(&v, t0 - 3600000 * ms, t0 - 3599900 * ms, &r, 1);
	CHECK_EQ(v.ctr.too_old, 1);
	ep_view_fini(&v);
	/* Bad tier layouts are refused. */
	steps[1] = 150 * ms;
	CHECK(ep_view_init(&v, 3, steps, counts, 5) < 0);
}

/*
 * A query over budget reads a coarser tier; the windows of it that the range cuts
 * come from the finer tier, so the sum is the same as the finer tier's own.
 */
static void test_budget_edges(void)
{
	const uint64_t ms = 1000000ull, s_ = 1000 * ms, t0 = 1700000000000000000ull;
	uint64_t steps[3] = {100 * ms, 1000 * ms, 10000 * ms};
	uint32_t counts[3] = {30, 120, 100};
	static const uint64_t ranges[][2] = {{5300, 97700}, {41500, 47200}, {10000, 90000},
					     {0, 119000}, {89900, 90100}};
	struct ep_view v;
	struct ep_crec r;
	struct tot t;
	uint64_t w;
	uint32_t i, a;

	CHECK_EQ(ep_view_init(&v, 3, steps, counts, 100), 0);
	for (w = 0; w < 1200; w++) { /* 120 s of 100 ms windows, 4 ASNs, segs_out = w */
		for (a = 0; a < 4; a++) {
			memset(&r, 0, sizeof(r));
			r.asn = 64500 + a;
			r.c[EP_AC_segs_out] = w;
			ep_view_add(&v, t0 + w * 100 * ms, t0 + (w + 1) * 100 * ms, &r, 1);
		}
		if (w % 10 == 9)
			ep_view_advance(&v, t0 + (w + 1) * 100 * ms);
	}
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint64_t start = t0 + ranges[i][0] * ms, end = t0 + ranges[i][1] * ms, want = 0;
		uint64_t lo = ranges[i][0] / 1000 * 10, hi = (ranges[i][1] + 999) / 1000 * 10;
		uint64_t budgets[3] = {0, 100, 1}, step;
		uint32_t b;

		/* the 1 s tier holds every edge: the windows of the seconds the range touches */
		for (w = lo; w < hi && w < 1200; w++)
			want += 4 * w;
		for (b = 0; b < 3; b++) {
			memset(&t, 0, sizeof(t));
			step = ep_view_visit_budget(&v, start, end, 0, budgets[b], sum_cb, &t);
			CHECK_EQ(t.c, want);
			if (b == 2) {
				CHECK_EQ(step, 10 * s_); /* over budget: the coarsest tier */
			}
		}
		/* a series (min_step) over budget keeps whole windows of the tier it reads */
		memset(&t, 0, sizeof(t));
		ep_view_visit_budget(&v, start, end, 10 * s_, 1, sum_cb, &t);
		want = 0;
		for (w = ranges[i][0] / 10000 * 100; w < (ranges[i][1] + 9999) / 10000 * 100 &&
						    w < 1200; w++)
			want += 4 * w;
		CHECK_EQ(t.c, want);
	}
	ep_view_fini(&v);
}

/* ------------------------------------------------------------------------ */

struct msgs {
	uint8_t *m[64];
	size_t len[64];
	int n;
};

static int keep(const uint8_t *msg, size_t len, void *ctx)
{
	struct msgs *s = ctx;

	s->m[s->n] = malloc(len + EP_WIRE_HMAC_BYTES);
	memcpy(s->m[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

#define NOW 1700000001000000000ull

static void test_ingest(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	struct ep_window w;
	struct ep_window_asn a[2];
	struct ep_hist *h;
	struct msgs s = {0};
	uint8_t copy[2048];
	int i;

	ep_hist_new(1, 60000000, 2, &h);
	for (i = 0; i < 50; i++)
		ep_hist_record(h, 20000 + i * 100);
	memset(&w, 0, sizeof(w));
	memset(a, 0, sizeof(a));
	w.type = EP_WIN_WINDOW;
	w.probe = "p";
	w.epoch = 7;
	w.seq = 1;
	w.start_ns = 1700000000000000000ull;
	w.end_ns = w.start_ns + 100000000ull;
	a[0].asn = 64501;
	a[0].org = "One";
	a[0].c[EP_AC_segs_out] = 10;
	a[0].h[EP_AH_RTT_DATA] = h;
	a[1].asn = 64502;
	a[1].org = "Two";
	w.asns = a;
	w.nasns = 2;
	CHECK_EQ(ep_wire_encode(&t_enc, &w, 1400, keep, &s), 1);
	w.seq = 2;
	w.start_ns += 100000000ull;
	w.end_ns += 100000000ull;
	CHECK_EQ(ep_wire_encode(&t_enc, &w, 1400, keep, &s), 1);

	ep_collector_cfg_default(&cfg);
	memcpy(cfg.key, "secret", 6);
	cfg.keylen = 6;
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	/* Unsigned: rejected. */
	CHECK_EQ(ep_collector_ingest(&c, s.m[0], s.len[0], NOW), EP_WIRE_E_AUTH);
	/* Signed with another key: rejected. */
	memcpy(copy, s.m[0], s.len[0]);
	CHECK(ep_wire_sign(copy, s.len[0], sizeof(copy), (const uint8_t *)"Secret", 6) > 0);
	CHECK_EQ(ep_collector_ingest(&c, copy, s.len[0] + 32, NOW), EP_WIRE_E_AUTH);
	/* Signed, then one bit flipped: rejected. */
	CHECK(ep_wire_sign(copy, s.len[0], sizeof(copy), (const uint8_t *)"secret", 6) > 0);
	copy[30] ^= 1;
	CHECK_EQ(ep_collector_ingest(&c, copy, s.len[0] + 32, NOW), EP_WIRE_E_AUTH);
	copy[30] ^= 1;
	CHECK_EQ(ep_collector_ingest(&c, copy, s.len[0] + 32, NOW), EP_WIRE_OK);
	/* Replayed: a duplicate. */
	CHECK_EQ(ep_collector_ingest(&c, copy, s.len[0] + 32, NOW), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_duplicate], 1);
	CHECK_EQ(c.rejected[EP_WIRE_E_AUTH], 3);
	/* Truncated: rejected by length. */
	CHECK_EQ(ep_collector_ingest(&c, copy, s.len[0], NOW), EP_WIRE_E_LENGTH);
	CHECK_EQ(c.nprobes, 1);
	CHECK_EQ(c.probes[0].msgs, 1);
	CHECK_EQ(c.all.ctr.records, 2);
	CHECK(strcmp(ep_collector_org(&c, 64501), "One") == 0);
	CHECK_EQ(c.totals[0].c[EP_AC_segs_out], 10);
	ep_collector_fini(&c);

	/* A histogram of another configuration rejects the whole message. */
	ep_collector_cfg_default(&cfg);
	cfg.hist_digits = 3;
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	CHECK_EQ(ep_collector_ingest(&c, s.m[1], s.len[1], NOW), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_hist_config], 1);
	CHECK_EQ(c.all.ctr.records, 0);
	ep_collector_fini(&c);

	/* A corrupt histogram body rejects the whole message. */
	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	memcpy(copy, s.m[1], s.len[1]);
	for (i = 0; i + 4 < (int)s.len[1]; i++)
		if (copy[i] == 0x1c && copy[i + 1] == 0x84 && copy[i + 2] == 0x93 && copy[i + 3] == 0x14)
			break;
	CHECK(i + 20 < (int)s.len[1]);
	copy[i + 16] ^= 0x55; /* inside the zlib stream: its checksum no longer matches */
	CHECK(ep_collector_ingest(&c, copy, s.len[1], NOW) != EP_WIRE_OK);
	CHECK_EQ(c.all.ctr.records, 0);
	CHECK_EQ(ep_collector_ingest(&c, s.m[1], s.len[1], NOW), EP_WIRE_OK);
	CHECK_EQ(c.all.ctr.records, 2);
	ep_collector_fini(&c);
	for (i = 0; i < s.n; i++)
		free(s.m[i]);
	ep_hist_free(h);
}

/* ------------------------------------------------------------------------ */
/* Hostile senders                                                            */
/* ------------------------------------------------------------------------ */

#define T0 1700000000000000000ull /* the collector's clock in these tests */
#define MS 1000000ull

struct one {
	uint8_t m[70000];
	size_t len;
};

static int keep_one(const uint8_t *msg, size_t len, void *ctx)
{
	struct one *o = ctx;

	memcpy(o->m, msg, len);
	o->len = len;
	return 0;
}

/* A 100 ms window of probe (epoch, seq) ending at end with one ASN. */
static struct one *msg(const char *probe, uint64_t epoch, uint64_t seq, uint64_t end, uint64_t segs,
		       const struct ep_hist *h, const char *org)
{
	static struct one o;
	struct ep_window w;
	struct ep_window_asn a;

	memset(&w, 0, sizeof(w));
	memset(&a, 0, sizeof(a));
	w.type = EP_WIN_WINDOW;
	w.probe = probe;
	w.epoch = epoch;
	w.seq = seq;
	w.end_ns = end;
	w.start_ns = end - 100 * MS;
	a.asn = 64501;
	a.org = org;
	a.c[EP_AC_segs_out] = segs;
	a.h[EP_AH_RTT_DATA] = h;
	w.asns = &a;
	w.nasns = 1;
	o.len = 0;
	CHECK_EQ(ep_wire_encode(&t_enc, &w, 65000, keep_one, &o), 1);
	return &o;
}

static int feed(struct ep_collector *c, const struct one *o, uint64_t now)
{
	return ep_collector_ingest(c, o->m, o->len, now);
}

static void test_time_and_text(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	struct one *o;

	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	/* One message from 2100 is refused; it moves nobody's view. */
	o = msg("evil", T0, 1, 4102444800000000000ull, 1, NULL, "");
	CHECK_EQ(feed(&c, o, T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_future], 1);
	o = msg("evil", UINT64_MAX, 1, T0, 1, NULL, ""); /* an epoch from the future */
	CHECK_EQ(feed(&c, o, T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_future], 2);
	CHECK_EQ(c.all.newest_end, 0);
	/* '@' starts the names of the collector's own views in the history: no probe's. */
	CHECK_EQ(feed(&c, msg("@qoe", T0 - 1000 * MS, 1, T0, 1, NULL, ""), T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_reserved_id], 1);
	CHECK_EQ(c.nprobes, 0);
	/* Within the skew: accepted. */
	CHECK_EQ(feed(&c, msg("honest", T0 - 1000 * MS, 1, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(feed(&c, msg("ahead", T0 - 1000 * MS, 1, T0 + 5000 * MS, 1, NULL, ""), T0),
		 EP_WIRE_OK);
	/* The watermark follows the slowest live probe, not the one ahead. */
	ep_collector_tick(&c, T0, 0);
	CHECK(c.watermark <= T0 - cfg.grace_ns);
	CHECK(c.watermark > 0);
	/* Text: a probe id or name that is not printable UTF-8 is refused by reason. */
	CHECK_EQ(feed(&c, msg("bad\xff", T0, 1, T0, 1, NULL, ""), T0), EP_WIRE_E_TEXT);
	CHECK_EQ(feed(&c, msg("tab\there", T0, 1, T0, 1, NULL, ""), T0), EP_WIRE_E_TEXT);
	CHECK_EQ(feed(&c, msg("p", T0, 1, T0, 1, NULL, "Org\xc0\xaf"), T0), EP_WIRE_E_TEXT);
	CHECK_EQ(feed(&c, msg("p\xc3\xa9", T0, 1, T0, 1, NULL, "Telef\xc3\xb3nica"), T0),
		 EP_WIRE_OK);
	CHECK_EQ(c.rejected[EP_WIRE_E_TEXT], 3);
	ep_collector_fini(&c);
}

static void test_plausible(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	struct ep_hist *h;
	struct one *o;
	int32_t i;

	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	CHECK_EQ(feed(&c, msg("p", T0, 1, T0, UINT64_MAX, NULL, ""), T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_implausible], 1);
	/* Every bucket at 2^32-1. */
	ep_hist_new(EP_HIST_DEFAULT_LOWEST, cfg.hist_highest, cfg.hist_digits, &h);
	for (i = 0; i < h->cfg.counts_len; i++)
		h->counts[i] = UINT32_MAX;
	h->total = (int64_t)h->cfg.counts_len * UINT32_MAX;
	h->min_idx = 0;
	h->max_idx = h->cfg.counts_len - 1;
	o = msg("p", T0, 2, T0, 10, h, "");
	CHECK_EQ(feed(&c, o, T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_implausible], 2);
	/* A window two hours long. */
	o = msg("p", T0, 3, T0, 10, NULL, "");
	{
		struct ep_window_asn a = {0};
		struct ep_window w = {0};

		w.type = EP_WIN_WINDOW;
		w.probe = "p";
		w.epoch = T0;
		w.seq = 3;
		w.start_ns = T0 - 7200000 * MS;
		w.end_ns = T0;
		a.asn = 1;
		w.asns = &a;
		w.nasns = 1;
		CHECK_EQ(ep_wire_encode(&t_enc, &w, 65000, keep_one, o), 1);
	}
	CHECK_EQ(feed(&c, o, T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_implausible], 3);
	CHECK_EQ(c.all.ctr.records, 0);
	CHECK_EQ(feed(&c, msg("p", T0, 4, T0, 10, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(c.totals[0].c[EP_AC_segs_out], 10);
	ep_hist_free(h);
	ep_collector_fini(&c);
}

static void test_quarantine(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	uint8_t copy[2048];
	uint64_t s;
	struct one *o;

	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	for (s = 1; s <= 5; s++)
		CHECK_EQ(feed(&c, msg("p", T0 - 60000 * MS, s, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	/* A spoofed 2^64-1, and a spoofed restart with an older epoch: held, not adopted. */
	CHECK_EQ(feed(&c, msg("p", T0 - 60000 * MS, UINT64_MAX, T0, 1, NULL, ""), T0),
		 EP_WIRE_E__COUNT);
	CHECK_EQ(feed(&c, msg("p", T0 - 90000 * MS, 1, T0, 1, NULL, ""), T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_quarantined], 2);
	for (s = 6; s <= 20; s++)
		CHECK_EQ(feed(&c, msg("p", T0 - 60000 * MS, s, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(c.probes[0].seq.lost, 0);
	/* An honest restart after the clock stepped back: adopted on the third message. */
	for (s = 1; s <= 3; s++)
		CHECK_EQ(feed(&c, msg("p", T0 - 90000 * MS, s, T0, 1, NULL, ""), T0),
			 s < 3 ? EP_WIRE_E__COUNT : EP_WIRE_OK);
	CHECK_EQ(c.ctr[EP_CC_quarantine_adopted], 1);
	CHECK_EQ(feed(&c, msg("p", T0 - 90000 * MS, 4, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(c.probes[0].seq.restarts, 1);
	ep_collector_fini(&c);

	/* With a key: an authenticated older epoch is adopted at once when fresh, not when old. */
	ep_collector_cfg_default(&cfg);
	memcpy(cfg.key, "k", 1);
	cfg.keylen = 1;
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
#define SIGNED(o) (memcpy(copy, (o)->m, (o)->len), \
		   ep_wire_sign(copy, (o)->len, sizeof(copy), (const uint8_t *)"k", 1))
	o = msg("p", T0 - 60000 * MS, 1, T0, 1, NULL, "");
	CHECK_EQ(ep_collector_ingest(&c, copy, (size_t)SIGNED(o), T0), EP_WIRE_OK);
	o = msg("p", T0 - 900000 * MS, 1, T0 - 600000 * MS, 1, NULL, ""); /* a recording */
	CHECK_EQ(ep_collector_ingest(&c, copy, (size_t)SIGNED(o), T0), EP_WIRE_E__COUNT);
	CHECK_EQ(c.ctr[EP_CC_rejected_stale], 1);
	o = msg("p", T0 - 90000 * MS, 1, T0, 1, NULL, "");
	CHECK_EQ(ep_collector_ingest(&c, copy, (size_t)SIGNED(o), T0), EP_WIRE_OK);
	CHECK_EQ(c.probes[0].seq.restarts, 1);
	ep_collector_fini(&c);
}

static void test_memcap_and_probes(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	struct ep_hist *h;
	uint64_t cap, peak = 0, s;
	char id[32];
	int32_t i;

	ep_collector_cfg_default(&cfg);
	cfg.max_probes = 8;
	cfg.memcap = 1;
	CHECK_EQ(ep_collector_init(&c, &cfg), -ENOSPC); /* below the fixed tables: refused */
	cfg.memcap = 0;
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	/* A cap only 4 MiB above the fixed tables (below what the command line allows). */
	cap = c.mem_fixed + (4u << 20);
	c.cfg.memcap = cap;
	/* Dense histograms, each message in another minute of the past day. */
	ep_hist_new(EP_HIST_DEFAULT_LOWEST, cfg.hist_highest, cfg.hist_digits, &h);
	for (i = 0; i < h->cfg.counts_len; i += 2)
		ep_hist_record(h, ep_hdr_value_at_index(&h->cfg, i));
	for (s = 1; s <= 600; s++) {
		uint64_t end = T0 - (600 - s) * 60000 * MS;

		feed(&c, msg("attacker", T0, s, end, 10, h, ""), T0);
		if (s % 10 == 0)
			ep_collector_tick(&c, T0, 0);
		if (ep_collector_mem(&c) > peak)
			peak = ep_collector_mem(&c);
	}
	CHECK(c.ctr[EP_CC_memcap_shed] > 0);
	/* Within the cap, give or take one message's buckets. */
	CHECK(peak <= cap + (1u << 20));
	/* The newest data is still there and honest data still merges. */
	CHECK_EQ(feed(&c, msg("honest", T0, 1, T0, 7, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(c.ctr[EP_CC_rejected_memcap], 0);
	/* Junk ids fill the probe table; an honest new probe still gets in. */
	for (s = 0; s < 20; s++) {
		snprintf(id, sizeof(id), "junk%u", (unsigned)s);
		feed(&c, msg(id, T0, 1, T0, 1, NULL, ""), T0);
	}
	CHECK(c.ctr[EP_CC_probes_evicted] >= 10);
	CHECK_EQ(feed(&c, msg("newcomer", T0, 1, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	CHECK(ep_collector_probe(&c, "newcomer") != NULL);
	CHECK(ep_collector_probe(&c, "attacker") != NULL); /* established: kept */
	ep_hist_free(h);
	ep_collector_fini(&c);
	/* An absurd table size is a configuration error, not a hang. */
	cfg.max_probes = UINT32_MAX;
	CHECK_EQ(ep_collector_init(&c, &cfg), -EINVAL);
}

static void test_state(void)
{
	struct ep_collector_cfg cfg;
	struct ep_collector c;
	char path[] = "/tmp/ep_state_XXXXXX";
	size_t len;
	char *text;
	uint64_t s;
	FILE *fp;
	int fd;

	ep_collector_cfg_default(&cfg);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	for (s = 1; s <= 10; s++)
		CHECK_EQ(feed(&c, msg("p\xc3\xa9", T0, s, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	text = ep_collector_state_text(&c, &len);
	ep_collector_fini(&c);
	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fwrite(text, 1, len, fp);
	fclose(fp);
	free(text);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	CHECK_EQ(ep_collector_state_load(&c, path), 1);
	/* A replay of what was accepted before the restart is refused ... */
	CHECK_EQ(feed(&c, msg("p\xc3\xa9", T0, 3, T0, 1, NULL, ""), T0), EP_WIRE_E__COUNT);
	CHECK_EQ(feed(&c, msg("p\xc3\xa9", T0, 10, T0, 1, NULL, ""), T0), EP_WIRE_E__COUNT);
	/* ... and what was sent while the collector was down counts as lost. */
	CHECK_EQ(feed(&c, msg("p\xc3\xa9", T0, 15, T0, 1, NULL, ""), T0), EP_WIRE_OK);
	CHECK_EQ(c.probes[0].seq.lost, 4);
	ep_collector_fini(&c);
	fp = fopen(path, "w");
	fputs("# edgeprobe-collector state v1: probe epoch max_seq\nno tab here\n", fp);
	fclose(fp);
	CHECK_EQ(ep_collector_init(&c, &cfg), 0);
	CHECK_EQ(ep_collector_state_load(&c, path), -EINVAL);
	CHECK_EQ(ep_collector_state_load(&c, "/nonexistent/state"), -ENOENT);
	ep_collector_fini(&c);
	unlink(path);
}

struct seen {
	uint64_t sum, now[4];
	int n;
};

static void on_held(const uint8_t *msg, size_t len, uint64_t now, void *ctx)
{
	struct seen *s = ctx;

	s->sum = s->sum * 31 + len + msg[0];
	s->now[s->n++ & 3] = now;
}

static void test_backlog(void)
{
	struct ep_backlog b;
	struct seen s = {0};
	uint8_t m[100];

	memset(m, 7, sizeof(m));
	CHECK_EQ(ep_backlog_init(&b, 250), 0);
	CHECK_EQ(ep_backlog_put(&b, m, 100, 11), 0);
	CHECK_EQ(ep_backlog_put(&b, m, 50, 12), 0);
	CHECK_EQ(ep_backlog_put(&b, m, 100, 13), -ENOSPC); /* full: nothing held */
	CHECK_EQ(b.n, 2);
	ep_backlog_drain(&b, on_held, &s);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.now[0], 11); /* in order, with their receive times */
	CHECK_EQ(s.now[1], 12);
	CHECK_EQ(s.sum, (uint64_t)(100 + 7) * 31 + 50 + 7);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(ep_backlog_put(&b, m, 100, 14), 0);
	ep_backlog_fini(&b);
}

int main(void)
{
	test_shist_union();
	test_seqwin();
	test_store();
	test_budget_edges();
	test_ingest();
	test_time_and_text();
	test_plausible();
	test_quarantine();
	test_memcap_and_probes();
	test_state();
	test_backlog();
	CHECK_DONE();
}
