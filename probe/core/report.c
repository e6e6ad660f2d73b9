/* SPDX-License-Identifier: BSD-3-Clause */
/* report.c - per-ISP latency table (text) from the run summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "country.h"
#include "report.h"

static int by_flows(const void *x, const void *y)
{
	const struct ep_window_asn *a = x, *b = y;

	if (a->c[EP_AC_flows_new] != b->c[EP_AC_flows_new])
		return a->c[EP_AC_flows_new] > b->c[EP_AC_flows_new] ? -1 : 1;
	if (a->asn != b->asn)
		return a->asn < b->asn ? -1 : 1;
	return a->cc < b->cc ? -1 : a->cc > b->cc;
}

static void ms(char *buf, size_t n, const struct ep_hist *h, double p)
{
	if (!h || !h->total)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f", (double)ep_hist_percentile(h, p) / 1000.0);
}

int ep_report_print(FILE *fp, const struct ep_exporter *e)
{
	struct ep_window w;
	uint32_t i;
	int ret = ep_exporter_summary(e, &w);

	if (ret < 0)
		return ret;
	qsort(w.asns, w.nasns, sizeof(*w.asns), by_flows);
	fprintf(fp, "%-10s %-2s %-28s %6s %7s %7s %7s %7s %7s %7s %7s\n", "ASN", "CC", "ORGANISATION",
		"FLOWS", "HS_N", "HS_P50", "HS_P99", "DATA_N", "DT_P50", "DT_P99", "RETX%");
	for (i = 0; i < w.nasns; i++) {
		const struct ep_window_asn *a = &w.asns[i];
		char h50[16], h99[16], d50[16], d99[16], org[29], cc[3];
		uint64_t segs = a->c[EP_AC_segs_out];
		double retx = segs ? 100.0 * (double)a->c[EP_AC_retx_out] / (double)segs : 0.0;

		ms(h50, sizeof(h50), a->h[EP_AH_RTT_HS], 50);
		ms(h99, sizeof(h99), a->h[EP_AH_RTT_HS], 99);
		ms(d50, sizeof(d50), a->h[EP_AH_RTT_DATA], 50);
		ms(d99, sizeof(d99), a->h[EP_AH_RTT_DATA], 99);
		snprintf(org, sizeof(org), "%s", a->org && *a->org ? a->org : "-");
		fprintf(fp, "AS%-8" PRIu32 " %-2s %-28s %6" PRIu64 " %7" PRId64 " %7s %7s %7" PRId64
			    " %7s %7s %7.2f\n",
			a->asn, a->cc ? ep_cc_str(a->cc, cc) : "-", org, a->c[EP_AC_flows_new],
			a->h[EP_AH_RTT_HS] ? a->h[EP_AH_RTT_HS]->total : 0, h50, h99,
			a->h[EP_AH_RTT_DATA] ? a->h[EP_AH_RTT_DATA]->total : 0, d50, d99, retx);
	}
	fprintf(fp, "(RTT columns in milliseconds, towards the remote side; RETX%% = retransmitted "
		    "/ all segments towards the remote)\n");
	free(w.asns);
	return 0;
}
