/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * collector.h - the collector's state and its ingest path: validate a wire
 * message, account for it per probe (sequence, epoch, counters), and merge
 * its ASN records into the all-probes view and the probe's own view.
 * Sockets, HTTP and Kafka live elsewhere and call in under c->lock.
 */
#ifndef EP_COLLECTOR_H
#define EP_COLLECTOR_H

#include <pthread.h>
#include <stdint.h>

#include "edgeprobe/ep_stats.h"
#include "edgeprobe/ep_wire.h"
#include "seqwin.h"
#include "region.h"
#include "store.h"
#include "wire.h"

/* Collector counters: X(name, help). */
#define EP_COLLECTOR_COUNTERS(X)                                                                   \
	X(msgs_received, "messages received")                                                       \
	X(bytes_received, "bytes received")                                                         \
	X(msgs_accepted, "messages merged")                                                         \
	X(msgs_rejected, "messages rejected (all reasons)")                                         \
	X(rejected_unknown_probe, "messages from a probe not on the allow-list")                     \
	X(rejected_hist_config, "messages whose histograms use another configuration")              \
	X(rejected_duplicate, "duplicate messages dropped")                                         \
	X(rejected_stale, "messages from an older epoch or behind the sequence window")              \
	X(probes_cap, "messages from new probes beyond --max-probes")                                \
	X(probe_views_cap, "probes without a per-probe view (beyond --max-probe-views)")              \
	X(orgs_cap, "ASN names not kept (table full)")                                              \
	X(metrics_asn_cap, "ASNs without cumulative metrics (beyond --max-asns)")                    \
	X(metrics_probe_asn_cap, "probe x ASN pairs without metrics (beyond --metrics-probe-asns)")   \
	X(frames_oversized, "TCP frames longer than a message may be")                              \
	X(tcp_connections, "TCP connections accepted")                                              \
	X(tcp_refused, "TCP connections refused (limit)")                                           \
	X(windows_closed, "1 s windows closed and published")                                      \
	X(kafka_produced, "Kafka messages queued")                                                  \
	X(kafka_delivered, "Kafka messages acknowledged by the brokers")                            \
	X(kafka_queue_full, "Kafka messages not queued (local queue full)")                         \
	X(kafka_failed, "Kafka messages that failed delivery")                                     \
	X(rejected_future, "messages whose window or epoch is ahead of the collector's clock by more than --max-skew") \
	X(rejected_implausible, "messages with impossible values (window length, counters, histogram totals)") \
	X(quarantined, "messages of an unconfirmed sequence or epoch jump, held back (no key)")     \
	X(quarantine_adopted, "sequence or epoch jumps adopted after confirmation")                 \
	X(rejected_memcap, "messages not merged: the memory cap is held by data that cannot be shed") \
	X(memcap_shed, "roll-up buckets freed to stay under --memcap")                              \
	X(probes_evicted, "probes forgotten to admit new ones (probation or silent)")               \
	X(tcp_idle_closed, "TCP connections closed after --tcp-idle-s without a message")           \
	X(tcp_addr_refused, "TCP connections refused (per-address limit)")                         \
	X(http_refused, "HTTP requests refused (Host, token, or stream subscriber limits)")         \
	X(state_errors, "failures to read or write the --state-file")                              \
	X(ingest_deferred, "messages held while a reader had the lock (merged right after)")       \
	X(ingest_waited, "times ingest waited for a reader (its backlog was full)")                \
	X(history_buckets_written, "roll-up buckets written to --history")                         \
	X(history_rows_written, "per-ASN rows written to --history")                               \
	X(history_buckets_dropped, "roll-up buckets not written: the --history-queue was full")    \
	X(history_write_errors, "failed writes to --history (the batch is kept and retried)")      \
	X(history_read_errors, "failed reads from --history")                                     \
	X(history_rows_expired, "rows deleted from --history by --retain")                         \
	X(history_rows_corrupt, "rows of --history that did not decode (skipped)")               \
	X(alerts_sent, "alerts delivered to Alertmanager and webhooks (2xx)")                       \
	X(alert_send_failures, "failed POSTs to alert receivers (retried with backoff)")          \
	X(alerts_dropped, "alerts not delivered: a receiver's queue was full (--alert-queue)")     \
	X(records_refused_region, "(ASN, country) records dropped: their country is in no --accept-region") \
	X(rejected_reserved_id, "messages from a probe id starting with '@' (reserved for the collector's own views)")

