/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_merge.c - windows merged across sources: sorted sources merged from the
 * back (new ASNs before, between and after the known ones), an unsorted source
 * one by one, counters and histograms added exactly, ASNs kept in order, and
 * histograms reused from the pool after a pop come back empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "merge.h"
#include "xorshift.h"

static struct ep_hist *hist_of(int64_t v, int n)
{
	struct ep_hist *h;

	if (ep_hist_new(1, 60000000, 2, &h) < 0)
		abort();
	while (n-- > 0)
		ep_hist_record(h, v);
	return h;
}

static void set(struct ep_window_asn *a, uint32_t asn, uint64_t flows, int64_t rtt, int n)
{
	memset(a, 0, sizeof(*a));
	a->asn = asn;
	a->org = asn == 64500 ? NULL : "Org";
	a->c[EP_AC_flows_new] = flows;
	a->h[EP_AH_RTT_HS] = hist_of(rtt, n);
}

static void drop(struct ep_window_asn *a, int n)
{
	while (n-- > 0)
		ep_hist_free((struct ep_hist *)a[n].h[EP_AH_RTT_HS]);
}

/*
 * Sparse records (what a DPDK worker hands over) merge exactly as the dense
 * histograms they came from: two mergers, the same windows, one fed dense
 * and one sparse, pop the same counts and buckets.
 */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void test_sparse(void)
{
	struct ep_merge *md, *ms;
	static struct ep_hbin bins[64][EP_AH__COUNT][4096];
	struct ep_window_asn dense[64];
	struct ep_sparse_asn sparse[64];
	struct ep_window wd, ws;
	int round, bad = 0;

	CHECK_EQ(ep_merge_new(&md), 0);
	CHECK_EQ(ep_merge_new(&ms), 0);
	for (round = 0; round < 40; round++) {
		uint64_t start = (uint64_t)(round % 4) * 100000000ull;
		uint32_t n = 1 + (uint32_t)(xorshift64(&rng) % 64), i, k, asn = 64000;
		struct ep_hdr_cfg cfg;

		for (i = 0; i < n; i++) {
			memset(&dense[i], 0, sizeof(dense[i]));
			memset(&sparse[i], 0, sizeof(sparse[i]));
			asn += 1 + (uint32_t)(xorshift64(&rng) % 5);
			dense[i].asn = sparse[i].asn = asn;
			dense[i].org = sparse[i].org = "Org";
			dense[i].c[EP_AC_segs_out] = sparse[i].c[EP_AC_segs_out] = xorshift64(&rng) % 1000;
			for (k = 0; k < EP_AH__COUNT; k++) {
				struct ep_hist *h = hist_of(1, 0);
				int j, m = (int)(xorshift64(&rng) % 30);
				int32_t x;
				uint32_t nb = 0;

				for (j = 0; j < m; j++)
					ep_hist_record(h, (int64_t)(xorshift64(&rng) % 90000000)); /* some above the range */
				for (x = h->min_idx; x <= h->max_idx; x++)
					if (h->counts[x])
						bins[i][k][nb++] = (struct ep_hbin){x, h->counts[x]};
				cfg = h->cfg;
				dense[i].h[k] = h;
				sparse[i].bins[k] = bins[i][k];
				sparse[i].nbins[k] = nb;
				sparse[i].clamped[k] = h->clamped;
			}
		}
		CHECK_EQ(ep_merge_add(md, start, start + 100000000ull, dense, n), 0);
		CHECK_EQ(ep_merge_add_sparse(ms, start, start + 100000000ull, &cfg, sparse, n), 0);
		for (i = 0; i < n; i++)
			for (k = 0; k < EP_AH__COUNT; k++)
				ep_hist_free((struct ep_hist *)dense[i].h[k]);
	}
	while (ep_merge_pop(md, UINT64_MAX, &wd)) {
		uint32_t i, k;

		CHECK_EQ(ep_merge_pop(ms, UINT64_MAX, &ws), 1);
		CHECK_EQ(wd.nasns, ws.nasns);
		CHECK_EQ(wd.start_ns, ws.start_ns);
		for (i = 0; i < wd.nasns && i < ws.nasns; i++) {
			bad += wd.asns[i].asn != ws.asns[i].asn ||
			       wd.asns[i].c[EP_AC_segs_out] != ws.asns[i].c[EP_AC_segs_out];
			for (k = 0; k < EP_AH__COUNT; k++) {
				const struct ep_hist *a = wd.asns[i].h[k], *b = ws.asns[i].h[k];

				if (!a || !b) {
					bad += (a && a->total) != (b && b->total);
					continue;
				}
				bad += a->total != b->total || a->clamped != b->clamped ||
				       a->min_idx != b->min_idx || a->max_idx != b->max_idx ||
				       memcmp(a->counts, b->counts, ep_hist_counts_bytes(&a->cfg));
			}
		}
	}
	CHECK_EQ(ep_merge_pop(ms, UINT64_MAX, &ws), 0);
	CHECK_EQ(bad, 0);
	/* A bin outside the configuration is refused. */
	{
		struct ep_hdr_cfg cfg;
		struct ep_hist *h = hist_of(1, 1);
		struct ep_hbin b = {h->cfg.counts_len + 5, 1};

		cfg = h->cfg;
		memset(sparse, 0, sizeof(sparse[0]));
		sparse[0].asn = 1;
		sparse[0].bins[0] = &b;
		sparse[0].nbins[0] = 1;
		CHECK_EQ(ep_merge_add_sparse(ms, 0, 100000000ull, &cfg, sparse, 1), -EINVAL);
		ep_hist_free(h);
	}
	ep_merge_free(md);
	ep_merge_free(ms);
}

