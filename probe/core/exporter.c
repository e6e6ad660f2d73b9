/* SPDX-License-Identifier: BSD-3-Clause */
/* exporter.c - window numbering, wire/JSON output and the run summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "json_out.h"
#include "merge.h"
#include "wire.h"

struct ep_exporter {
	struct ep_exporter_cfg cfg;
	uint64_t seq;
	uint64_t msgs_sent, send_errors, windows_dropped;
	uint64_t json_reopens, json_reopen_errors;
	uint64_t win_tag;            /* the window being sent (its first sequence number) */
	int window_failed;
	uint64_t first_start, last_end;
	int any;
	struct ep_merge *sum;     /* every window merged into one, keyed 0 */
	struct ep_source_stats src[EP_WINDOW_MAX_SOURCES]; /* for the summary */
	uint32_t nsrc;
	struct ep_wire_enc wire;  /* the encoder (its histogram codec serves the JSON too) */
	uint8_t *enc;             /* this window's histogram encodings */
	size_t enc_cap;
	uint8_t key[EP_WIRE_KEY_MAX];
	size_t keylen;
	uint8_t signed_buf[EP_WIRE_MAX_MESSAGE + EP_WIRE_HMAC_BYTES];
};

int ep_exporter_new(const struct ep_exporter_cfg *cfg, struct ep_exporter **out)
{
	struct ep_exporter *e;

	*out = NULL;
	if (!cfg->probe || !*cfg->probe || strlen(cfg->probe) > EP_WIRE_PROBE_MAX ||
	    cfg->max_payload < 256 || cfg->max_payload > EP_WIRE_MAX_MESSAGE)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	if (cfg->key) {
		if (cfg->keylen == 0 || cfg->keylen > sizeof(e->key)) {
			free(e);
			return -EINVAL;
		}
		memcpy(e->key, cfg->key, cfg->keylen);
		e->keylen = cfg->keylen;
		e->cfg.key = NULL;
	}
	e->seq = 1;
	if (ep_merge_new(&e->sum) < 0) {
		free(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

void ep_exporter_free(struct ep_exporter *e)
{
	if (!e)
		return;
	ep_merge_free(e->sum);
	ep_wire_enc_fini(&e->wire);
	free(e->enc);
	free(e);
}

void ep_exporter_set_sources(struct ep_exporter *e, const struct ep_source_stats *src, uint32_t n)
{
	e->nsrc = n < EP_WINDOW_MAX_SOURCES ? n : EP_WINDOW_MAX_SOURCES;
	memcpy(e->src, src, e->nsrc * sizeof(*src));
}

void ep_exporter_count_dropped(struct ep_exporter *e, uint64_t n)
{
	e->windows_dropped += n;
}

void ep_exporter_set_json(struct ep_exporter *e, FILE *json, int reopened)
{
	if (json)
		e->cfg.json = json;
	if (reopened)
		e->json_reopens++;
	else
		e->json_reopen_errors++;
}

void ep_exporter_patch_stats(const struct ep_exporter *e, uint64_t *stats)
{
	uint64_t dropped = e->windows_dropped, connects = 0, backlog = 0;
	uint32_t i;

	/* Windows a TCP sink's full backlog dropped after the exporter handed them over. */
	for (i = 0; i < e->cfg.nsinks; i++) {
		struct ep_sink_counters c;

		ep_sink_get_counters(e->cfg.sinks[i], &c);
		dropped += c.windows_dropped;
		connects += c.connects;
		backlog += c.backlog_bytes;
	}
	stats[EP_ST_msgs_sent] = e->msgs_sent;
	stats[EP_ST_send_errors] = e->send_errors;
	stats[EP_ST_windows_dropped] = dropped;
	stats[EP_ST_json_reopens] = e->json_reopens;
	stats[EP_ST_json_reopen_errors] = e->json_reopen_errors;
	stats[EP_ST_sink_connects] = connects;
	stats[EP_ST_sink_backlog_bytes] = backlog;
}

static int send_msg(const uint8_t *msg, size_t len, void *ctx)
{
	struct ep_exporter *e = ctx;
	uint32_t i;

	if (e->keylen) {
		int n;

		memcpy(e->signed_buf, msg, len);
		n = ep_wire_sign(e->signed_buf, len, sizeof(e->signed_buf), e->key, e->keylen);
		if (n < 0) {
			e->send_errors += e->cfg.nsinks;
			e->window_failed = 1;
			return 0;
		}
		msg = e->signed_buf;
		len = (size_t)n;
	}

	for (i = 0; i < e->cfg.nsinks; i++) {
		if (ep_sink_send(e->cfg.sinks[i], msg, len, e->win_tag) == 0) {
			e->msgs_sent++;
		} else {
			e->send_errors++;
			e->window_failed = 1;
		}
	}
	return 0;
}

static void sum_add(struct ep_exporter *e, const struct ep_window *w)
{
	if (!e->any) {
		e->first_start = w->start_ns;
		e->any = 1;
	}
	e->last_end = w->end_ns;
	ep_merge_add(e->sum, 0, 0, w->asns, w->nasns);
}

/* Encode every histogram of w once; the wire and JSON outputs share the bytes. */
static void encode_hists(struct ep_exporter *e, struct ep_window *w)
{
	size_t need = 0, used = 0;
	uint32_t i, k;

	for (i = 0; i < w->nasns; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			if (w->asns[i].h[k] && w->asns[i].h[k]->total)
				need += (size_t)ep_hist_encode(NULL, w->asns[i].h[k], NULL, 0);
	if (need > e->enc_cap) {
		/*
		 * Nothing in the buffer is kept across windows: a fresh buffer, not
		 * realloc()'s copy of the old one, and twice the size, so that a
		 * growing ASN population does not copy (and fault in) megabytes of
		 * bounds every window. Only the bytes written are ever touched.
		 */
		size_t cap = e->enc_cap ? e->enc_cap : 65536;

		while (cap < need)
			cap *= 2;
		free(e->enc);
		e->enc = malloc(cap);
		e->enc_cap = e->enc ? cap : 0;
		if (!e->enc)
			need = 0; /* the outputs encode on their own */
	}
	for (i = 0; i < w->nasns; i++) {
		for (k = 0; k < EP_AH__COUNT; k++) {
			const struct ep_hist *h = w->asns[i].h[k];
			long n;

			w->asns[i].enc[k] = NULL;
			if (!h || !h->total || !need)
				continue;
			n = ep_hist_encode(&e->wire.hc, h, e->enc + used, e->enc_cap - used);
			if (n > 0) {
				w->asns[i].enc[k] = e->enc + used;
				w->asns[i].enc_len[k] = (uint32_t)n;
				used += (size_t)n;
			}
		}
	}
}

static void export(struct ep_exporter *e, struct ep_window *w)
{
	int parts;

	w->probe = e->cfg.probe;
	w->dataset = e->cfg.dataset;
	w->epoch = e->cfg.epoch;
	w->seq = e->seq;
	e->win_tag = e->seq;
	e->window_failed = 0;
	/* The counters a window carries include the failures of the windows before it. */
	ep_exporter_patch_stats(e, w->stats);
	encode_hists(e, w);
	parts = ep_wire_encode(&e->wire, w, e->cfg.max_payload, send_msg, e);
	if (parts > 0)
		e->seq += (uint64_t)parts;
	if (parts < 0 || e->window_failed)
		e->windows_dropped++;
	if (e->cfg.json) {
		ep_json_write_window(e->cfg.json, w, &e->wire.hc);
		fflush(e->cfg.json);
	}
}

void ep_exporter_window(const struct ep_window *win, void *ctx)
{
	struct ep_exporter *e = ctx;
	struct ep_window w = *win;

	export(e, &w);
	sum_add(e, win);
}

int ep_exporter_summary(const struct ep_exporter *e, struct ep_window *w)
{
	struct ep_window view;

	ep_merge_peek(e->sum, 0, &view);
	memset(w, 0, sizeof(*w));
	w->type = EP_WIN_SUMMARY;
	w->probe = e->cfg.probe;
	w->dataset = e->cfg.dataset;
	w->epoch = e->cfg.epoch;
	w->start_ns = e->first_start;
	w->end_ns = e->last_end;
	/* A copy of the ASN array: the outputs write encodings into it. */
	w->asns = calloc(view.nasns ? view.nasns : 1, sizeof(*w->asns));
	if (!w->asns)
		return -ENOMEM;
	if (view.nasns)
		memcpy(w->asns, view.asns, view.nasns * sizeof(*w->asns));
	w->nasns = view.nasns;
	return 0;
}

int ep_exporter_finish(struct ep_exporter *e, const uint64_t *stats)
{
	struct ep_window w;
	int ret = ep_exporter_summary(e, &w);

	if (ret < 0)
		return ret;
	memcpy(w.stats, stats, sizeof(w.stats));
	memcpy(w.src, e->src, e->nsrc * sizeof(*e->src));
	w.nsrc = e->nsrc;
	export(e, &w);
	free(w.asns);
	return e->cfg.json && ferror(e->cfg.json) ? -EIO : 0;
}
