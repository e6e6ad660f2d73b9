/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_out.h - the collector's alerting: the engine (alert.h) with its rules
 * file, and its events fanned out to Alertmanager, webhooks, Kafka and the
 * event stream.
 */
#ifndef EP_ALERT_OUT_H
#define EP_ALERT_OUT_H

#include <pthread.h>

#include "alert.h"
#include "alert_send.h"
#include "http.h"
#include "options.h"
#ifdef EP_HAVE_KAFKA
#include "kafka.h"
#endif

struct ep_alert_out {
	struct ep_alerts *engine;           /* NULL: alerting off */
	const char *rules_path;
	const struct ep_regions *regions;   /* the collector's: rules' region names are checked */
	struct ep_asend *am[MAX_ALERT_URLS], *hooks[MAX_ALERT_URLS];
	uint32_t nam, nhooks;
	struct ep_http *http;               /* the stream (set once HTTP runs) */
#ifdef EP_HAVE_KAFKA
	struct ep_kafka *kafka;             /* with an alert topic */
#endif
};

/*
 * Load the rules (o->alert_rules, or the installed default when present) and
 * start the receivers.  No rules file: alerting is off (logged).
 * @return 0, or -1 with err (a bad rules file or receiver URL)
 */
int ep_alert_out_start(struct ep_alert_out *ao, const struct ep_coll_opts *o,
		       struct ep_collector *c, char *err, size_t errlen);

/* SIGHUP: read the rules file again, then swap them in under lock; a bad file keeps the old. */
void ep_alert_out_reload(struct ep_alert_out *ao, pthread_mutex_t *lock);

/* The receivers' counters into the collector's (under its lock). */
void ep_alert_out_counters(struct ep_alert_out *ao, struct ep_collector *c);

/* Send what is queued (up to timeout_ms per receiver) and stop. */
void ep_alert_out_stop(struct ep_alert_out *ao, unsigned timeout_ms);

#endif
