/* SPDX-License-Identifier: BSD-3-Clause */
/* exporter.c - window numbering, wire/JSON output and the run summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "json_out.h"
#include "wire.h"

struct sum_asn {
	uint32_t asn;
	char *org;
	uint64_t c[EP_AC__COUNT];
	struct ep_hist *h[EP_AH__COUNT];
};

struct ep_exporter {
	struct ep_exporter_cfg cfg;
	uint64_t seq;
	uint64_t msgs_sent, send_errors, windows_dropped;
	int window_failed;
	uint64_t first_start, last_end;
	int any;
	struct sum_asn *sum;
	uint32_t nsum, capsum;
	uint8_t *enc;             /* this window's histogram encodings */
	size_t enc_cap;
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
	e->seq = 1;
	*out = e;
	return 0;
}

void ep_exporter_free(struct ep_exporter *e)
{
	uint32_t i, k;

	if (!e)
		return;
	for (i = 0; i < e->nsum; i++) {
		free(e->sum[i].org);
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_hist_free(e->sum[i].h[k]);
	}
	free(e->sum);
	free(e->enc);
	free(e);
}

void ep_exporter_count_dropped(struct ep_exporter *e, uint64_t n)
{
	e->windows_dropped += n;
}

void ep_exporter_patch_stats(const struct ep_exporter *e, uint64_t *stats)
{
	stats[EP_ST_msgs_sent] = e->msgs_sent;
	stats[EP_ST_send_errors] = e->send_errors;
	stats[EP_ST_windows_dropped] = e->windows_dropped;
}

static int send_msg(const uint8_t *msg, size_t len, void *ctx)
{
	struct ep_exporter *e = ctx;
	uint32_t i;

	for (i = 0; i < e->cfg.nsinks; i++) {
		if (ep_sink_send(e->cfg.sinks[i], msg, len) == 0) {
			e->msgs_sent++;
		} else {
			e->send_errors++;
			e->window_failed = 1;
		}
	}
	return 0;
}

/* The summary entry of asn, created on first use (binary search on a sorted array). */
static struct sum_asn *sum_get(struct ep_exporter *e, uint32_t asn, const char *org)
{
	uint32_t lo = 0, hi = e->nsum;
	struct sum_asn *s;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (e->sum[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->nsum && e->sum[lo].asn == asn)
		return &e->sum[lo];
	if (e->nsum == e->capsum) {
		uint32_t cap = e->capsum ? e->capsum * 2 : 64;
		struct sum_asn *p = realloc(e->sum, cap * sizeof(*p));

		if (!p)
			return NULL;
		e->sum = p;
		e->capsum = cap;
	}
	memmove(&e->sum[lo + 1], &e->sum[lo], (e->nsum - lo) * sizeof(*e->sum));
	e->nsum++;
	s = &e->sum[lo];
	memset(s, 0, sizeof(*s));
	s->asn = asn;
	s->org = strdup(org ? org : "");
	return s->org ? s : NULL;
}

static void sum_add(struct ep_exporter *e, const struct ep_window *w)
{
	uint32_t i, k;

	if (!e->any) {
		e->first_start = w->start_ns;
		e->any = 1;
	}
	e->last_end = w->end_ns;
	for (i = 0; i < w->nasns; i++) {
		struct sum_asn *s = sum_get(e, w->asns[i].asn, w->asns[i].org);

		if (!s)
			continue;
		for (k = 0; k < EP_AC__COUNT; k++)
			s->c[k] += w->asns[i].c[k];
		for (k = 0; k < EP_AH__COUNT; k++) {
			const struct ep_hist *h = w->asns[i].h[k];

			if (!h || !h->total)
				continue;
			if (!s->h[k] && ep_hist_new(h->cfg.lowest, h->cfg.highest, h->cfg.sig_digits,
						    &s->h[k]) < 0)
				continue;
			ep_hist_add(s->h[k], h);
		}
	}
}

/* Encode every histogram of w once; the wire and JSON outputs share the bytes. */
static void encode_hists(struct ep_exporter *e, struct ep_window *w)
{
	size_t need = 0, used = 0;
	uint32_t i, k;

	for (i = 0; i < w->nasns; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			if (w->asns[i].h[k] && w->asns[i].h[k]->total)
				need += (size_t)ep_hist_encode(w->asns[i].h[k], NULL, 0);
	if (need > e->enc_cap) {
		uint8_t *p = realloc(e->enc, need);

		if (!p)
			need = 0; /* the outputs encode on their own */
		else {
			e->enc = p;
			e->enc_cap = need;
		}
	}
	for (i = 0; i < w->nasns; i++) {
		for (k = 0; k < EP_AH__COUNT; k++) {
			const struct ep_hist *h = w->asns[i].h[k];
			long n;

			w->asns[i].enc[k] = NULL;
			if (!h || !h->total || !need)
				continue;
			n = ep_hist_encode(h, e->enc + used, e->enc_cap - used);
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
	w->epoch = e->cfg.epoch;
	w->seq = e->seq;
	e->window_failed = 0;
	/* The counters a window carries include the failures of the windows before it. */
	ep_exporter_patch_stats(e, w->stats);
	encode_hists(e, w);
	parts = ep_wire_encode(w, e->cfg.max_payload, send_msg, e);
	if (parts > 0)
		e->seq += (uint64_t)parts;
	if (parts < 0 || e->window_failed)
		e->windows_dropped++;
	if (e->cfg.json) {
		ep_json_write_window(e->cfg.json, w);
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
	uint32_t i, k;

	memset(w, 0, sizeof(*w));
	w->type = EP_WIN_SUMMARY;
	w->probe = e->cfg.probe;
	w->epoch = e->cfg.epoch;
	w->start_ns = e->first_start;
	w->end_ns = e->last_end;
	w->asns = calloc(e->nsum ? e->nsum : 1, sizeof(*w->asns));
	if (!w->asns)
		return -ENOMEM;
	for (i = 0; i < e->nsum; i++) {
		w->asns[i].asn = e->sum[i].asn;
		w->asns[i].org = e->sum[i].org;
		memcpy(w->asns[i].c, e->sum[i].c, sizeof(w->asns[i].c));
		for (k = 0; k < EP_AH__COUNT; k++)
			w->asns[i].h[k] = e->sum[i].h[k];
	}
	w->nasns = e->nsum;
	return 0;
}

int ep_exporter_finish(struct ep_exporter *e, const uint64_t *stats)
{
	struct ep_window w;
	int ret = ep_exporter_summary(e, &w);

	if (ret < 0)
		return ret;
	memcpy(w.stats, stats, sizeof(w.stats));
	export(e, &w);
	free(w.asns);
	return e->cfg.json && ferror(e->cfg.json) ? -EIO : 0;
}
