/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * exporter.h - turns closed windows into outputs: numbers them, encodes them
 * into wire messages for every sink, writes JSON lines, and merges them into
 * the run's summary.
 */
#ifndef EP_EXPORTER_H
#define EP_EXPORTER_H

#include <stdio.h>

#include "sink.h"
#include "window.h"

struct ep_exporter_cfg {
	const char *probe;           /* probe id, 1..64 bytes */
	const char *dataset;         /* data versions (the caller's; may change between windows) */
	uint64_t epoch;              /* boot epoch, ns */
	size_t max_payload;          /* bytes per message */
	FILE *json;                  /* NULL: no JSON lines */
	struct ep_sink **sinks;
	uint32_t nsinks;
	struct ep_hdr_cfg hist;      /* for the summary's histograms */
	const uint8_t *key;          /* HMAC-SHA256 key (copied), NULL: unsigned */
	size_t keylen;
};

struct ep_exporter;

/* @return 0, -EINVAL, -ENOMEM */
int ep_exporter_new(const struct ep_exporter_cfg *cfg, struct ep_exporter **out);
void ep_exporter_free(struct ep_exporter *e);

/* Export one window (usable as the tracker's ep_window_cb with e as ctx). */
void ep_exporter_window(const struct ep_window *w, void *e);

/*
 * Emit the summary merged over every exported window, with the final counters.
 * @return 0, or a negative errno from the JSON output.
 */
int ep_exporter_finish(struct ep_exporter *e, const uint64_t *stats);

/*
 * A view of the summary so far (histograms owned by the exporter); free
 * w->asns when done.  @return 0 or -ENOMEM.
 */
int ep_exporter_summary(const struct ep_exporter *e, struct ep_window *w);

/*
 * Log rotation: write the JSON lines to json from now on (the caller closes the
 * old stream) and count it as a reopen, or with reopened 0 count a refused one
 * (json NULL: keep the current stream).
 */
void ep_exporter_set_json(struct ep_exporter *e, FILE *json, int reopened);

/* Per-source counters for the summary (copied). */
void ep_exporter_set_sources(struct ep_exporter *e, const struct ep_source_stats *src, uint32_t n);

/* Count n windows lost before they reached the exporter (e.g. by a worker hand-off). */
void ep_exporter_count_dropped(struct ep_exporter *e, uint64_t n);

/* The exporter's own counters written into stats (msgs_sent, send_errors, windows_dropped). */
void ep_exporter_patch_stats(const struct ep_exporter *e, uint64_t *stats);

#endif