int main(void)
{
	struct ep_window_asn x[3], y[4], z[3];
	struct ep_merge *m;
	struct ep_window w;
	uint32_t i;
	int round;

	CHECK_EQ(ep_merge_new(&m), 0);
	for (round = 0; round < 3; round++) {
		uint64_t start = 1000 + (uint64_t)round * 100;

		set(&x[0], 64510, 1, 1000, 1), set(&x[1], 64520, 2, 2000, 2), set(&x[2], 64530, 3, 3000, 3);
		/* New ASNs before, between and after x's; one in common. */
		set(&y[0], 64500, 10, 500, 1), set(&y[1], 64515, 10, 1500, 1), set(&y[2], 64520, 10, 2000, 4),
			set(&y[3], 64540, 10, 4000, 1);
		/* Out of order: the one-by-one path. */
		set(&z[0], 64530, 100, 3000, 2), set(&z[1], 64505, 100, 700, 1), set(&z[2], 64500, 100, 500, 1);
		CHECK_EQ(ep_merge_add(m, start, start + 100, x, 3), 0);
		CHECK_EQ(ep_merge_add(m, start, start + 100, y, 4), 0);
		CHECK_EQ(ep_merge_add(m, start, start + 100, z, 3), 0);
		CHECK_EQ(ep_merge_pop(m, UINT64_MAX, &w), 1);
		CHECK_EQ(w.start_ns, start);
		CHECK_EQ(w.nasns, 7);
		for (i = 1; i < w.nasns; i++)
			CHECK(w.asns[i - 1].asn < w.asns[i].asn);
		{
			static const uint32_t asn[7] = {64500, 64505, 64510, 64515, 64520, 64530, 64540};
			static const uint64_t flows[7] = {110, 100, 1, 10, 12, 103, 10};
			static const int64_t n[7] = {2, 1, 1, 1, 6, 5, 1};

			for (i = 0; i < 7 && i < w.nasns; i++) {
				CHECK_EQ(w.asns[i].asn, asn[i]);
				CHECK_EQ(w.asns[i].c[EP_AC_flows_new], flows[i]);
				CHECK_EQ(w.asns[i].h[EP_AH_RTT_HS]->total, n[i]);
				CHECK(w.asns[i].org != NULL);
			}
			CHECK_EQ(ep_hist_percentile(w.asns[4].h[EP_AH_RTT_HS], 50) / 10, 200);
		}
		drop(x, 3), drop(y, 4), drop(z, 3);
	}
	CHECK_EQ(ep_merge_pop(m, UINT64_MAX, &w), 0);
	ep_merge_free(m);
	test_sparse();
	CHECK_DONE();
}