enum ep_collector_counter {
#define EP_X(n, h) EP_CC_##n,
	EP_COLLECTOR_COUNTERS(EP_X)
#undef EP_X
	EP_CC__COUNT
};

extern const char *const ep_cc_names[EP_CC__COUNT];
extern const char *const ep_cc_help[EP_CC__COUNT];

struct ep_alerts;
struct ep_qoe;
struct ep_asn_total;

struct ep_cprobe {
	char id[EP_WIRE_PROBE_MAX + 1];
	struct ep_seqwin seq;
	uint64_t q_epoch, q_seq;         /* quarantined jump awaiting confirmation */
	uint32_t q_hits;                 /* consecutive messages that continued it */
	uint64_t first_seen, last_seen;  /* wall ns */
	uint64_t newest_end;             /* newest window end (probe clock) */
	uint64_t msgs, bytes, windows, summaries;
	uint64_t stats[EP_ST__COUNT];    /* last reported (cumulative within the epoch) */
	uint64_t dropped_prev_epochs;    /* windows_dropped of earlier epochs */
	char dataset[EP_WIRE_DATASET_MAX + 1]; /* the ASN/country data versions it last sent */
	struct ep_view *view;            /* per-probe roll-ups, NULL when capped */
	struct ep_asn_total *totals;     /* --metrics-probe-asns: this probe's cumulative totals */
	uint32_t ntotals;
	struct ep_collector *owner;
};

/*
 * Prometheus buckets for RTT histograms: nominal bounds in microseconds, each
 * moved up to the highest value of its HDR bucket so that every HDR bucket
 * falls entirely into one Prometheus bucket (see prom_le).
 */
#define EP_PROM_LE_US(X) X(100) X(250) X(500) X(1000) X(2500) X(5000) X(10000) X(20000) \
	X(30000) X(50000) X(75000) X(100000) X(150000) X(200000) X(300000) X(500000)       \
	X(1000000) X(2500000) X(5000000) X(10000000)
#define EP_PROM_NLE 21 /* 20 bounds + Inf */

/* Cumulative per-ASN totals since start, for /metrics. */
struct ep_asn_total {
	uint32_t asn;
	uint64_t c[EP_AC__COUNT];
	uint64_t rtt[2][EP_PROM_NLE]; /* rtt_hs, rtt_data: per-bucket (not cumulative) counts */
	uint64_t rtt_sum_us[2];
};

struct ep_collector_cfg {
	uint32_t ntiers;
	uint64_t steps[EP_STORE_MAX_TIERS];
	uint32_t counts[EP_STORE_MAX_TIERS];
	uint32_t probe_ntiers;
	uint64_t probe_steps[EP_STORE_MAX_TIERS];
	uint32_t probe_counts[EP_STORE_MAX_TIERS];
	uint32_t max_asns;          /* per bucket */
	uint32_t max_probes;
	uint32_t max_probe_views;
	uint32_t metrics_top;       /* ASNs exported on /metrics, by samples */
	uint32_t metrics_probe_asns; /* per probe with a view: ASNs with RTT metrics (0: none) */
	uint64_t grace_ns;          /* watermark = newest end - grace */
	uint64_t max_skew_ns;       /* messages further ahead of the collector's clock are refused */
	uint64_t memcap;            /* bytes for everything that grows with input (0: no cap) */
	uint64_t query_budget;      /* ASN entries a list query merges before going coarser */
	uint64_t mem_extra;         /* bytes the caller holds against the cap (ingest backlog) */
	int64_t hist_highest;
	int32_t hist_digits;
	uint64_t persist_min_ns;    /* tiers of this step and coarser are persisted (0: 1 s) */
	const char *const *allow;   /* NULL-terminated probe ids, NULL: any */
	uint8_t key[EP_WIRE_KEY_MAX];
	size_t keylen;              /* 0: no signatures required */
};

