/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * window.h - one closed window (or the run's summary) as every output sees
 * it: the per-(ASN, country) counters and histograms, plus the probe's counters.
 * Producers fill it, the JSON writer and the wire encoder read it.
 */
#ifndef EP_WINDOW_H
#define EP_WINDOW_H

#include <stdint.h>

#include "edgeprobe/ep_stats.h"
#include "edgeprobe/ep_tcp.h"
#include "hist.h"

enum ep_window_type { EP_WIN_WINDOW = 1, EP_WIN_SUMMARY = 2 };

/* Per-source counters of multi-queue probes (cumulative, like stats). */
#define EP_WINDOW_MAX_SOURCES 32
enum ep_source_kind { EP_SRC_PORT = 1, EP_SRC_WORKER = 2 };
/* port: rx_packets, imissed, rx_nombuf, ierrors; worker: packets, flows, evictions, cycles/packet */
struct ep_source_stats {
	uint8_t kind;
	uint16_t id;
	uint64_t v[4];
};

/* The key of an aggregate: its ASN, then its country (country.h, 0 unknown). */
static inline uint64_t ep_akey(uint32_t asn, uint16_t cc)
{
	return (uint64_t)asn << 16 | cc;
}

/* One aggregate of a window: an (ASN, country) pair's counters and histograms. */
struct ep_window_asn {
	uint32_t asn;
	uint16_t cc;                           /* country.h: 0 when unknown */
	const char *org;
	uint64_t c[EP_AC__COUNT];
	const struct ep_hist *h[EP_AH__COUNT]; /* NULL when empty */
	const uint8_t *enc[EP_AH__COUNT];      /* h[k] already V2-encoded, or NULL */
	uint32_t enc_len[EP_AH__COUNT];
};

struct ep_window {
	enum ep_window_type type;
	const char *probe;
	uint64_t epoch;           /* boot epoch of the probe, ns */
	uint64_t seq;             /* sequence number of the window's first message */
	uint64_t start_ns, end_ns;
	uint64_t stats[EP_ST__COUNT];
	struct ep_window_asn *asns;
	uint32_t nasns;
	struct ep_source_stats src[EP_WINDOW_MAX_SOURCES];
	uint32_t nsrc;
	const char *dataset;      /* "asn VERSION, country VERSION" of the data loaded, or NULL */
};

#endif
