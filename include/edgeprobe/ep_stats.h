/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_stats.h - the probe's counters, declared once: the enum gives their wire
 * ids (append only within a wire version), the name table their JSON names.
 * Every parse outcome has its own counter, so packets == sum of parse_*.
 */
#ifndef EP_STATS_H
#define EP_STATS_H

#include "ep_parse.h"

#define EP_STATS_MAIN(X)                                                                           \
	X(packets)            /* frames handed to the parser */                                   \
	X(flows_created)      /* flow records created (SYN or midstream) */                       \
	X(flows_active)       /* gauge: records in the table */                                   \
	X(flows_closed)       /* flows ended by FIN/RST, timeout, eviction or end of input */     \
	X(flows_timeout)      /* of which idle timeouts */                                        \
	X(flows_evicted)      /* of which evicted to make room */                                 \
	X(evict_halfopen)     /* evictions that took a half-open or closing flow */               \
	X(evict_bucket_full)  /* always 0: the flow index has no buckets to fill (kept for the wire) */ \
	X(rst_no_flow)        /* RST for an unknown flow: not tracked */                          \
	X(time_backwards)     /* packets older than the open window */                            \
	X(rtt_pend_full)      /* in-flow candidates not taken: every slot awaits its answer */    \
	X(rtt_discarded)      /* samples above the histogram range */                             \
	X(asn_overflow)       /* flows put in the "other" ASN bucket */                           \
	X(hist_nomem)         /* samples lost to allocation failure */                            \
	X(windows)            /* windows closed */                                                \
	X(msgs_sent)          /* wire messages handed to the sinks */                             \
	X(send_errors)        /* wire messages a sink failed to send */                           \
	X(windows_dropped)    /* windows not delivered (sink backlog) */                          \
	X(src_drops)          /* packets the capture source dropped (kernel buffer) */            \
	X(src_ifdrops)        /* packets the interface dropped */

/* Appended after the parse classes (wire ids 37 on). */
#define EP_STATS_TAIL(X)                                                                           \
	X(bpf_map_full)       /* BPF: a map update failed (full): that count or sample is lost */ \
	X(gso_packets)        /* BPF: GSO/GRO super-packets (counted as their segments) */        \
	X(flows_promoted)     /* BPF: flows moved from the new-flow to the established table */ \
	X(sink_connects)      /* connections made to TCP collectors */                          \
	X(sink_backlog_bytes) /* gauge: wire bytes queued for TCP collectors */              \
	X(rtt_pend_retired)   /* outstanding samples that can no longer be answered first */   \
	X(rtt_pend_expired)   /* outstanding samples unanswered for EP_PEND_MAX_US */            \
	X(rtt_karn_discard)   /* outstanding samples voided by a retransmission (Karn) */        \
	X(rtt_ts_jump)        /* TSval clock jumped back: its outstanding samples dropped */     \
	X(gso_split)          /* super-packets sampled as their wire segments (TC egress) */  \
	X(syn_unsampled)      /* SYNs not admitted under a flood (ep_admit.h): no handshake */ \
	X(syn_admit_level)    /* gauge: new half-open flows admitted at 2^-level */          \
	X(syn_new)            /* SYNs that found no flow (connections opened, flood SYNs) */ \
	X(bpf_acache_spill)   /* BPF: per-ASN counts moved out of a per-CPU cache slot (ep_bpf.h) */ \
	X(flows_one_way)      /* flows ended having heard one side only (asymmetric path, scan) */ \
	X(json_reopens)       /* --json-out reopened on SIGHUP/SIGUSR1 (log rotation) */       \
	X(json_reopen_errors) /* reopen refused (kept writing to the old file) */       \
	X(bpf_slog_full)      /* BPF: samples past a full sample-log region, to the bucket hash */ \
	X(rtt_data_timed)     /* in-flow RTTs measured (rtt_data counts the echoes they weigh) */ \
	X(bpf_ftab_overflow)  /* BPF: established flows whose set was full: to the overflow hash */ \
	X(rtt_karn_credit)    /* no TS: a resend's prior ACKs recorded at the flow's last RTT */

enum ep_stat {
#define EP_X(n) EP_ST_##n,
	EP_STATS_MAIN(EP_X)
#undef EP_X
#define EP_X(n, s, m) EP_ST_PARSE_##n,
	EP_PARSE_RESULTS(EP_X)
#undef EP_X
#define EP_X(n) EP_ST_##n,
	EP_STATS_TAIL(EP_X)
#undef EP_X
	EP_ST__COUNT
};

#define EP_ST_PARSE_FIRST EP_ST_PARSE_OK

#endif /* EP_STATS_H */
