/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.h - names of the counters (ep_stats.h, ep_tcp.h) for JSON, metrics and logs. */
#ifndef EP_STATS_NAMES_H
#define EP_STATS_NAMES_H

#include "edgeprobe/ep_stats.h"
#include "edgeprobe/ep_tcp.h"

/* JSON name of stat id (parse outcomes are "parse_<class>"). */
extern const char *const ep_stat_names[EP_ST__COUNT];

/* Names of the per-ASN counters and histograms. */
extern const char *const ep_asn_counter_names[EP_AC__COUNT];
extern const char *const ep_asn_hist_names[EP_AH__COUNT];

#endif
