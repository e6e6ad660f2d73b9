/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert.h - the alert engine: the rules (alert_rules.h) evaluated on every
 * closed 1 s window for the keys it changed (ASNs, probe and ASN) and on
 * every wall-clock second for probe health; per key a state
 * normal -> pending -> firing -> resolved with hysteresis, and an event
 * (JSON, and Alertmanager's alert object) for each firing, resolve and
 * re-send.  Called under the collector's lock; never blocks: the caller's
 * event callback only queues.
 */
#ifndef EP_ALERT_H
#define EP_ALERT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "alert_rules.h"
#include "collector.h"

/* Engine counters: X(name, help). */
#define EP_ALERT_COUNTERS(X)                                                                      \
	X(alerts_fired, "alerts that went from pending to firing")                                 \
	X(alerts_resolved, "firing alerts resolved")                                              \
	X(alert_evaluations, "rule evaluations (rule x key x window)")                            \
	X(alert_no_baseline, "relative evaluations without a baseline yet (no verdict)")          \
	X(alert_few_samples, "evaluations below the rule's min_samples (no verdict)")              \
	X(alert_baselines, "baselines computed")                                                  \
	X(alert_baseline_deferred, "baseline refreshes deferred to a later window (per-window budget)") \
	X(alert_states_cap, "keys not evaluated: the state table is full (--alert-max-states)")   \
	X(alert_rule_errors, "rules files refused (start or SIGHUP; the previous rules stay)")    \
	X(alert_reloads, "rules files loaded")

enum ep_alert_counter {
#define EP_X(n, h) EP_ALC_##n,
	EP_ALERT_COUNTERS(EP_X)
#undef EP_X
	EP_ALC__COUNT
};

extern const char *const ep_alc_names[EP_ALC__COUNT];
extern const char *const ep_alc_help[EP_ALC__COUNT];

enum ep_alert_event_kind {
	EP_AE_FIRING,   /* a key started firing */
	EP_AE_RESOLVED, /* it resolved (or its rule was removed) */
	EP_AE_REFRESH,  /* still firing: re-sent to Alertmanager (not a new event elsewhere) */
};

struct ep_alert_event {
	enum ep_alert_event_kind kind;
	const char *key;  /* the alert's identity: "RULE/asn=N[/probe=ID]" */
	const char *json; /* the event (Kafka, webhook, stream, API) */
	size_t json_len;
	const char *am;   /* Alertmanager's v2 alert object */
	size_t am_len;
};

typedef void (*ep_alert_event_cb)(const struct ep_alert_event *ev, void *ctx);

struct ep_alerts_cfg {
	const char *external_url; /* the dashboard's base URL for links ("" none) */
	uint32_t max_states;      /* keys with state (0: 100000) */
	uint64_t resend_ns;       /* re-send firing alerts to Alertmanager (0: 60 s) */
	uint32_t baseline_budget; /* baselines computed per window at most (0: 2000) */
	ep_alert_event_cb emit;
	void *emit_ctx;
};

struct ep_alerts;

/* @return 0 or -ENOMEM */
int ep_alerts_new(struct ep_alerts **out, const struct ep_alerts_cfg *cfg);
void ep_alerts_free(struct ep_alerts *a);

/*
 * Replace the rules.  States of rules kept by name carry on; firing alerts of
 * removed rules resolve.
 */
void ep_alerts_set_rules(struct ep_alerts *a, const struct ep_alert_rules *r, uint64_t now_wall);

/* Evaluate the ASN rules on a closed window b of the all-probes view. */
void ep_alerts_window(struct ep_alerts *a, const struct ep_collector *c, const struct ep_bucket *b,
		      uint64_t step_ns, uint64_t now_wall);

/* Probe-health rules (once per wall second) and Alertmanager re-sends. */
void ep_alerts_tick(struct ep_alerts *a, const struct ep_collector *c, uint64_t now_wall);

/* Count a refused rules file (the caller keeps the old rules). */
void ep_alerts_rule_error(struct ep_alerts *a);

/*
 * /api/v1/alerts as JSON: the rules, the pending and firing alerts (then the
 * most recently resolved), at most limit of them, and how many there are.
 * state: NULL/"all", "firing", "pending" or "resolved".  Its members are set in
 * doc.  @return 0, -1 when out of memory
 */
int ep_alerts_json(const struct ep_alerts *a, const struct ep_collector *c, json_t *doc,
		   const char *state, uint32_t limit);

/* Alerts firing now (for /metrics), and the counters. */
uint32_t ep_alerts_firing(const struct ep_alerts *a);
const uint64_t *ep_alerts_counters(const struct ep_alerts *a);
const struct ep_alert_rules *ep_alerts_rules(const struct ep_alerts *a);

#endif
