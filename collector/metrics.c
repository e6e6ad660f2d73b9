/* SPDX-License-Identifier: BSD-3-Clause */
/* metrics.c - /metrics in Prometheus' text format, and one closed window as JSON (SSE, Kafka). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "api.h"
#include "api_int.h"
#include "edgeprobe/ep_wire.h"
#include "stats.h"

static void prom_label(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

struct top {
	uint32_t i;
	uint64_t n;
};

static int cmp_top(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* One ASN's two RTT histograms (handshake, data) as Prometheus series of family name. */
static void write_rtt(FILE *fp, const struct ep_collector *c, const char *name,
		      const struct ep_asn_total *t, const char *probe)
{
	static const char *const kind[2] = {"handshake", "data"};
	uint32_t k, j;

	for (k = 0; k < 2; k++) {
		uint64_t cum = 0;
		char labels[400];
		FILE *lf = fmemopen(labels, sizeof(labels), "w");

		if (!lf)
			continue;
		if (probe) {
			fputs("probe=", lf);
			prom_label(lf, probe);
			fputc(',', lf);
		}
		fprintf(lf, "asn=\"%" PRIu32 "\",kind=\"%s\"", t->asn, kind[k]);
		fputc('\0', lf);
		fclose(lf);
		labels[sizeof(labels) - 1] = '\0';
		for (j = 0; j < EP_PROM_NLE; j++) {
			cum += t->rtt[k][j];
			if (j < EP_PROM_NLE - 1)
				fprintf(fp, "%s_bucket{%s,le=\"%.6f\"} %" PRIu64 "\n", name, labels,
					(double)c->prom_le[j] / 1e6, cum);
			else
				fprintf(fp, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
		}
		fprintf(fp, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name, labels,
			(double)t->rtt_sum_us[k] / 1e6, name, labels, cum);
	}
}

void ep_api_metrics(struct ep_collector *c, struct ep_api_resp *resp, uint64_t now)
{
	struct top *top = NULL;
	uint32_t i, k, j, ntop;
	struct out o;

	(void)now;
	if (ep_api_out_open(&o) < 0 || !(top = calloc(c->ntotals + 1, sizeof(*top)))) {
		if (o.fp) {
			fclose(o.fp);
			free(o.buf);
		}
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		return;
	}
	/* The --metrics-top ASNs with the most RTT samples, in ASN order. */
	for (i = 0; i < c->ntotals; i++) {
		top[i].i = i;
		for (j = 0; j < EP_PROM_NLE; j++)
			top[i].n += c->totals[i].rtt[0][j] + c->totals[i].rtt[1][j];
		top[i].n = top[i].n * 4 + (c->totals[i].c[EP_AC_segs_out] ? 1 : 0);
	}
	qsort(top, c->ntotals, sizeof(*top), cmp_top);
	ntop = c->ntotals < c->cfg.metrics_top ? c->ntotals : c->cfg.metrics_top;
	for (i = 0; i < ntop; i++)
		top[i].n = top[i].i;
	for (i = 0; i < ntop; i++) /* back to ASN order (totals are sorted by ASN) */
		for (j = i + 1; j < ntop; j++)
			if (top[j].n < top[i].n) {
				uint64_t t = top[i].n;

				top[i].n = top[j].n;
				top[j].n = t;
			}
	fprintf(o.fp, "# HELP edgeprobe_build_info the collector's version\n"
		      "# TYPE edgeprobe_build_info gauge\nedgeprobe_build_info{version=\"%s\"} 1\n",
		EP_VERSION);
	for (i = 0; i < EP_CC__COUNT; i++)
		fprintf(o.fp, "# HELP edgeprobe_collector_%s_total %s\n# TYPE edgeprobe_collector_%s_total counter\nedgeprobe_collector_%s_total %" PRIu64 "\n",
			ep_cc_names[i], ep_cc_help[i], ep_cc_names[i], ep_cc_names[i], c->ctr[i]);
	fputs("# HELP edgeprobe_collector_rejected_total messages rejected by the wire decoder, by reason\n"
	      "# TYPE edgeprobe_collector_rejected_total counter\n", o.fp);
	for (i = 1; i < EP_WIRE_E__COUNT; i++)
		fprintf(o.fp, "edgeprobe_collector_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
			ep_wire_err_names[i], c->rejected[i]);
	if (c->qoe)
		ep_api_qoe_metrics(o.fp, c->qoe);
	if (c->alerts) {
		const uint64_t *ac = ep_alerts_counters(c->alerts);

		for (i = 0; i < EP_ALC__COUNT; i++)
			fprintf(o.fp, "# HELP edgeprobe_collector_%s_total %s\n# TYPE edgeprobe_collector_%s_total counter\nedgeprobe_collector_%s_total %" PRIu64 "\n",
				ep_alc_names[i], ep_alc_help[i], ep_alc_names[i], ep_alc_names[i], ac[i]);
		fprintf(o.fp, "# HELP edgeprobe_alerts_firing alerts of the collector's engine firing now\n"
			      "# TYPE edgeprobe_alerts_firing gauge\nedgeprobe_alerts_firing %" PRIu32 "\n",
			ep_alerts_firing(c->alerts));
	}
	fprintf(o.fp, "# HELP edgeprobe_collector_memory_bytes bytes held by what grows with input, and the cap (--memcap, 0: none)\n"
		      "# TYPE edgeprobe_collector_memory_bytes gauge\n"
		      "edgeprobe_collector_memory_bytes{kind=\"used\"} %" PRIu64 "\n"
		      "edgeprobe_collector_memory_bytes{kind=\"cap\"} %" PRIu64 "\n",
		ep_collector_mem(c), c->cfg.memcap);
	if (c->history_on)
		fprintf(o.fp, "# HELP edgeprobe_collector_history_queue_bytes roll-ups waiting for --history\n"
			      "# TYPE edgeprobe_collector_history_queue_bytes gauge\n"
			      "edgeprobe_collector_history_queue_bytes %" PRIu64 "\n"
			      "# HELP edgeprobe_collector_history_lag_seconds age of the oldest roll-up waiting for --history\n"
			      "# TYPE edgeprobe_collector_history_lag_seconds gauge\n"
			      "edgeprobe_collector_history_lag_seconds %.3f\n",
			c->history_queue_bytes, (double)c->history_lag_ns / 1e9);
	fprintf(o.fp, "# HELP edgeprobe_collector_store_bytes heap held by the all-probes roll-ups\n"
		      "# TYPE edgeprobe_collector_store_bytes gauge\nedgeprobe_collector_store_bytes %" PRIu64 "\n"
		      "# HELP edgeprobe_collector_metrics_asns ASNs with metrics, and how many are exported (--metrics-top)\n"
		      "# TYPE edgeprobe_collector_metrics_asns gauge\n"
		      "edgeprobe_collector_metrics_asns{state=\"tracked\"} %u\n"
		      "edgeprobe_collector_metrics_asns{state=\"exported\"} %u\n",
		c->all.bytes, c->ntotals, ntop);
	{
		static const char *const pn[] = {"messages", "lost_messages", "duplicates", "reordered",
						 "restarts", "windows_dropped"};
		static const char *const ph[] = {
			"messages merged", "messages missing from the probe's sequence",
			"duplicate messages dropped", "messages that arrived out of order",
			"probe restarts (new boot epoch)", "windows the probe itself could not send"};

		for (k = 0; k < 6; k++) {
			fprintf(o.fp, "# HELP edgeprobe_probe_%s_total %s\n# TYPE edgeprobe_probe_%s_total counter\n",
				pn[k], ph[k], pn[k]);
			for (i = 0; i < c->nprobes; i++) {
				const struct ep_cprobe *p = &c->probes[i];
				uint64_t v = k == 0 ? p->msgs : k == 1 ? p->seq.lost
						   : k == 2 ? p->seq.dups
						   : k == 3 ? p->seq.reordered
						   : k == 4 ? p->seq.restarts
							    : p->dropped_prev_epochs +
								      p->stats[EP_ST_windows_dropped];

				fprintf(o.fp, "edgeprobe_probe_%s_total{probe=", pn[k]);
				prom_label(o.fp, p->id);
				fprintf(o.fp, "} %" PRIu64 "\n", v);
			}
		}
		/* The probes' own counters, as last reported (they restart with the probe). */
		for (k = 0; k < EP_ST__COUNT; k++) {
			int gauge = k == EP_ST_flows_active || k == EP_ST_sink_backlog_bytes ||
				    k == EP_ST_syn_admit_level;

			if (k == EP_ST_windows_dropped) /* above, with earlier epochs' */
				continue;
			fprintf(o.fp, "# HELP edgeprobe_probe_%s%s the probe's %s counter (docs/operations.md)\n"
				      "# TYPE edgeprobe_probe_%s%s %s\n",
				ep_stat_names[k], gauge ? "" : "_total", ep_stat_names[k],
				ep_stat_names[k], gauge ? "" : "_total", gauge ? "gauge" : "counter");
			for (i = 0; i < c->nprobes; i++) {
				fprintf(o.fp, "edgeprobe_probe_%s%s{probe=", ep_stat_names[k],
					gauge ? "" : "_total");
				prom_label(o.fp, c->probes[i].id);
				fprintf(o.fp, "} %" PRIu64 "\n", c->probes[i].stats[k]);
			}
		}
		fputs("# HELP edgeprobe_probe_last_seen_seconds when the probe's last message arrived (Unix time)\n"
		      "# TYPE edgeprobe_probe_last_seen_seconds gauge\n", o.fp);
		for (i = 0; i < c->nprobes; i++) {
			fputs("edgeprobe_probe_last_seen_seconds{probe=", o.fp);
			prom_label(o.fp, c->probes[i].id);
			fprintf(o.fp, "} %.3f\n", (double)c->probes[i].last_seen / 1e9);
		}
	}
	/* Names on one info series per ASN: every other label value is an identifier. */
	fputs("# HELP edgeprobe_asn_info the organisation an ASN belongs to (join on asn)\n"
	      "# TYPE edgeprobe_asn_info gauge\n", o.fp);
	for (i = 0; i < ntop; i++) {
		const struct ep_asn_total *t = &c->totals[top[i].n];

		fprintf(o.fp, "edgeprobe_asn_info{asn=\"%" PRIu32 "\",org=", t->asn);
		prom_label(o.fp, ep_collector_org(c, t->asn));
		fputs("} 1\n", o.fp);
	}
	for (k = 0; k < EP_AC__COUNT; k++) {
		fprintf(o.fp, "# HELP edgeprobe_asn_%s_total per-ASN %s (out: towards the ISP)\n"
			      "# TYPE edgeprobe_asn_%s_total counter\n",
			ep_asn_counter_names[k], ep_asn_counter_names[k], ep_asn_counter_names[k]);
		for (i = 0; i < ntop; i++) {
			const struct ep_asn_total *t = &c->totals[top[i].n];

			fprintf(o.fp, "edgeprobe_asn_%s_total{asn=\"%" PRIu32 "\"} %" PRIu64 "\n",
				ep_asn_counter_names[k], t->asn, t->c[k]);
		}
	}
	fputs("# HELP edgeprobe_rtt_seconds RTT towards the remote side per ASN (kind: handshake or "
	      "data = in-flow); bounds are HDR bucket tops\n# TYPE edgeprobe_rtt_seconds histogram\n",
	      o.fp);
	for (i = 0; i < ntop; i++)
		write_rtt(o.fp, c, "edgeprobe_rtt_seconds", &c->totals[top[i].n], NULL);
	if (c->cfg.metrics_probe_asns) {
		fputs("# HELP edgeprobe_probe_rtt_seconds RTT per probe and ASN (--metrics-probe-asns "
		      "ASNs per probe with a view; the all-probes sums are edgeprobe_rtt_seconds)\n"
		      "# TYPE edgeprobe_probe_rtt_seconds histogram\n", o.fp);
		for (j = 0; j < c->nprobes; j++)
			for (i = 0; i < c->probes[j].ntotals; i++)
				write_rtt(o.fp, c, "edgeprobe_probe_rtt_seconds",
					  &c->probes[j].totals[i], c->probes[j].id);
	}
	free(top);
	ep_api_out_finish(&o, resp, 200, "text/plain; version=0.0.4");
}

/* ------------------------------------------------------------------------ */
/* Closed windows                                                             */
/* ------------------------------------------------------------------------ */

char *ep_api_window_json(const struct ep_collector *c, const struct ep_bucket *b, uint64_t step_ns,
			 size_t *len)
{
	json_t *head = json_object();
	struct ep_hist *h = NULL;
	struct ep_jw w = {0};
	uint32_t i;

	if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits, &h) < 0) {
		json_decref(head);
		return NULL;
	}
	if (head) {
		json_object_set_new(head, "start_ns", ep_jv_u64(b->start));
		json_object_set_new(head, "end_ns", ep_jv_u64(b->start + step_ns));
		json_object_set_new(head, "windows", ep_jv_u64(b->windows));
	}
	/* every window, subscribers or not (their replay ring): entry by entry, see json_write.h */
	ep_jw_open(&w, head);
	ep_jw_list(&w, "asns");
	for (i = 0; i < b->set.n && !w.err; i++)
		ep_jw_elem(&w, ep_api_asn_json(c, &b->set.e[i], h, NULL));
	ep_jw_close(&w, ']');
	ep_jw_close(&w, '}');
	ep_hist_free(h);
	return ep_jw_finish(&w, 0, len);
}
