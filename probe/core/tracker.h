/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tracker.h - the TCP tracker shared by every probe: flow lifecycle, roles,
 * handshake and in-flow RTT samples, retransmissions, and per-ASN windows.
 *
 * One tracker per worker.  ep_tracker_packet() is the per-packet path: no
 * syscalls, locks or (at steady state) allocation.  Windows are aligned to
 * multiples of the interval on the packet clock and handed to a callback
 * when the clock passes their end.
 */
#ifndef EP_TRACKER_H
#define EP_TRACKER_H

#include <stdint.h>

#include "asn_agg.h"
#include "asn_map.h"
#include "flow_table.h"
#include "netset.h"
#include "window.h"

/* Called with each closed window; the window's storage is valid during the call only. */
typedef void (*ep_window_cb)(const struct ep_window *w, void *ctx);

struct ep_tracker_cfg {
	uint32_t max_flows;          /* flow records */
	uint32_t max_asns;           /* distinct ASNs per window before "other" */
	uint64_t interval_ns;        /* window length */
	uint64_t idle_timeout_ns;    /* established flows */
	uint64_t short_timeout_ns;   /* half-open and closed flows */
	int emit_empty;              /* emit windows without packets (live heartbeats) */
	int hist_digits;             /* significant digits */
	int64_t hist_highest_us;     /* histogram range top */
	const struct ep_asn_map *asn;      /* required */
	const struct ep_netset *local;     /* NULL or empty: roles from the handshake/ports */
	ep_window_cb on_window;
	void *ctx;
};

/* Defaults: 1M flows, 65536 ASNs, 100 ms, 300 s / 10 s timeouts, 2 digits, 60 s. */
void ep_tracker_cfg_defaults(struct ep_tracker_cfg *cfg);

struct ep_tracker;

/* @return 0, -EINVAL, -ENOMEM */
int ep_tracker_new(const struct ep_tracker_cfg *cfg, struct ep_tracker **out);
void ep_tracker_free(struct ep_tracker *t);

/* Count one frame's parse outcome (every frame, TCP or not). */
void ep_tracker_count_parse(struct ep_tracker *t, enum ep_parse_res res);

/* Track one parsed TCP segment seen at now_ns. */
void ep_tracker_packet(struct ep_tracker *t, const struct ep_pkt *pkt, uint64_t now_ns);

/* Most packets ep_tracker_burst() takes at once. */
#define EP_TRACKER_BURST 32

/*
 * Track n (<= EP_TRACKER_BURST) parsed segments with their times, as n calls to
 * ep_tracker_packet() would, but with the flow-table buckets and records of the
 * whole burst prefetched before any is processed.
 */
void ep_tracker_burst(struct ep_tracker *t, const struct ep_pkt *pkts, const uint64_t *now_ns,
		      uint32_t n);

/* Close every window that ends at or before now_ns (idle clock tick). */
void ep_tracker_advance(struct ep_tracker *t, uint64_t now_ns);

/* End of input: end every open flow, close the open window. */
void ep_tracker_finish(struct ep_tracker *t);

/* Start of the open window, 0 before the first packet. */
uint64_t ep_tracker_window_start(const struct ep_tracker *t);

/* Counters, indexed by enum ep_stat (cumulative). */
uint64_t *ep_tracker_stats(struct ep_tracker *t);

/* Bytes allocated for flow records and their index. */
size_t ep_tracker_flow_bytes(const struct ep_tracker *t);

/*
 * Use m for flows created from now on (SIGHUP reload); flows keep the ASN they
 * were given.  Organisation names of existing ASN slots are re-pointed into m,
 * so the caller may free the previous map right after.
 */
void ep_tracker_set_asn_map(struct ep_tracker *t, const struct ep_asn_map *m);

#endif /* EP_TRACKER_H */