/* A closed 1 s window as published (SSE, Kafka). */
typedef void (*ep_collector_publish_cb)(const struct ep_bucket *b, uint64_t step_ns, void *ctx);

/* A complete bucket of 1 s or more, of probe ("" for all), for storage (again after late data). */
typedef void (*ep_collector_persist_cb)(const char *probe, const struct ep_bucket *b,
					uint64_t step_ns, void *ctx);

/* Buckets of probe from storage, as want says. @return buckets, or -errno */
typedef long (*ep_collector_older_cb)(void *ctx, const char *probe, uint64_t step_ns,
				      uint64_t start_ns, uint64_t end_ns, const struct ep_read *want,
				      ep_store_rows_cb cb, void *cb_ctx);

/* Whether a shared store holds buckets of probe at step_ns. */
typedef int (*ep_collector_stored_cb)(void *ctx, const char *probe, uint64_t step_ns);

/* Whether other collectors of a shared store may hold buckets of step_ns in [start, end). */
typedef int (*ep_collector_others_cb)(void *ctx, uint64_t step_ns, uint64_t start_ns,
				      uint64_t end_ns);

struct ep_collector {
	pthread_mutex_t lock;
	struct ep_collector_cfg cfg;
	struct ep_hdr_cfg hcfg;
	struct ep_regions regions;       /* countries -> regions (the API's region=) */
	uint8_t accept_region[EP_REGION_MAX + 1]; /* --accept-region: regions kept, by id */
	int accept_limited;              /* records of other countries are dropped */
	struct ep_hist_codec codec;        /* ingest's histogram decoder (under lock) */
	struct ep_view all;
	struct ep_cprobe *probes;
	uint32_t nprobes, nviews;
	uint32_t *probe_index, probe_mask; /* id hash -> probe + 1 */
	uint64_t ctr[EP_CC__COUNT];
	uint64_t rejected[EP_WIRE_E__COUNT];
	/* ASN -> organisation (from the newest record that named it). */
	struct { uint32_t asn; char *org; } *orgs;
	uint32_t norgs, orgs_mask;
	struct ep_asn_total *totals;
	uint32_t ntotals;
	int32_t *prom_bucket;       /* counts index -> Prometheus bucket */
	int64_t prom_le[EP_PROM_NLE - 1]; /* bucket bounds, microseconds (HDR bucket tops) */
	uint64_t started;           /* wall ns */
	uint64_t mem_fixed;         /* bytes allocated at start (tier arrays, tables, scratch) */
	uint64_t mem_orgs;          /* bytes of ASN names */
	uint64_t mem_views;         /* bytes held by the per-probe views' buckets */
	uint64_t watermark;         /* the all-probes view is closed up to here */
	uint64_t memcap_retry;      /* wall ns: over the cap with nothing to shed until then */
	uint64_t last_msg_wall;
	int idle_closed;            /* everything was closed since the last message */
	/* Scratch for decoding one message's histograms. */
	struct ep_hbin *bins;
	size_t nbins_cap;
	struct ep_crec *recs;
	uint32_t nrecs_cap;
	ep_collector_publish_cb publish;
	void *publish_ctx;
	ep_collector_persist_cb persist; /* NULL: memory only */
	void (*persist_org)(uint32_t asn, const char *org, void *ctx); /* a new or changed name */
	void *persist_ctx;
	ep_collector_older_cb older;     /* NULL: memory only */
	ep_collector_others_cb others;   /* NULL: no other collector shares the store */
	ep_collector_stored_cb stored;   /* with others */
	void *older_ctx;
	int history_on;                  /* persist and older are set */
	struct ep_alerts *alerts;        /* the alert engine (alert.h), NULL: none */
	struct ep_qoe *qoe;              /* players' QoE (qoe.h), NULL: none */
	uint64_t history_queue_bytes;    /* gauges, set by the caller */
	uint64_t history_lag_ns;
};

