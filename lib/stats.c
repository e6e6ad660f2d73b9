/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.c - the counter name tables. */
#include "stats.h"

const char *const ep_stat_names[EP_ST__COUNT] = {
#define EP_X(n) #n,
	EP_STATS_MAIN(EP_X)
#undef EP_X
#define EP_X(n, s, m) "parse_" s,
	EP_PARSE_RESULTS(EP_X)
#undef EP_X
#define EP_X(n) #n,
	EP_STATS_TAIL(EP_X)
#undef EP_X
};

const char *const ep_asn_counter_names[EP_AC__COUNT] = {
#define EP_X(n) #n,
	EP_ASN_COUNTERS(EP_X)
#undef EP_X
};

const char *const ep_asn_hist_names[EP_AH__COUNT] = {"rtt_hs", "rtt_data", "retx_ppm"};
