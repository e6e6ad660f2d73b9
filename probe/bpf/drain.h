/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drain.h - one finished epoch of the BPF maps into per-(ASN, country) window
 * aggregates:
 * the per-CPU counter caches in one read, the sample log through its mapping,
 * the moved counters and histogram buckets with batch look-up-and-delete, the
 * ASNs by hash (ep_asn_agg).
 */
#ifndef EP_BPF_DRAIN_H
#define EP_BPF_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "asn_agg.h"
#include "asn_map.h"
#include "tries.h"

struct edgeprobe_bpf;

struct ep_bpf_drain {
	struct ep_asn_agg agg;          /* the window being drained */
	const struct ep_asn_map *asn;   /* organisation names of new slots */
	struct ep_bpf_ids ids;          /* the tries' values: (ASN, country) ids */
	int ncpu;
	int fd_cfg, fd_stats, fd_acache, fd_actr[2], fd_hist[2];
	void *cache;                    /* ncpu x struct ep_bpf_acache */
	void *stats;                    /* ncpu x struct ep_bpf_stats */
	int stats_read;                 /* stats holds a read not yet summed */
	void *keys, *vals;              /* batch buffers, batch entries */
	struct ep_bpf_sample *slog;     /* the sample log, mapped (NULL: none) */
	size_t slog_bytes;
	uint32_t slog_n;                /* samples per CPU and window (cfg.slog_n) */
	uint32_t batch;
	uint64_t last_ns;               /* the last drain's duration */
	uint64_t hist_err;              /* buckets that did not fit a histogram */
	uint64_t bad_id;                /* keys naming no id (counted into "other") */
	int64_t ftab_used;              /* flow array slots in use, at the last counter read */
};

/*
 * Size the sample log (ep_bpf.h) to per_cpu samples per possible CPU and
 * window, before the object is loaded.  @return 0, or -errno
 */
int ep_bpf_slog_size(struct edgeprobe_bpf *skel, uint32_t per_cpu);

/* Maps the sample log, whose size sets d->slog_n. @return 0, or -errno (err says what) */
int ep_bpf_drain_init(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel, uint32_t max_asns,
		      const struct ep_asn_map *asn, char *err, size_t errlen);
void ep_bpf_drain_fini(struct ep_bpf_drain *d);

/* New organisation names for every slot (after an ASN reload). */
void ep_bpf_drain_set_asn_map(struct ep_bpf_drain *d, const struct ep_asn_map *m);

/*
 * Read and clear epoch e (no program may write it any more), written in
 * window generation gen (cfg.gen), into d->agg.
 * @return the map entries and samples read, or -errno (what was read so far is kept)
 */
long ep_bpf_drain_epoch(struct ep_bpf_drain *d, uint32_t e, uint32_t gen);

/*
 * The probe counters summed over CPUs into stats[EP_BPF_NSTATS]: from the read
 * the last ep_bpf_drain_epoch() made for the sample log's fill counts (one
 * syscall per window, not two), else read now.  @return 0 or -errno
 */
int ep_bpf_drain_stats(struct ep_bpf_drain *d, uint64_t *stats);

/*
 * End every flow still in the tables and the flow array (the run's end) into
 * d->agg, as ep_tcp_end() does.  @return 0, or -errno (what was read is ended)
 */
int ep_bpf_drain_end_flows(struct ep_bpf_drain *d, struct edgeprobe_bpf *skel, uint64_t *stats);

#endif
