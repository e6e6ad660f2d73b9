/* SPDX-License-Identifier: BSD-3-Clause */
/* test_hist.c - HDR bucket math, percentiles, merge, reset and the V2 encoding. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "hist.h"
#include "xorshift.h"

/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

static void test_config(void)
{
	struct ep_hdr_cfg c;

	/* The layout HdrHistogram computes for (1, 60 s in us, 2 digits). */
	CHECK_EQ(ep_hdr_cfg_init(&c, 1, 60000000, 2), 0);
	CHECK_EQ(c.sub_bucket_count, 256);
	CHECK_EQ(c.sub_bucket_half_mag, 7);
	CHECK_EQ(c.bucket_count, 19);
	CHECK_EQ(c.counts_len, 2560);
	/* (1, 3600000000, 3): HdrHistogram's own example configuration. */
	CHECK_EQ(ep_hdr_cfg_init(&c, 1, 3600LL * 1000 * 1000, 3), 0);
	CHECK_EQ(c.sub_bucket_count, 2048);
	CHECK_EQ(c.bucket_count, 22);
	CHECK_EQ(c.counts_len, 23552);
	CHECK(ep_hdr_cfg_init(&c, 0, 100, 2) < 0);
	CHECK(ep_hdr_cfg_init(&c, 1, 100, 6) < 0);
	CHECK(ep_hdr_cfg_init(&c, 10, 15, 2) < 0);
}

static void test_log2(void)
{
	uint64_t v;
	int s, bad = 0;

	for (s = 0; s < 64; s++) {
		for (v = (1ULL << s); v && v < (1ULL << s) + 3; v++)
			bad += ep_hdr_log2(v) != 63 - __builtin_clzll(v);
		v = (1ULL << s) - 1;
		if (v)
			bad += ep_hdr_log2(v) != 63 - __builtin_clzll(v);
	}
	CHECK_EQ(bad, 0);
}

/* Every value maps to a bucket whose range contains it, and indexes grow with values. */
static void test_index_monotonic(void)
{
	struct ep_hdr_cfg c;
	int64_t v;
	int32_t prev = -1;
	int bad = 0;

	ep_hdr_cfg_init(&c, 1, 60000000, 2);
	for (v = 0; v < 60000000; v += 1 + v / 300) {
		int32_t i = ep_hdr_index(&c, v);
		int64_t lo = ep_hdr_value_at_index(&c, i);

		bad += i < prev || i >= c.counts_len || lo > v || v >= lo + ep_hdr_range_size(&c, lo);
		prev = i;
	}
	CHECK_EQ(bad, 0);
}

static void test_percentiles(void)
{
	struct ep_hist *h;
	int64_t v;

	CHECK_EQ(ep_hist_new(1, 60000000, 2, &h), 0);
	CHECK_EQ(ep_hist_percentile(h, 50), 0);
	for (v = 1; v <= 100000; v++)
		ep_hist_record(h, v);
	CHECK_EQ(h->total, 100000);
	/* Within the 2-digit precision (< 1%) of the exact value. */
	CHECK(llabs(ep_hist_percentile(h, 50) - 50000) <= 500);
	CHECK(llabs(ep_hist_percentile(h, 90) - 90000) <= 900);
	CHECK(llabs(ep_hist_percentile(h, 99) - 99000) <= 990);
	CHECK(llabs(ep_hist_max(h) - 100000) <= 1000);
	CHECK_EQ(ep_hist_min(h), 1);
	/* Small values are exact below the first bucket's 256. */
	ep_hist_reset(h);
	CHECK_EQ(h->total, 0);
	ep_hist_record(h, 7);
	ep_hist_record(h, 7);
	ep_hist_record(h, 200);
	CHECK_EQ(ep_hist_percentile(h, 50), 7);
	CHECK_EQ(ep_hist_percentile(h, 66.6), 7);
	CHECK_EQ(ep_hist_percentile(h, 67), 200);
	CHECK_EQ(ep_hist_percentile(h, 100), 200);
	/* Out of range. */
	ep_hist_record(h, 100000000);
	CHECK_EQ(h->clamped, 1);
	CHECK(ep_hist_max(h) >= 60000000);
	ep_hist_free(h);
}

