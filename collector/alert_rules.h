/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_rules.h - alert rules from an INI file (inih): one [section] per
 * rule, named by the section.  A rule computes one value per key (an ASN, a
 * probe and ASN, or a probe) over the last `over` of closed windows and
 * compares it with an absolute threshold or with the key's own baseline.
 * See docs/operations.md, "Alerts", for every key.
 */
#ifndef EP_ALERT_RULES_H
#define EP_ALERT_RULES_H

#include <stddef.h>
#include <stdint.h>

#define EP_ALERT_NAME_MAX 63
#define EP_ALERT_RULES_MAX 64
#define EP_ALERT_OVER_MAX_S 60 /* the span a value covers, in 1 s windows */
#define EP_ALERT_REFS 4        /* rules a requires = or unless = names */

enum ep_alert_metric {
	EP_AM_RTT_HS,      /* handshake RTT quantile, us */
	EP_AM_RTT_DATA,    /* in-flow RTT quantile, us */
	EP_AM_RETX,        /* retransmitted / sent segments */
	EP_AM_REBUFFER,    /* players' stall time / (play + stall time), from CMCD (--qoe) */
	EP_AM_SILENT,      /* seconds since the probe's last message */
	EP_AM_MSG_LOSS,    /* the probe's messages lost / expected */
	EP_AM_SRC_DROPS,   /* capture drops / (packets + drops) */
	EP_AM_EVICTIONS,   /* flow-table evictions per second */
	EP_AM__COUNT
};

enum ep_alert_scope {
	EP_AS_ASN,         /* per ASN, over all probes */
	EP_AS_PROBE_ASN,   /* per probe and ASN (the probe's own view) */
	EP_AS_PROBE,       /* per probe (health metrics) */
};

struct ep_alert_rule {
	char name[EP_ALERT_NAME_MAX + 1];
	enum ep_alert_metric metric;
	enum ep_alert_scope scope;
	double q;              /* quantile of RTT metrics, (0, 1] */
	uint32_t over;         /* whole 1 s windows the value covers */
	uint64_t baseline_ns;  /* relative: the key's own span before `over`; 0: absolute */
	uint64_t offset_ns;    /* the baseline ends this long before `over` starts (1d: yesterday) */
	double ratio;          /* relative: value >= baseline * ratio ... */
	double margin;         /* ... and value >= baseline + margin */
	double above;          /* absolute: value >= above */
	uint64_t min_samples;  /* fewer samples (span or baseline): no verdict */
	uint32_t pending;      /* consecutive bad windows before firing (0: at once) */
	uint32_t resolve;      /* consecutive clean windows before resolving (>= 1) */
	char severity[16];
	uint16_t cc;           /* country = DE: only the ASN's entries of that country (0: all) */
	char region[49];       /* region = NAME: only those of the region's countries ("": all) */
	uint8_t nrequires, nunless;
	uint8_t requires[EP_ALERT_REFS]; /* only while one of these rules is pending or firing
					     for the ASN (indexes) */
	uint8_t unless[EP_ALERT_REFS];   /* only while none of these is */
	unsigned line;         /* of the [section] */
};

struct ep_alert_rules {
	struct ep_alert_rule r[EP_ALERT_RULES_MAX];
	uint32_t n;
};

/*
 * Parse rules from text (path names it in errors).
 * @return 0, or -EINVAL with err as "PATH:LINE: reason"
 */
int ep_alert_rules_parse(const char *text, const char *path, struct ep_alert_rules *out,
			 char *err, size_t errlen);

/* Read and parse path (at most 1 MiB). @return 0, -errno, or -EINVAL (err says why) */
int ep_alert_rules_load(const char *path, struct ep_alert_rules *out, char *err, size_t errlen);

/* "rtt_data:p90", "retx_rate", ... as in the file. */
const char *ep_alert_metric_name(const struct ep_alert_rule *r, char *buf, size_t len);
const char *ep_alert_scope_name(enum ep_alert_scope s);
/* Unit of the metric's values ("us", "ratio", "s", "per_s"). */
const char *ep_alert_metric_unit(enum ep_alert_metric m);

#endif
