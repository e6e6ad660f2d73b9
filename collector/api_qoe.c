/* SPDX-License-Identifier: BSD-3-Clause */
/* api_qoe.c - players' QoE beside the RTT: the "qoe" object of a list entry, and metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "qoe.h"

uint64_t ep_api_qoe_visit(struct ep_collector *c, uint64_t start, uint64_t end, uint64_t min_step,
			  ep_view_visit_cb cb, void *ctx)
{
	struct ep_qoe *q = c->qoe;

	if (!q)
		return 0;
	return ep_api_visit_named(c, &q->view, &q->lock, EP_QOE_HISTORY_NAME, start, end, min_step,
				  c->cfg.query_budget, cb, ctx);
}

uint64_t ep_api_qoe_collect(struct ep_collector *c, const struct range *r, struct agg *out)
{
	return ep_api_qoe_visit(c, r->start, r->end, 0, ep_api_agg_bucket, out);
}

uint64_t ep_api_qoe_newest(struct ep_collector *c)
{
	uint64_t end;

	if (!c->qoe)
		return 0;
	pthread_mutex_lock(&c->qoe->lock);
	end = c->qoe->view.newest_end;
	pthread_mutex_unlock(&c->qoe->lock);
	return end;
}

static json_t *quantiles(struct ep_hist *h, const struct ep_shist *s)
{
	json_t *o = json_object();

	if (o) {
		json_object_set_new(o, "n", ep_jv_u64(s->total));
		if (s->total) {
			json_object_set_new(o, "p50", ep_jv_int(ep_api_quantile_of(h, s, 0.5)));
			json_object_set_new(o, "p90", ep_jv_int(ep_api_quantile_of(h, s, 0.9)));
		}
	}
	return o;
}

json_t *ep_api_qoe_json(const struct ep_centry *e, struct ep_hist *scratch)
{
	uint64_t play, stall;
	json_t *o;

	if (!e)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	play = e->c[EP_QC_play_ms];
	stall = e->c[EP_QC_stall_ms];
	json_object_set_new(o, "reports", ep_jv_u64(e->c[EP_QC_reports]));
	json_object_set_new(o, "sessions", ep_jv_u64(e->c[EP_QC_sessions]));
	json_object_set_new(o, "play_ms", ep_jv_u64(play));
	json_object_set_new(o, "stalls", ep_jv_u64(e->c[EP_QC_stalls]));
	json_object_set_new(o, "stall_ms", ep_jv_u64(stall));
	json_object_set_new(o, "fatal", ep_jv_u64(e->c[EP_QC_fatal]));
	json_object_set_new(o, "rebuffer_ratio",
			    play + stall ? ep_jv_fixed((double)stall / (double)(play + stall), 6)
					 : json_null());
	if (play)
		json_object_set_new(
		    o, "stalls_per_hour",
		    ep_jv_fixed((double)e->c[EP_QC_stalls] * 3600000.0 / (double)play, 3));
	json_object_set_new(o, "startup_ms", quantiles(scratch, &e->h[EP_QH_startup_ms]));
	json_object_set_new(o, "mtp_kbps", quantiles(scratch, &e->h[EP_QH_mtp_kbps]));
	json_object_set_new(o, "br_kbps", quantiles(scratch, &e->h[EP_QH_br_kbps]));
	return o;
}

void ep_api_qoe_metrics(FILE *fp, struct ep_qoe *q)
{
	uint64_t ctr[EP_QOE__COUNT], refused[EP_CMCD_E__COUNT], mem;
	int i;

	pthread_mutex_lock(&q->lock);
	memcpy(ctr, q->ctr, sizeof(ctr));
	memcpy(refused, q->refused, sizeof(refused));
	mem = ep_qoe_mem(q);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < EP_QOE__COUNT; i++)
		fprintf(fp,
			"# HELP edgeprobe_collector_%s_total %s\n"
			"# TYPE edgeprobe_collector_%s_total counter\n"
			"edgeprobe_collector_%s_total %" PRIu64 "\n",
			ep_qoe_ctr_names[i], ep_qoe_ctr_help[i], ep_qoe_ctr_names[i],
			ep_qoe_ctr_names[i], ctr[i]);
	fputs("# HELP edgeprobe_collector_qoe_refused_total CMCD reports refused, by reason\n"
	      "# TYPE edgeprobe_collector_qoe_refused_total counter\n",
	      fp);
	for (i = 1; i < EP_CMCD_E__COUNT; i++)
		fprintf(fp, "edgeprobe_collector_qoe_refused_total{reason=\"%s\"} %" PRIu64 "\n",
			ep_cmcd_err_names[i], refused[i]);
	fprintf(fp,
		"# HELP edgeprobe_collector_qoe_memory_bytes bytes held by the session and rate "
		"tables and the QoE roll-ups\n# TYPE edgeprobe_collector_qoe_memory_bytes gauge\n"
		"edgeprobe_collector_qoe_memory_bytes %" PRIu64 "\n",
		mem);
}
