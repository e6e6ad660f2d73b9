/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qoe.h - players' quality of experience per (ASN, country): CMCD reports
 * accounted per playback session (sequence numbers, player states, startup) and
 * added up in a view with the same tiers as the RTT view.  The client's
 * address picks the ASN and is then forgotten: the session table holds a keyed
 * hash of the session id, the rate limiter a keyed hash of the address.
 *
 * Reports are windowed by their own timestamp (ts) when they carry one, so that a
 * session's minutes line up with the probes' minutes of the same ISP.
 *
 * The QoE view reuses the store's entries with its own meaning of the slots
 * (enum ep_qoe_counter, enum ep_qoe_hist), so roll-ups, retention and queries
 * are the store's own.
 */
#ifndef EP_QOE_H
#define EP_QOE_H

#include <pthread.h>
#include <stdint.h>

#include "cmcd.h"
#include "store.h"

struct ep_asn_map;

/* What a QoE entry's counters hold. */
enum ep_qoe_counter {
	EP_QC_reports,  /* CMCD reports */
	EP_QC_sessions, /* sessions first seen */
	EP_QC_play_ms,  /* time in the playing state (v2), or video object durations (v1) */
	EP_QC_stalls,   /* entries into rebuffering (v2), or buffer-starvation flags (v1) */
	EP_QC_stall_ms, /* time in the rebuffering state (v2 state reports) */
	EP_QC_fatal,    /* sessions that reported a fatal error state */
	EP_QC__COUNT
};

/* What a QoE entry's histograms hold. */
enum ep_qoe_hist {
	EP_QH_startup_ms, /* msd, or the time from starting to playing */
	EP_QH_mtp_kbps,   /* measured throughput */
	EP_QH_br_kbps,    /* encoded bitrate of video objects */
	EP_QH__COUNT
};

_Static_assert((int)EP_QC__COUNT <= (int)EP_AC__COUNT, "QoE counters fit an entry");
_Static_assert((int)EP_QH__COUNT == (int)EP_AH__COUNT, "QoE histograms fill an entry");

/* QoE counters: X(name, help). */
#define EP_QOE_COUNTERS(X)                                                                         \
	X(qoe_requests, "QoE requests received")                                                   \
	X(qoe_reports, "CMCD reports added up")                                                    \
	X(qoe_refused_requests, "QoE requests refused (all reasons; per reason: qoe_refused)")     \
	X(qoe_too_large, "QoE requests refused: body over 64 KiB")                                 \
	X(qoe_rate_limited, "QoE requests refused: over --qoe-rate for their source")              \
	X(qoe_bad_forwarded, "QoE requests from a trusted proxy without a usable X-Forwarded-For") \
	X(qoe_duplicate, "reports dropped: their session's sequence number was seen before")       \
	X(qoe_late, "reports dropped: a sequence number older than the session's last 64")         \
	X(qoe_reordered, "reports older than their session's last: counted, not timed")           \
	X(qoe_sessions_full, "reports of a new session while the session table was full")         \
	X(qoe_sessions_expired, "sessions forgotten after 5 minutes without a report")              \
	X(qoe_no_asn, "reports from addresses outside the ASN data (AS 0)")                        \
	X(qoe_memcap_shed, "QoE roll-up buckets freed to stay under --qoe-memcap")                 \
	X(qoe_memcap_refused, "reports not added: --qoe-memcap is held by what cannot be shed")    \
	X(qoe_ts_ignored, "reports whose ts was ahead of the clock or older than the roll-ups: "   \
			  "placed at their arrival")

enum ep_qoe_ctr {
#define EP_X(n, h) EP_QOE_##n,
	EP_QOE_COUNTERS(EP_X)
#undef EP_X
	EP_QOE__COUNT
};

extern const char *const ep_qoe_ctr_names[EP_QOE__COUNT];
extern const char *const ep_qoe_ctr_help[EP_QOE__COUNT];

struct ep_qoe_cfg {
	uint32_t max_sessions;   /* sessions tracked (rounded up to a power of two) */
	uint32_t rate;           /* reports per second per source (IPv6: per /64), 0: no limit */
	uint64_t session_idle_ns; /* a session silent this long may be forgotten */
	uint64_t max_skew_ns;    /* a ts further ahead of the collector's clock is not believed */
	uint64_t memcap;         /* bytes of roll-ups (0: no cap): shed as the probes' views are */
};

struct ep_qoe_sess;
struct ep_qoe_rl;

struct ep_qoe {
	pthread_mutex_t lock;
	struct ep_view view;
	struct ep_hdr_cfg hcfg;
	struct ep_asn_map *asn;   /* owned */
	struct ep_qoe_cfg cfg;
	struct ep_qoe_sess *sess;
	uint32_t sess_sets;       /* sets of EP_QOE_WAYS sessions */
	struct ep_qoe_rl *rl;
	uint64_t seed[2];         /* keys of the session and address hashes */
	uint64_t ctr[EP_QOE__COUNT];
	uint64_t memcap_retry;    /* wall ns: over the cap with nothing to shed until then */
	uint64_t refused[EP_CMCD_E__COUNT];
};

/*
 * @param asn the ASN map (owned from here on, also on failure)
 * @param steps, counts, ntiers, max_asns the tiers, as the RTT view's
 * @return 0, -EINVAL, -ENOMEM
 */
int ep_qoe_init(struct ep_qoe *q, const struct ep_qoe_cfg *cfg, struct ep_asn_map *asn,
		const struct ep_hdr_cfg *hcfg, uint32_t ntiers, const uint64_t *steps,
		const uint32_t *counts, uint32_t max_asns);
void ep_qoe_fini(struct ep_qoe *q);

/* The ASN and country of a client address (family 4 or 6). */
void ep_qoe_locate(const struct ep_qoe *q, int family, const uint8_t *addr, uint32_t *asn,
		   uint16_t *cc);

/* Take n reports from the source's budget. @return 1 allowed, 0 over the rate (counted) */
int ep_qoe_rate_take(struct ep_qoe *q, int family, const uint8_t *addr, uint32_t n,
		     uint64_t now_ns);

/*
 * Account one report of a client of (asn, cc), received at wall time now_ns: in the
 * window of its ts (the player's clock) when it has one no later than now plus
 * max_skew_ns and no older than the coarsest tier holds, else of its arrival.
 */
void ep_qoe_add(struct ep_qoe *q, const struct ep_cmcd *r, uint32_t asn, uint16_t cc,
		uint64_t now_ns);

/* The players' view in the history: a name no probe may have (probe ids never start with @). */
#define EP_QOE_HISTORY_NAME "@qoe"

/* Hand complete buckets of these tiers to cb (the history), as the collector's views do. */
void ep_qoe_set_persist(struct ep_qoe *q, uint32_t tiers, ep_store_close_cb cb, void *ctx);

/* Close every window (at exit: the history gets the last complete buckets). */
void ep_qoe_close_all(struct ep_qoe *q);

/* Heap bytes held (session and rate tables, the view's buckets). */
uint64_t ep_qoe_mem(const struct ep_qoe *q);

#endif
