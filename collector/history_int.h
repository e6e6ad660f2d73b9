/* SPDX-License-Identifier: BSD-3-Clause */
/* history_int.h - between the history's queue and writer (history.c) and a storage backend. */
#ifndef EP_HISTORY_INT_H
#define EP_HISTORY_INT_H

#include "edgeprobe/ep_wire.h"
#include "hist.h"
#include "history.h"

/* One ASN's row of a queued bucket: counters, and its bins in the batch's bins array. */
struct ep_hrow {
	uint32_t asn;
	uint16_t cc;        /* country.h, 0 unknown */
	uint64_t c[EP_AC__COUNT];
	uint32_t off[EP_AH__COUNT], nb[EP_AH__COUNT];
};

/* One bucket (or an ASN's name) on its way to storage, in one allocation. */
struct ep_hbatch {
	struct ep_hbatch *next;
	const char *org;    /* an ASN's name: asn in org_asn, no rows */
	uint32_t org_asn;
	char probe[EP_WIRE_PROBE_MAX + 1];
	uint64_t step_ns, start_ns, newest_end_ns, windows;
	uint64_t queued_ns; /* wall time it was queued */
	uint64_t seq;       /* its place in the queue (1, 2, ...) */
	int dup;            /* its rows may be stored already: a rewrite, or a retried write */
	size_t bytes;       /* of this allocation */
	uint32_t n;
	struct ep_hrow *rows;
	struct ep_hbin *bins;
};

/* A storage backend.  Every call comes from one thread at a time (the writer, or a reader). */
struct ep_history_ops {
	const char *name;
	int (*open)(void **be, const struct ep_history_cfg *cfg, const struct ep_hdr_cfg *hcfg,
		    char *err, size_t errlen);
	uint64_t min_interval_ns; /* between two writes (a database that wants few, large inserts) */
	int shared;               /* several collectors write one store */
	/* Write the list in one transaction. @return 0, or a negative errno (nothing written) */
	int (*write)(void *be, const struct ep_hbatch *list, struct ep_hist_codec *codec,
		     uint64_t *rows, char *err, size_t errlen);
	/* Delete buckets of step_ns starting before before_ns. @return rows deleted or -errno */
	long (*expire)(void *be, uint64_t step_ns, uint64_t before_ns);
	long (*read)(void *be, const char *probe, uint64_t step_ns, uint64_t start_ns,
		     uint64_t end_ns, const struct ep_read *want, ep_history_cb cb, void *ctx,
		     uint64_t *corrupt);
	int (*probes)(void *be, uint64_t step_ns, uint64_t since_ns,
		      int (*cb)(const char *probe, void *ctx), void *ctx);
	/* Oldest and newest bucket start of probe at step_ns. @return 0, -ENOENT (none), -EIO */
	int (*bounds)(void *be, const char *probe, uint64_t step_ns, enum ep_whose whose,
		      uint64_t *oldest, uint64_t *newest);
	/* Every ASN name stored. @return names, or -errno */
	long (*orgs)(void *be, void (*cb)(uint32_t asn, const char *org, void *ctx), void *ctx);
	void (*close)(void *be);
};

extern const struct ep_history_ops ep_history_sqlite;
extern const struct ep_history_ops ep_history_clickhouse;

#endif
