/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_out.c - the alert engine's rules file and its events to every receiver. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alert_out.h"
#include "log.h"
#include "wallclock.h"

static void on_event(const struct ep_alert_event *ev, void *ctx)
{
	struct ep_alert_out *ao = ctx;
	uint32_t i;

	for (i = 0; i < ao->nam; i++)
		ep_asend_put(ao->am[i], ev->am, ev->am_len);
	if (ev->kind == EP_AE_REFRESH)
		return; /* a re-send is Alertmanager's keep-alive, not news */
	for (i = 0; i < ao->nhooks; i++)
		ep_asend_put(ao->hooks[i], ev->json, ev->json_len);
	if (ao->http)
		ep_http_publish_event(ao->http, "alert", ev->json, ev->json_len);
#ifdef EP_HAVE_KAFKA
	if (ao->kafka)
		ep_kafka_alert(ao->kafka, ev->key, ev->json, ev->json_len);
#endif
}

/* Every rule's region must be one of the --regions file. @return 0, or -1 with err */
static int regions_known(const struct ep_alert_rules *r, const struct ep_regions *g,
			 const char *path, char *err, size_t errlen)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->r[i].region[0] && !ep_region_find(g, r->r[i].region)) {
			snprintf(err, errlen, "%s:%u: rule '%s': region '%s' is not in the --regions "
				 "file", path, r->r[i].line, r->r[i].name, r->r[i].region);
			return -1;
		}
	return 0;
}

int ep_alert_out_start(struct ep_alert_out *ao, const struct ep_coll_opts *o,
		       struct ep_collector *c, char *err, size_t errlen)
{
	static struct ep_alert_rules rules; /* large; read once here, under no lock */
	static char url[300];
	struct ep_alerts_cfg cfg = {0};
	const char *path = o->alert_rules;
	uint32_t i;

	memset(ao, 0, sizeof(*ao));
	if (!path && access(EP_DEFAULT_ALERT_RULES, R_OK) == 0)
		path = EP_DEFAULT_ALERT_RULES;
	if (!path || !strcmp(path, "none")) {
		if (o->nalertmanagers || o->nwebhooks) {
			snprintf(err, errlen, "--alertmanager and --alert-webhook need --alert-rules");
			return -1;
		}
		ep_log_info("no --alert-rules (and none at %s): alerting is off",
			    EP_DEFAULT_ALERT_RULES);
		return 0;
	}
	if (ep_alert_rules_load(path, &rules, err, errlen) < 0 ||
	    regions_known(&rules, &c->regions, path, err, errlen) < 0)
		return -1;
	ao->regions = &c->regions;
	if (o->external_url)
		snprintf(url, sizeof(url), "%s", o->external_url);
	else if (o->hcfg.addr)
		snprintf(url, sizeof(url), "http://%s", o->hcfg.addr);
	cfg.external_url = url;
	cfg.max_states = o->alert_max_states;
	cfg.resend_ns = (uint64_t)o->alert_resend_s * 1000000000ull;
	cfg.emit = on_event;
	cfg.emit_ctx = ao;
	if (ep_alerts_new(&ao->engine, &cfg) < 0) {
		snprintf(err, errlen, "alerts: out of memory");
		return -1;
	}
	ep_alerts_set_rules(ao->engine, &rules, ep_wall_ns());
	ao->rules_path = path;
	for (i = 0; i < o->nalertmanagers; i++) {
		if (ep_asend_start(&ao->am[i], EP_ASEND_ALERTMANAGER, o->alertmanagers[i],
				   o->alert_queue, err, errlen) < 0)
			return -1;
		ao->nam++;
		ep_log_info("alerts: to Alertmanager at %s", ep_asend_url(ao->am[i]));
	}
	for (i = 0; i < o->nwebhooks; i++) {
		if (ep_asend_start(&ao->hooks[i], EP_ASEND_WEBHOOK, o->webhooks[i], o->alert_queue,
				   err, errlen) < 0)
			return -1;
		ao->nhooks++;
		ep_log_info("alerts: to the webhook %s", ep_asend_url(ao->hooks[i]));
	}
	c->alerts = ao->engine;
	ep_log_info("alerts: %u rules from %s", rules.n, path);
	return 0;
}

void ep_alert_out_reload(struct ep_alert_out *ao, pthread_mutex_t *lock)
{
	static struct ep_alert_rules rules; /* the main thread's alone */
	char err[400];
	int ret;

	if (!ao->engine)
		return;
	/* The file is read without the lock; only the swap holds it. */
	ret = ep_alert_rules_load(ao->rules_path, &rules, err, sizeof(err));
	if (ret == 0 && regions_known(&rules, ao->regions, ao->rules_path, err, sizeof(err)) < 0)
		ret = -EINVAL;
	pthread_mutex_lock(lock);
	if (ret < 0)
		ep_alerts_rule_error(ao->engine);
	else
		ep_alerts_set_rules(ao->engine, &rules, ep_wall_ns());
	pthread_mutex_unlock(lock);
	if (ret < 0)
		ep_log_warn("alerts: reload refused, the previous rules stay: %s", err);
	else
		ep_log_info("alerts: %u rules reloaded from %s", rules.n, ao->rules_path);
}

void ep_alert_out_counters(struct ep_alert_out *ao, struct ep_collector *c)
{
	uint64_t sent = 0, failed = 0, dropped = 0;
	uint32_t i;

	for (i = 0; i < ao->nam + ao->nhooks; i++) {
		struct ep_asend_stats st =
			ep_asend_stats(i < ao->nam ? ao->am[i] : ao->hooks[i - ao->nam]);

		sent += st.sent;
		failed += st.failures;
		dropped += st.dropped;
	}
	c->ctr[EP_CC_alerts_sent] = sent;
	c->ctr[EP_CC_alert_send_failures] = failed;
	c->ctr[EP_CC_alerts_dropped] = dropped;
}

void ep_alert_out_stop(struct ep_alert_out *ao, unsigned timeout_ms)
{
	uint32_t i;

	for (i = 0; i < ao->nam; i++)
		ep_asend_stop(ao->am[i], timeout_ms);
	for (i = 0; i < ao->nhooks; i++)
		ep_asend_stop(ao->hooks[i], timeout_ms);
	ep_alerts_free(ao->engine);
	memset(ao, 0, sizeof(*ao));
}
