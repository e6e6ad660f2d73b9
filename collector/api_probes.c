/* SPDX-License-Identifier: BSD-3-Clause */
/* api_probes.c - /api/v1/probes: each probe's accounting and counters, and the collector's. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "json_out.h"
#include "stats.h"

static void write_counters(FILE *fp, const struct ep_collector *c)
{
	uint32_t i;

	fputs("\"collector\":{", fp);
	for (i = 0; i < EP_CC__COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i ? "," : "", ep_cc_names[i], c->ctr[i]);
	fputs(",\"rejected\":{", fp);
	for (i = 1; i < EP_WIRE_E__COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i > 1 ? "," : "", ep_wire_err_names[i],
			c->rejected[i]);
	fprintf(fp,
		"},\"store\":{\"records\":%" PRIu64 ",\"too_old\":%" PRIu64 ",\"asn_cap\":%" PRIu64
		",\"late\":%" PRIu64 ",\"forced_close\":%" PRIu64 ",\"nomem\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"newest_end_ns\":%" PRIu64 ",\"oldest_ns\":%" PRIu64
		",\"shed\":%" PRIu64 "},\"memory\":{\"used\":%" PRIu64 ",\"cap\":%" PRIu64 "}}",
		c->all.ctr.records, c->all.ctr.too_old, c->all.ctr.asn_cap, c->all.ctr.late,
		c->all.ctr.forced_close, c->all.ctr.nomem, c->all.bytes, c->all.newest_end,
		ep_view_oldest(&c->all), c->all.ctr.shed, ep_collector_mem(c), c->cfg.memcap);
}

void ep_api_probes(struct ep_collector *c, const struct ep_api_req *q,
		       struct ep_api_resp *resp, uint64_t now)
{
	struct out o;
	uint32_t i, k, limit, cursor;

	if (ep_api_parse_limit(q, &limit, resp) < 0 || ep_api_parse_cursor(q, &cursor, resp) < 0)
		return;
	if (limit == UINT32_MAX)
		limit = EP_API_DEFAULT_LIMIT;
	if (ep_api_out_open(&o) < 0) {
		ep_api_error(resp, 500, NULL, "out of memory%s", "");
		return;
	}
	fputs("{\"probes\":[", o.fp);
	for (i = cursor; i < c->nprobes && i - cursor < limit; i++) {
		const struct ep_cprobe *p = &c->probes[i];
		char age[32] = "null"; /* not heard since this collector started (restored) */

		if (p->last_seen)
			snprintf(age, sizeof(age), "%.3f",
				 now > p->last_seen ? (double)(now - p->last_seen) / 1e9 : 0.0);
		fprintf(o.fp, "%s{\"id\":", i > cursor ? "," : "");
		ep_json_write_string(o.fp, p->id);
		fprintf(o.fp,
			",\"epoch\":%" PRIu64 ",\"first_seen_ns\":%" PRIu64 ",\"last_seen_ns\":%" PRIu64
			",\"age_s\":%s,\"newest_end_ns\":%" PRIu64 ",\"msgs\":%" PRIu64
			",\"bytes\":%" PRIu64 ",\"windows\":%" PRIu64 ",\"summaries\":%" PRIu64
			",\"seq_max\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64
			",\"reordered\":%" PRIu64 ",\"too_old\":%" PRIu64 ",\"stale_epoch\":%" PRIu64
			",\"restarts\":%" PRIu64 ",\"windows_dropped\":%" PRIu64 ",\"view\":%s",
			p->seq.epoch, p->first_seen, p->last_seen, age, p->newest_end,
			p->msgs, p->bytes, p->windows, p->summaries, p->seq.max_seq, p->seq.lost,
			p->seq.dups, p->seq.reordered, p->seq.too_old, p->seq.stale, p->seq.restarts,
			p->dropped_prev_epochs + p->stats[EP_ST_windows_dropped],
			p->view ? "true" : "false");
		fputs(",\"dataset\":", o.fp);
		if (p->dataset[0])
			ep_json_write_string(o.fp, p->dataset);
		else
			fputs("null", o.fp);
		fputs(",\"stats\":{", o.fp);
		for (k = 0; k < EP_ST__COUNT; k++)
			fprintf(o.fp, "%s\"%s\":%" PRIu64, k ? "," : "", ep_stat_names[k], p->stats[k]);
		fputs("}}", o.fp);
	}
	fputs("]", o.fp);
	ep_api_write_page(o.fp, c->nprobes, cursor, limit);
	fputc(',', o.fp);
	write_counters(o.fp, c);
	fputs("}\n", o.fp);
	ep_api_out_finish(&o, resp, 200, "application/json");
}
