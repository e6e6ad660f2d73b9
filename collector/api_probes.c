/* SPDX-License-Identifier: BSD-3-Clause */
/* api_probes.c - /api/v1/probes: each probe's accounting and counters, and the collector's. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "stats.h"

/* The collector's own counters: ingest, rejections by reason, the store, memory. */
static json_t *counters_json(const struct ep_collector *c)
{
	json_t *o = json_object(), *rej = json_object(), *st = json_object(), *mem = json_object();
	uint32_t i;

	if (!o || !rej || !st || !mem) {
		json_decref(o);
		json_decref(rej);
		json_decref(st);
		json_decref(mem);
		return NULL;
	}
	for (i = 0; i < EP_CC__COUNT; i++)
		json_object_set_new(o, ep_cc_names[i], ep_jv_u64(c->ctr[i]));
	for (i = 1; i < EP_WIRE_E__COUNT; i++)
		json_object_set_new(rej, ep_wire_err_names[i], ep_jv_u64(c->rejected[i]));
	json_object_set_new(o, "rejected", rej);
	json_object_set_new(st, "records", ep_jv_u64(c->all.ctr.records));
	json_object_set_new(st, "too_old", ep_jv_u64(c->all.ctr.too_old));
	json_object_set_new(st, "asn_cap", ep_jv_u64(c->all.ctr.asn_cap));
	json_object_set_new(st, "late", ep_jv_u64(c->all.ctr.late));
	json_object_set_new(st, "forced_close", ep_jv_u64(c->all.ctr.forced_close));
	json_object_set_new(st, "nomem", ep_jv_u64(c->all.ctr.nomem));
	json_object_set_new(st, "bytes", ep_jv_u64(c->all.bytes));
	json_object_set_new(st, "newest_end_ns", ep_jv_u64(c->all.newest_end));
	json_object_set_new(st, "oldest_ns", ep_jv_u64(ep_view_oldest(&c->all)));
	json_object_set_new(st, "shed", ep_jv_u64(c->all.ctr.shed));
	json_object_set_new(o, "store", st);
	json_object_set_new(mem, "used", ep_jv_u64(ep_collector_mem(c)));
	json_object_set_new(mem, "cap", ep_jv_u64(c->cfg.memcap));
	json_object_set_new(o, "memory", mem);
	return o;
}

/* One probe: its sequence accounting, its counters and its own stats record. */
static json_t *probe_json(const struct ep_cprobe *p, uint64_t now)
{
	json_t *o = json_object(), *st = json_object();
	uint32_t k;

	if (!o || !st) {
		json_decref(o);
		json_decref(st);
		return NULL;
	}
	json_object_set_new(o, "id", ep_jv_str(p->id));
	json_object_set_new(o, "epoch", ep_jv_u64(p->seq.epoch));
	json_object_set_new(o, "first_seen_ns", ep_jv_u64(p->first_seen));
	json_object_set_new(o, "last_seen_ns", ep_jv_u64(p->last_seen));
	/* null: not heard since this collector started (restored from the history) */
	json_object_set_new(
	    o, "age_s",
	    p->last_seen
		? ep_jv_fixed(now > p->last_seen ? (double)(now - p->last_seen) / 1e9 : 0.0, 3)
		: json_null());
	json_object_set_new(o, "newest_end_ns", ep_jv_u64(p->newest_end));
	json_object_set_new(o, "msgs", ep_jv_u64(p->msgs));
	json_object_set_new(o, "bytes", ep_jv_u64(p->bytes));
	json_object_set_new(o, "windows", ep_jv_u64(p->windows));
	json_object_set_new(o, "summaries", ep_jv_u64(p->summaries));
	json_object_set_new(o, "seq_max", ep_jv_u64(p->seq.max_seq));
	json_object_set_new(o, "lost", ep_jv_u64(p->seq.lost));
	json_object_set_new(o, "duplicates", ep_jv_u64(p->seq.dups));
	json_object_set_new(o, "reordered", ep_jv_u64(p->seq.reordered));
	json_object_set_new(o, "too_old", ep_jv_u64(p->seq.too_old));
	json_object_set_new(o, "stale_epoch", ep_jv_u64(p->seq.stale));
	json_object_set_new(o, "restarts", ep_jv_u64(p->seq.restarts));
	json_object_set_new(o, "windows_dropped",
			    ep_jv_u64(p->dropped_prev_epochs + p->stats[EP_ST_windows_dropped]));
	json_object_set_new(o, "view", json_boolean(p->view));
	json_object_set_new(o, "dataset", ep_jv_str_or_null(p->dataset));
	for (k = 0; k < EP_ST__COUNT; k++)
		json_object_set_new(st, ep_stat_names[k], ep_jv_u64(p->stats[k]));
	json_object_set_new(o, "stats", st);
	return o;
}

void ep_api_probes(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp,
		   uint64_t now)
{
	json_t *doc, *list;
	uint32_t i, limit, cursor;

	if (ep_api_parse_limit(q, &limit, resp) < 0 || ep_api_parse_cursor(q, &cursor, resp) < 0)
		return;
	if (limit == UINT32_MAX)
		limit = EP_API_DEFAULT_LIMIT;
	doc = json_object();
	list = json_array();
	if (doc && list) {
		json_object_set(doc, "probes", list);
		ep_api_page_json(doc, c->nprobes, cursor, limit);
		if (json_object_set_new(doc, "collector", counters_json(c)) < 0)
			json_decref(doc), doc = NULL;
	}
	for (i = cursor; doc && list && i < c->nprobes && i - cursor < limit; i++)
		if (json_array_append_new(list, probe_json(&c->probes[i], now)) < 0)
			json_decref(doc), doc = NULL; /* out of memory: a 500 */
	json_decref(list);
	ep_api_send(resp, 200, doc);
}
