/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.h - names of the counters of ep_stats.h for JSON and logs. */
#ifndef EP_STATS_NAMES_H
#define EP_STATS_NAMES_H

#include "edgeprobe/ep_stats.h"

/* JSON name of stat id (parse outcomes are "parse_<class>"). */
extern const char *const ep_stat_names[EP_ST__COUNT];

#endif
