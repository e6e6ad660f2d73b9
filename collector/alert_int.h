/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_int.h - between the alert engine's evaluation (alert.c) and its JSON
 * (alert_json.c): the state of one key and of the engine.  Not for use
 * outside them.
 */
#ifndef EP_ALERT_INT_H
#define EP_ALERT_INT_H

#include "alert.h"
#include "region.h"

#define NS_PER_S 1000000000ull
#define RESOLVED_KEEP 256     /* resolved alerts the API lists */
#define STALE_NS (600 * NS_PER_S) /* normal keys not evaluated for this long are forgotten */


enum { ST_NORMAL, ST_PENDING, ST_FIRING, ST_RESOLVED };
extern const char *const ep_alert_state_names[4];

/* Cumulative probe counters at one tick (probe-health rules: a value is a difference). */
struct snap {
	uint64_t a, b;
};

struct astate {
	int used;
	uint32_t rule;
	uint32_t asn;                      /* 0 for probe rules */
	uint32_t probe;                    /* 0: all probes; else 1 + index in pnames */
	int st;
	uint32_t bad, good;                /* consecutive bad / clean evaluations */
	uint64_t since_ns;                 /* start of the first bad window of the episode */
	uint64_t fired_ns, resolved_ns;    /* window ends (trace time; wall for probe rules) */
	uint64_t fired_wall, resolved_wall;
	uint64_t window_end;               /* newest evaluation's window end */
	uint64_t eval_wall;                /* when it was evaluated */
	double value, peak, baseline;
	uint64_t samples, base_samples;
	uint64_t base_at;                  /* window end the baseline was computed at, 0: never */
	uint64_t base_cover;               /* ns of the baseline span that held data */
	uint64_t last_sent;                /* wall: the newest event to Alertmanager */
	uint64_t episode;
	struct snap *ring;                 /* probe rules: EP_ALERT_OVER_MAX_S + 1 ticks */
	uint32_t nsnap;
};

struct ep_alerts {
	struct ep_alerts_cfg cfg;
	char url[512];
	struct ep_alert_rules rules;
	struct astate *st;
	uint32_t cap, mask, n;             /* table slots, used slots */
	struct astate resolved[RESOLVED_KEEP];
	uint32_t nresolved;                /* written so far (ring) */
	uint64_t ctr[EP_ALC__COUNT];
	uint64_t episodes;
	uint64_t last_tick;                /* wall second of the newest probe evaluation */
	uint64_t last_purge;
	uint32_t budget;                   /* baselines left in this window */
	uint32_t firing;
	uint32_t active;                   /* keys pending or firing */
	char (*pnames)[EP_WIRE_PROBE_MAX + 1]; /* probe ids the states name */
	uint32_t npnames, pnames_cap;
	unsigned region_id[EP_ALERT_RULES_MAX]; /* each rule's region, as the collector numbers it */
	const struct ep_regions *regions;  /* the collector's, for the window being evaluated */
	struct ep_hist *h;                 /* dense scratch for quantiles */
	int64_t h_highest;
	int32_t h_digits;
};

/* alert_state.c: the number of probe id (1 + its index), added when new; 0: table full. */
uint32_t ep_alert_probe_num(struct ep_alerts *a, const char *id);
/* alert_state.c: the state of (rule, asn, probe); with create, added when new (NULL: full). */
struct astate *ep_alert_find(struct ep_alerts *a, uint32_t rule, uint32_t asn, uint32_t probe,
			     int create);
/* alert_state.c: rebuild the table without stale normal keys, rules remapped (map NULL: same). */
void ep_alert_rebuild(struct ep_alerts *a, const int *map, uint64_t now_end);

/* The probe id a state names ("" for all probes). */
const char *ep_alert_probe_name(const struct ep_alerts *a, const struct astate *s);
/* The value above which s is bad (NaN: no baseline yet). */
double ep_alert_threshold(const struct ep_alert_rule *r, const struct astate *s);
/* Hand one event of s to the engine's callback (JSON and Alertmanager's object). */
void ep_alert_emit(struct ep_alerts *a, const struct ep_collector *c, struct astate *s,
		   enum ep_alert_event_kind kind, uint64_t now_wall);

#endif