/*
 * Limits of what a message may claim.  A window longer than an hour, or a
 * counter or histogram above EP_MAX_RATE per second of window, is
 * implausible.  Without a key, a sequence number further than
 * EP_SEQ_JUMP_MAX ahead, or an older epoch, is quarantined until
 * EP_QUARANTINE_CONFIRM consecutive messages continue it.  A probe with fewer
 * than EP_PROBE_PROBATION messages, or silent for EP_PROBE_SILENT_NS, may be
 * forgotten to admit a new one when the table is full.
 */
#define EP_WINDOW_MAX_NS (3600ull * 1000000000ull)
#define EP_MAX_RATE (1ull << 30)
#define EP_SEQ_JUMP_MAX (1ull << 20)
#define EP_QUARANTINE_CONFIRM 3
#define EP_PROBE_PROBATION 16
#define EP_PROBE_SILENT_NS (600ull * 1000000000ull)
#define EP_MAX_PROBES_LIMIT 65536
#define EP_MEMCAP_ROOM (64ull << 20) /* --memcap must leave this above the fixed tables */
#define EP_MEMCAP_RETRY_NS (100ull * 1000000ull) /* over the cap, unsheddable: look again after */

/* Defaults: 100 ms x 3000 (5 min), 1 s x 3600 (1 h), 1 min x 1440 (1 day); views per probe 1 s x 600, 1 min x 1440. */
void ep_collector_cfg_default(struct ep_collector_cfg *cfg);

/*
 * @return 0, -EINVAL (configuration), -ENOSPC (memcap below the fixed tables
 *         plus EP_MEMCAP_ROOM; mem_fixed says how much they take), -ENOMEM
 */
int ep_collector_init(struct ep_collector *c, const struct ep_collector_cfg *cfg);
void ep_collector_fini(struct ep_collector *c);

/*
 * Validate and merge one message received at wall time now_ns.
 * @return EP_WIRE_OK, or the reason it was rejected (counted).  Rejections of
 *         the collector's own kind return EP_WIRE_E__COUNT (see the counters).
 */
int ep_collector_ingest(struct ep_collector *c, const uint8_t *msg, size_t len, uint64_t now_ns);

/* Roll up what the watermark allows; with force, everything received. */
void ep_collector_tick(struct ep_collector *c, uint64_t now_ns, int force);

/* Bytes held by everything that grows with input, as counted against the cap. */
uint64_t ep_collector_mem(const struct ep_collector *c);

/*
 * The replay window across restarts, as text: a header line, then one line
 * per probe "ID<TAB>EPOCH<TAB>SEQ" (its newest sequence number).  The caller
 * writes it out of the lock; a loaded probe accepts only later messages, and
 * the numbers it missed meanwhile count as lost.
 * @return text (malloc'ed) and its length, NULL on allocation failure
 */
char *ep_collector_state_text(const struct ep_collector *c, size_t *len);
/* @return probes loaded, -errno, or -EINVAL at a malformed line (those before stay loaded) */
int ep_collector_state_load(struct ep_collector *c, const char *path);

/*
 * Put a bucket read back from storage into the view of probe ("" for all;
 * the probe is created as a silent one).  Coarsest step first.
 * @return 0, -ENOENT (no tier of that step, or no view for the probe), or as ep_view_load()
 */
int ep_collector_restore(struct ep_collector *c, const char *probe, uint64_t step_ns,
			 uint64_t start_ns, uint64_t newest_end, uint64_t windows,
			 const struct ep_centry *e, uint32_t n);

/* Name asn (as a record would; a name read back from storage). */
void ep_collector_set_org(struct ep_collector *c, uint32_t asn, const char *org);

/* The probe of id, created (silent, never heard) when new. @return NULL at the table's limit */
struct ep_cprobe *ep_collector_probe_add(struct ep_collector *c, const char *id);

/* Bit per tier of v whose buckets are persisted: those of min_ns (0: 1 s) and coarser. */
uint32_t ep_collector_persist_tiers(const struct ep_view *v, uint64_t min_ns);

const char *ep_collector_org(const struct ep_collector *c, uint32_t asn);
struct ep_cprobe *ep_collector_probe(struct ep_collector *c, const char *id);

#endif
