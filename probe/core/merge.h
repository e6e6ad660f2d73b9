/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * merge.h - combine windows of the same interval from several sources
 * (workers of one probe, later probes at the collector): counters add,
 * histograms add exactly.  Windows are kept by start time until popped.
 */
#ifndef EP_MERGE_H
#define EP_MERGE_H

#include <stdint.h>

#include "window.h"

#define EP_MERGE_MAX_OPEN 64 /* windows held at once; the oldest is forced out beyond */

struct ep_merge;

/* @return 0, -ENOMEM */
int ep_merge_new(struct ep_merge **out);
void ep_merge_free(struct ep_merge *m);

/*
 * Add one source's ASN records for the window [start_ns, end_ns).
 * @return 0, -EINVAL (histogram configurations differ), -ENOMEM, or -EOVERFLOW
 *         when the oldest open window had to be dropped to make room (counted).
 */
int ep_merge_add(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns,
		 const struct ep_window_asn *asns, uint32_t n);

/*
 * One source's ASN record with sparse histograms: each a run of ascending
 * (index, count) bins of the configuration given with them, and the number of
 * values that were above its range.  What a DPDK worker hands its main lcore.
 */
struct ep_sparse_asn {
	uint32_t asn;
	uint16_t cc;
	const char *org;
	uint64_t c[EP_AC__COUNT];
	const struct ep_hbin *bins[EP_AH__COUNT];
	uint32_t nbins[EP_AH__COUNT];
	int64_t clamped[EP_AH__COUNT];
};

/*
 * As ep_merge_add(), from sparse records whose histograms are all of cfg.
 * @return 0, -EINVAL (configurations differ, or a bin outside cfg), -ENOMEM,
 *         -EOVERFLOW (as ep_merge_add)
 */
int ep_merge_add_sparse(struct ep_merge *m, uint64_t start_ns, uint64_t end_ns,
			const struct ep_hdr_cfg *cfg, const struct ep_sparse_asn *asns, uint32_t n);

/*
 * Fill w with the oldest open window starting before before_ns (its ASNs in
 * order, owned by the merger until the next call), and remove it.
 * @return 1 when a window was popped, 0 when none is old enough.
 */
int ep_merge_pop(struct ep_merge *m, uint64_t before_ns, struct ep_window *w);

/*
 * A view of the open window starting at start_ns (ASNs owned by the merger,
 * valid until the next add or pop), without removing it.
 * @return 1 when that window is open, 0 otherwise (w is then empty).
 */
int ep_merge_peek(const struct ep_merge *m, uint64_t start_ns, struct ep_window *w);

/* Windows dropped because too many were open. */
uint64_t ep_merge_dropped(const struct ep_merge *m);

#endif