/* The merge of two histograms equals the histogram of the union of their samples. */
static void test_merge(void)
{
	struct ep_hist *a, *b, *u;
	uint32_t x = 12345;
	int i, same = 1;

	ep_hist_new(1, 60000000, 2, &a);
	ep_hist_new(1, 60000000, 2, &b);
	ep_hist_new(1, 60000000, 2, &u);
	for (i = 0; i < 20000; i++) {
		int64_t v;

		x = x * 1103515245 + 12345;
		v = (x >> 8) % 5000000;
		ep_hist_record(i % 3 ? a : b, v);
		ep_hist_record(u, v);
	}
	CHECK_EQ(ep_hist_add(a, b), 0);
	CHECK_EQ(a->total, u->total);
	for (i = 0; i < a->cfg.counts_len; i++)
		same &= a->counts[i] == u->counts[i];
	CHECK(same);
	CHECK_EQ(ep_hist_percentile(a, 99), ep_hist_percentile(u, 99));
	ep_hist_free(b);
	ep_hist_new(1, 1000, 2, &b);
	CHECK(ep_hist_add(a, b) < 0);
	ep_hist_free(a);
	ep_hist_free(b);
	ep_hist_free(u);
}

static void test_encoding(void)
{
	struct ep_hist *h, *d;
	char b64[16384];
	uint8_t bin[16384];
	long n;
	int i, same = 1;

	ep_hist_new(1, 60000000, 2, &h);
	for (i = 0; i < 5000; i++)
		ep_hist_record(h, 1000 + (i * 7919) % 90000);
	ep_hist_record(h, 0);
	ep_hist_record(h, 59999999);
	n = ep_hist_encode_b64(&t_codec, h, b64, sizeof(b64));
	CHECK(n > 0);
	CHECK(strncmp(b64, "HISTFAAA", 8) == 0);
	CHECK_EQ(ep_hist_decode_b64(&t_codec, b64, (size_t)n, &d), 0);
	if (d) {
		CHECK_EQ(d->total, h->total);
		for (i = 0; i < h->cfg.counts_len; i++)
			same &= d->counts[i] == h->counts[i];
		CHECK(same);
		CHECK_EQ(ep_hist_percentile(d, 90), ep_hist_percentile(h, 90));
		ep_hist_free(d);
	}
	/* Binary form, and every truncation of it is rejected without a crash. */
	n = ep_hist_encode(&t_codec, h, bin, sizeof(bin));
	CHECK(n > 8);
	for (i = 0; i < n; i++) {
		CHECK(ep_hist_decode(&t_codec, bin, (size_t)i, &d) < 0);
		ep_hist_free(d);
	}
	/* Flipped bytes: either rejected or a valid histogram, never a crash. */
	for (i = 0; i < n; i++) {
		bin[i] ^= 0x5a;
		if (ep_hist_decode(&t_codec, bin, (size_t)n, &d) == 0)
			ep_hist_free(d);
		bin[i] ^= 0x5a;
	}
	CHECK(ep_hist_decode_b64(&t_codec, "HISTFAAA!!", 10, &d) < 0);
	CHECK_EQ(ep_hist_encode(&t_codec, h, bin, 4), -ENOSPC);
	ep_hist_free(h);
}

/* Encoding the sparse bins of a histogram gives the dense encoding's bytes, small or deflated. */
static void test_encoding_bins(void)
{
	static uint8_t dense[1 << 17], sparse[1 << 17];
	static struct ep_hbin bins[1 << 15];
	uint64_t rng = 0x2545f4914f6cdd1dull;
	int round, same = 1;

	for (round = 0; round < 40; round++) {
		struct ep_hist *h;
		uint32_t n = 0;
		int32_t i;
		long a, b;
		int k, values = round < 20 ? 1 + round : 200 * round;

		ep_hist_new(1, 60000000, round % 2 ? 3 : 2, &h);
		for (k = 0; k < values; k++)
			ep_hist_record(h, (int64_t)(xorshift64(&rng) % (round % 3 ? 200000 : 60000000)));
		if (round == 0)
			ep_hist_reset(h); /* empty */
		for (i = 0; i < h->cfg.counts_len; i++)
			if (h->counts[i])
				bins[n++] = (struct ep_hbin){i, h->counts[i]};
		a = ep_hist_encode(&t_codec, h, dense, sizeof(dense));
		b = ep_hist_encode_bins(&t_codec, &h->cfg, bins, n, sparse, sizeof(sparse));
		same &= a > 0 && a == b && memcmp(dense, sparse, (size_t)a) == 0;
		CHECK(ep_hist_encode_bins(&t_codec, &h->cfg, bins, n, NULL, 0) >= b);
		ep_hist_free(h);
	}
	CHECK(same);
}

int main(void)
{
	test_config();
	test_log2();
	test_index_monotonic();
	test_percentiles();
	test_merge();
	test_encoding();
	test_encoding_bins();
	CHECK_DONE();
}
