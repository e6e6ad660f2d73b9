/* SPDX-License-Identifier: BSD-3-Clause */
/* qoe_start.c - edgeprobe-collector --qoe: ASN data, the players' view, history, listener. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "asn_map.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "qoe.h"
#include "wallclock.h"

/* A complete bucket of the players' view, to the history (any thread: the queue locks). */
static void on_persist_qoe(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	ep_history_put(ctx, EP_QOE_HISTORY_NAME, b, step_ns, ep_wall_ns());
}

/* --qoe: the ASN data for players' addresses, the QoE view, and --qoe-http's listener. */
int ep_qoe_start(struct ep_qoe *q, struct ep_collector *c, struct ep_history *history,
		 struct ep_coll_opts *o, struct ep_http **listener)
{
	struct ep_asn_map *m = NULL;
	struct ep_asn_map_info mi;
	char err[512] = "";
	int rc;

	if (!o->hcfg.addr && !o->qoe_http) {
		fprintf(stderr, "edgeprobe-collector: --qoe needs --http or --qoe-http\n");
		return -1;
	}
	rc = ep_asn_map_load_args(o->qoe_asn_db, o->nqoe_asn_db, &m, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "edgeprobe-collector: --qoe-asn-db: %s\n",
			err[0] ? err : strerror(-rc));
		return -1;
	}
	ep_asn_map_info(m, &mi);
	o->qcfg.max_skew_ns = o->cfg.max_skew_ns;
	rc = ep_qoe_init(q, &o->qcfg, m, &c->hcfg, o->cfg.ntiers, o->cfg.steps, o->cfg.counts,
			 o->cfg.max_asns);
	if (rc < 0) {
		fprintf(stderr, "edgeprobe-collector: --qoe: %s\n", strerror(-rc));
		return -1;
	}
	if (history) { /* the players' roll-ups persist with the probes' (as "@qoe") */
		long n = ep_history_restore_view(history, c, EP_QOE_HISTORY_NAME, &q->view);

		if (n < 0) {
			fprintf(stderr,
				"edgeprobe-collector: --history: cannot read the players' "
				"roll-ups back: %s\n",
				strerror((int)-n));
			return -1;
		}
		ep_log_info("qoe: %ld roll-up buckets reloaded from the history", n);
		ep_qoe_set_persist(q, ep_collector_persist_tiers(&q->view, o->cfg.persist_min_ns),
				   on_persist_qoe, history);
	}
	c->qoe = q;
	o->hcfg.qoe = q;
	o->hcfg.qoe_cfg = &o->qoe_proxies;
	if (o->qoe_http) {
		struct ep_http_cfg qc = {.addr = o->qoe_http,
					 .max_conns = o->hcfg.max_conns,
					 .timeout_s = o->hcfg.timeout_s,
					 .qoe = q,
					 .qoe_cfg = &o->qoe_proxies,
					 .qoe_only = 1,
					 .per_addr = o->hcfg.max_conns ? o->hcfg.max_conns : 64,
					 .tls_cert = o->hcfg.tls_cert,
					 .tls_key = o->hcfg.tls_key};

		if (ep_http_start(c, &qc, listener, err, sizeof(err)) < 0) {
			fprintf(stderr, "edgeprobe-collector: --qoe-http: %s\n", err);
			return -1;
		}
		ep_log_info("qoe: players' CMCD reports on %s (port %u) /api/v1/qoe", o->qoe_http,
			    ep_http_port(*listener));
	}
	ep_log_info("qoe: CMCD reports per ASN (%" PRIu64 " prefixes), %u sessions tracked, "
		    "%u reports/s per source",
		    (uint64_t)(mi.prefixes4 + mi.prefixes6), o->qcfg.max_sessions, o->qcfg.rate);
	return 0;
}
