/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_merge.c - windows merged across sources: sorted sources merged from the
 * back (new ASNs before, between and after the known ones), an unsorted source
 * one by one, counters and histograms added exactly, ASNs kept in order, and
 * histograms reused from the pool after a pop come back empty.
 */
#include <string.h>

#include "check.h"
#include "merge.h"

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
	CHECK_DONE();
}
