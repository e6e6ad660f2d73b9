/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * history.h - the collector's persistent history: complete roll-up buckets
 * (1 s and 1 min, per probe and merged) written by a thread of their own to
 * a storage backend, read back for queries older than memory holds and to
 * refill memory after a restart.
 *
 * Ingest never waits on disk: ep_history_put() copies a bucket into a batch
 * on a bounded queue (under the collector's lock, no I/O); the writer thread
 * writes queued batches in one transaction.  While the backend fails the
 * batches stay queued and are retried; a batch that would pass the queue's
 * bound is dropped and counted.
 */
#ifndef EP_HISTORY_H
#define EP_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "edgeprobe/ep_hdr.h"
#include "store.h"

#define EP_HISTORY_ALL "" /* the probe name of the all-probes view */

/* History counters: X(name, help).  Exported on /metrics as edgeprobe_collector_history_*. */
#define EP_HISTORY_COUNTERS(X)                                                                     \
	X(buckets_queued, "roll-up buckets queued for writing")                                    \
	X(buckets_written, "roll-up buckets written to the history backend")                      \
	X(rows_written, "per-ASN rows written to the history backend")                            \
	X(buckets_dropped, "roll-up buckets dropped: the write queue was full")                   \
	X(write_errors, "failed writes to the history backend (the batch is retried)")            \
	X(read_errors, "failed reads from the history backend")                                   \
	X(rows_expired, "rows deleted by retention")                                               \
	X(rows_corrupt, "rows read back that did not decode (skipped)")

enum ep_history_counter {
#define EP_X(n, h) EP_HC_##n,
	EP_HISTORY_COUNTERS(EP_X)
#undef EP_X
	EP_HC__COUNT
};

extern const char *const ep_hc_names[EP_HC__COUNT];
extern const char *const ep_hc_help[EP_HC__COUNT];

struct ep_history_cfg {
	const char *path;           /* the SQLite file, or clickhouse://HOST:PORT[/DATABASE] */
	const char *id;             /* this collector's name in a shared database */
	uint64_t retain_ns[EP_STORE_MAX_TIERS]; /* per tier step below, 0: keep */
	uint64_t retain_step[EP_STORE_MAX_TIERS];
	uint32_t nretain;
	size_t queue_max;           /* bytes of batches waiting for the writer */
	uint64_t flush_ns;          /* the writer's longest wait between transactions */
};

struct ep_history;

/* A snapshot of the history's counters and gauges. */
struct ep_history_stats {
	uint64_t ctr[EP_HC__COUNT];
	uint64_t queue_bytes;       /* batches waiting */
	uint64_t lag_ns;            /* age of the oldest waiting batch */
	int backend_ok;             /* the last write succeeded */
};

/*
 * Open (create) the store and start the writer.  A file that is not an
 * edgeprobe history, or holds histograms of another configuration, is
 * refused.
 * @return 0, or a negative errno with a message in err
 */
int ep_history_open(struct ep_history **out, const struct ep_history_cfg *cfg,
		    const struct ep_hdr_cfg *hcfg, char *err, size_t errlen);

/* "sqlite" or "clickhouse". */
const char *ep_history_backend(const struct ep_history *h);

/* Write what is queued (bounded wait), stop the writer, close the store. */
void ep_history_close(struct ep_history *h);

/* Queue a copy of bucket b (step step_ns) of probe ("" for all probes). No I/O. */
void ep_history_put(struct ep_history *h, const char *probe, const struct ep_bucket *b,
		    uint64_t step_ns, uint64_t now_ns);

/* Queue an ASN's new or changed name. No I/O. */
void ep_history_put_org(struct ep_history *h, uint32_t asn, const char *org, uint64_t now_ns);

/* Wait until everything queued before the call is written (or failed). @return 0 or -ETIMEDOUT */
int ep_history_sync(struct ep_history *h, uint64_t timeout_ns);

void ep_history_stats(struct ep_history *h, struct ep_history_stats *s, uint64_t now_ns);

/* One bucket read back; entries' histograms point into the reader's scratch. @return 0 to go on */
typedef ep_store_rows_cb ep_history_cb;

/*
 * The buckets of probe at step_ns whose start lies in [start_ns, end_ns),
 * ascending, of the collectors and ASNs want says (or their sum as one
 * bucket, where the store can add up).  With want->finer, the part of the
 * range before probe's oldest bucket of step_ns is read at the coarsest
 * finer retained step that divides it (a history kept before step_ns was
 * added; the visitors merge those buckets into their step's slots).  With
 * want->edge_step, the windows of step_ns the range cuts at either end are
 * read at that finer step where the history holds it (an exact sum), else
 * whole.  With want->held_only, nothing is read unless the history's oldest
 * row of probe at step_ns is at or before start_ns (-ENODATA, not counted as
 * a read error).  Safe from any thread (one reader at a time).
 * @return buckets read, or a negative errno
 */
long ep_history_read(struct ep_history *h, const char *probe, uint64_t step_ns,
		     uint64_t start_ns, uint64_t end_ns, const struct ep_read *want,
		     ep_history_cb cb, void *ctx);

/*
 * Whether other collectors may hold buckets of probe at step_ns in
 * [start_ns, end_ns): what they hold is looked up at most once a second
 * (with a margin for what they write meanwhile), at step_ns or at the finer
 * retained step that want->finer reads.  Always 0 for a store of one
 * collector (SQLite).
 */
int ep_history_others(struct ep_history *h, uint64_t step_ns, uint64_t start_ns,
		      uint64_t end_ns);

/* The probe names with buckets of step_ns starting at or after since_ns ("" included). */
int ep_history_probes(struct ep_history *h, uint64_t step_ns, uint64_t since_ns,
		      int (*cb)(const char *probe, void *ctx), void *ctx);

/* Oldest and newest bucket start held for probe at step_ns. @return 0, -ENOENT (none), -EIO */
int ep_history_bounds(struct ep_history *h, const char *probe, uint64_t step_ns,
		      enum ep_whose whose, uint64_t *oldest, uint64_t *newest);

struct ep_collector;
/*
 * Refill the collector's views (all probes, and each probe the history holds)
 * with the buckets of 1 s and coarser that their rings hold, newest first.
 * Before ingest starts.  @return buckets restored, or a negative errno
 */
long ep_history_restore(struct ep_history *h, struct ep_collector *c);

/*
 * Refill a view of the collector's own kind (the players', stored as the reserved
 * name "@qoe") the same way.  @return buckets restored, or a negative errno
 */
long ep_history_restore_view(struct ep_history *h, struct ep_collector *c, const char *name,
			     struct ep_view *v);

/* Every ASN name stored. @return names, or a negative errno */
long ep_history_orgs(struct ep_history *h, void (*cb)(uint32_t asn, const char *org, void *ctx),
		     void *ctx);

/* Parse "1s=1d,1m=90d" into cfg's retention. @return 0 or -EINVAL */
int ep_history_parse_retain(struct ep_history_cfg *cfg, const char *spec);

#endif
