/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_json.c - the alert engine's alerts as JSON: events, Alertmanager's objects, the API. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_int.h"
#include "country.h"
#include "isotime.h"
#include "json_val.h"

const char *const ep_alert_state_names[4] = {"normal", "pending", "firing", "resolved"};

/* ------------------------------------------------------------------------ */
/* Events                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *time_json(uint64_t ns)
{
	char buf[EP_ISO_TIME_LEN];

	return json_string(ep_iso_time(ns, 1, buf));
}

/* The value above which the key is bad (the effective threshold). */
double ep_alert_threshold(const struct ep_alert_rule *r, const struct astate *s)
{
	double t;

	if (!r->baseline_ns)
		return r->above;
	if (!s->base_at)
		return NAN;
	t = s->baseline * r->ratio;
	return t > s->baseline + r->margin ? t : s->baseline + r->margin;
}

/* The alert's identity: "RULE/asn=N[/probe=ID]". */
static void key_of(char *buf, size_t len, const struct ep_alerts *a, const struct ep_alert_rule *r,
		   const struct astate *s)
{
	size_t n;

	snprintf(buf, len, "%s", r->name);
	n = strlen(buf);
	if (r->scope != EP_AS_PROBE && n < len)
		n += (size_t)snprintf(buf + n, len - n, "/asn=%" PRIu32, s->asn);
	if (s->probe && n < len)
		snprintf(buf + n, len - n, "/probe=%s", ep_alert_probe_name(a, s));
}

/* The dashboard's link to what the alert is about. */
static json_t *link_json(const struct ep_alerts *a, const struct ep_alert_rule *r,
			 const struct astate *s)
{
	char buf[700];

	if (r->scope == EP_AS_PROBE)
		snprintf(buf, sizeof(buf), "%s/#probe=%s", a->url, ep_alert_probe_name(a, s));
	else if (s->probe)
		snprintf(buf, sizeof(buf), "%s/#asn=%" PRIu32 "&probe=%s", a->url, s->asn,
			 ep_alert_probe_name(a, s));
	else
		snprintf(buf, sizeof(buf), "%s/#asn=%" PRIu32, a->url, s->asn);
	if (r->cc) {
		/* the dashboard opens the ISP within that country */
		char cc[3];
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof(buf) - n, "&country=%s", ep_cc_str(r->cc, cc));
	}
	return ep_jv_str(buf);
}

/* One alert as the API, Kafka, the webhook and the stream give it. */
static json_t *alert_json(const struct ep_alerts *a, const struct ep_collector *c,
			  const struct ep_alert_rule *r, const struct astate *s, const char *kind)
{
	json_t *o = json_object();
	char m[48], key[400], cc[3];

	if (!o)
		return NULL;
	key_of(key, sizeof(key), a, r, s);
	if (kind)
		json_object_set_new(o, "event", json_string(kind));
	json_object_set_new(o, "id", ep_jv_str(key));
	json_object_set_new(o, "state", json_string(ep_alert_state_names[s->st]));
	json_object_set_new(o, "rule", ep_jv_str(r->name));
	json_object_set_new(o, "severity", ep_jv_str(r->severity));
	json_object_set_new(o, "metric", ep_jv_str(ep_alert_metric_name(r, m, sizeof(m))));
	json_object_set_new(o, "unit", json_string(ep_alert_metric_unit(r->metric)));
	json_object_set_new(o, "scope", json_string(ep_alert_scope_name(r->scope)));
	if (r->scope != EP_AS_PROBE) {
		json_object_set_new(o, "asn", json_integer(s->asn));
		json_object_set_new(o, "org", ep_jv_str(c ? ep_collector_org(c, s->asn) : ""));
		/* the rule's country or region: the ASN's users there only */
		json_object_set_new(o, "country",
				    r->cc ? json_string(ep_cc_str(r->cc, cc)) : json_null());
		json_object_set_new(o, "region", ep_jv_str_or_null(r->region));
	}
	json_object_set_new(o, "probe",
			    s->probe ? ep_jv_str(ep_alert_probe_name(a, s)) : json_null());
	json_object_set_new(o, "value", ep_jv_real(s->value, 6));
	json_object_set_new(o, "peak", ep_jv_real(s->peak, 6));
	json_object_set_new(o, "baseline",
			    ep_jv_real(r->baseline_ns && s->base_at ? s->baseline : NAN, 6));
	json_object_set_new(o, "threshold", ep_jv_real(ep_alert_threshold(r, s), 6));
	json_object_set_new(o, "samples", ep_jv_u64(s->samples));
	if (r->baseline_ns) {
		json_object_set_new(o, "baseline_samples", ep_jv_u64(s->base_samples));
		json_object_set_new(o, "baseline_ns", ep_jv_u64(r->baseline_ns));
		json_object_set_new(o, "baseline_cover_ns", ep_jv_u64(s->base_cover));
	}
	json_object_set_new(o, "over_s", json_integer(r->over));
	json_object_set_new(o, "since_ns", ep_jv_u64(s->since_ns));
	json_object_set_new(o, "window_end_ns", ep_jv_u64(s->window_end));
	if (s->fired_wall) {
		json_object_set_new(o, "fired_ns", ep_jv_u64(s->fired_ns));
		json_object_set_new(o, "fired_at", time_json(s->fired_wall));
	}
	if (s->st == ST_RESOLVED) {
		json_object_set_new(o, "resolved_ns", ep_jv_u64(s->resolved_ns));
		json_object_set_new(o, "resolved_at", time_json(s->resolved_wall));
	}
	json_object_set_new(o, "evaluated_at", time_json(s->eval_wall));
	json_object_set_new(o, "url", link_json(a, r, s));
	return o;
}

/* A label or annotation of Alertmanager's (all strings). */
static void label(json_t *o, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void label(json_t *o, const char *name, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_set_new(o, name, ep_jv_str(buf));
}

/* Alertmanager's v2 alert: labels are the identity, the numbers are annotations. */
static json_t *am_json(const struct ep_alerts *a, const struct ep_collector *c,
		       const struct ep_alert_rule *r, const struct astate *s, uint64_t now_wall)
{
	json_t *o = json_object(), *l = json_object(), *n = json_object();
	double t = ep_alert_threshold(r, s);
	char m[48], cc[3];

	if (!o || !l || !n) {
		json_decref(o);
		json_decref(l);
		json_decref(n);
		return NULL;
	}
	ep_alert_metric_name(r, m, sizeof(m));
	label(l, "alertname", "%s", r->name);
	label(l, "severity", "%s", r->severity);
	label(l, "metric", "%s", m);
	if (r->scope != EP_AS_PROBE)
		label(l, "asn", "%" PRIu32, s->asn);
	if (s->probe)
		label(l, "probe", "%s", ep_alert_probe_name(a, s));
	if (r->cc)
		label(l, "country", "%s", ep_cc_str(r->cc, cc));
	if (r->region[0])
		label(l, "region", "%s", r->region);
	if (r->scope == EP_AS_PROBE)
		label(n, "summary", "probe %s: %s %.4g (threshold %.4g)", ep_alert_probe_name(a, s),
		      m, s->value, t);
	else
		label(n, "summary", "AS%" PRIu32 " %s: %s %.4g %s, %s %.4g (%" PRIu64 " samples)",
		      s->asn, c ? ep_collector_org(c, s->asn) : "", m, s->value,
		      ep_alert_metric_unit(r->metric), r->baseline_ns ? "baseline" : "threshold",
		      r->baseline_ns ? s->baseline : t, s->samples);
	label(n, "value", "%.6g", s->value);
	if (r->baseline_ns)
		label(n, "baseline", "%.6g", s->baseline);
	label(n, "threshold", "%.6g", t);
	label(n, "samples", "%" PRIu64, s->samples);
	label(n, "window_end_ns", "%" PRIu64, s->fired_ns);
	json_object_set_new(o, "labels", l);
	json_object_set_new(o, "annotations", n);
	json_object_set_new(o, "startsAt", time_json(s->fired_wall));
	/* Firing: valid for four re-send periods (as Prometheus does); resolved: now. */
	json_object_set_new(
	    o, "endsAt",
	    time_json(s->st == ST_FIRING ? now_wall + 4 * a->cfg.resend_ns : s->resolved_wall));
	json_object_set_new(o, "generatorURL", link_json(a, r, s));
	return o;
}

void ep_alert_emit(struct ep_alerts *a, const struct ep_collector *c, struct astate *s,
		   enum ep_alert_event_kind kind, uint64_t now_wall)
{
	const struct ep_alert_rule *r = &a->rules.r[s->rule];
	struct ep_alert_event ev = {.kind = kind};
	json_t *j, *m;
	char key[400], *json, *am;

	s->last_sent = now_wall;
	if (!a->cfg.emit)
		return;
	key_of(key, sizeof(key), a, r, s);
	j = alert_json(a, c, r, s, kind == EP_AE_RESOLVED ? "resolved" : "firing");
	m = am_json(a, c, r, s, now_wall);
	json = j ? json_dumps(j, EP_JV_FLAGS) : NULL;
	am = m ? json_dumps(m, EP_JV_FLAGS) : NULL;
	if (json && am) {
		ev.key = key;
		ev.json = json;
		ev.json_len = strlen(json);
		ev.am = am;
		ev.am_len = strlen(am);
		a->cfg.emit(&ev, a->cfg.emit_ctx);
	}
	json_decref(j);
	json_decref(m);
	free(json);
	free(am);
}

/* ------------------------------------------------------------------------ */
/* The API                                                                    */
/* ------------------------------------------------------------------------ */

/* requires / unless: the names of the rules a rule joins. */
static void refs(json_t *o, const struct ep_alert_rules *all, const char *key, const uint8_t *idx,
		 uint8_t n)
{
	json_t *l;
	uint8_t k;

	if (!n || !(l = json_array()))
		return;
	for (k = 0; k < n; k++)
		json_array_append_new(l, ep_jv_str(all->r[idx[k]].name));
	json_object_set_new(o, key, l);
}

static json_t *rule_json(const struct ep_alert_rules *all, const struct ep_alert_rule *r)
{
	json_t *o = json_object();
	char m[48];

	if (!o)
		return NULL;
	json_object_set_new(o, "name", ep_jv_str(r->name));
	json_object_set_new(o, "metric", ep_jv_str(ep_alert_metric_name(r, m, sizeof(m))));
	json_object_set_new(o, "unit", json_string(ep_alert_metric_unit(r->metric)));
	json_object_set_new(o, "scope", json_string(ep_alert_scope_name(r->scope)));
	json_object_set_new(o, "over_s", json_integer(r->over));
	if (r->baseline_ns) {
		json_object_set_new(o, "baseline_ns", ep_jv_u64(r->baseline_ns));
		json_object_set_new(o, "offset_ns", ep_jv_u64(r->offset_ns));
		json_object_set_new(o, "ratio", ep_jv_real(r->ratio, 6));
		json_object_set_new(o, "margin", ep_jv_real(r->margin, 6));
	} else {
		json_object_set_new(o, "above", ep_jv_real(r->above, 6));
	}
	refs(o, all, "requires", r->requires, r->nrequires);
	refs(o, all, "unless", r->unless, r->nunless);
	json_object_set_new(o, "min_samples", ep_jv_u64(r->min_samples));
	json_object_set_new(o, "pending", json_integer(r->pending));
	json_object_set_new(o, "resolve", json_integer(r->resolve));
	json_object_set_new(o, "severity", ep_jv_str(r->severity));
	return o;
}

int ep_alerts_json(const struct ep_alerts *a, const struct ep_collector *c, json_t *doc,
		   const char *state, uint32_t limit)
{
	int want_firing = !state || !strcmp(state, "all") || !strcmp(state, "firing");
	int want_pending = !state || !strcmp(state, "all") || !strcmp(state, "pending");
	int want_resolved = !state || !strcmp(state, "all") || !strcmp(state, "resolved");
	json_t *rules = json_array(), *alerts = json_array(), *ctr = json_object();
	uint32_t i, k, total = 0;
	int bad = !rules || !alerts || !ctr;

	for (i = 0; !bad && a && i < a->rules.n; i++)
		bad = json_array_append_new(rules, rule_json(&a->rules, &a->rules.r[i])) < 0;
	for (i = 0; !bad && a && i < a->cap; i++) {
		const struct astate *s = &a->st[i];

		if (!s->used || !((s->st == ST_FIRING && want_firing) ||
				  (s->st == ST_PENDING && want_pending)))
			continue;
		if (total++ < limit)
			bad = json_array_append_new(
				  alerts, alert_json(a, c, &a->rules.r[s->rule], s, NULL)) < 0;
	}
	k = a ? (a->nresolved < RESOLVED_KEEP ? a->nresolved : RESOLVED_KEEP) : 0;
	for (i = 0; !bad && want_resolved && i < k; i++) {
		/* Newest first. */
		const struct astate *s = &a->resolved[(a->nresolved - 1 - i) % RESOLVED_KEEP];

		if (total++ < limit)
			bad = json_array_append_new(
				  alerts, alert_json(a, c, &a->rules.r[s->rule], s, NULL)) < 0;
	}
	for (i = 0; !bad && i < EP_ALC__COUNT; i++)
		json_object_set_new(ctr, ep_alc_names[i], ep_jv_u64(a ? a->ctr[i] : 0));
	if (!bad) {
		json_object_set(doc, "rules", rules);
		json_object_set(doc, "alerts", alerts);
		json_object_set_new(doc, "total", json_integer(total));
		json_object_set_new(doc, "firing", json_integer(a ? a->firing : 0));
		json_object_set(doc, "counters", ctr);
	}
	json_decref(rules);
	json_decref(alerts);
	json_decref(ctr);
	return bad ? -1 : 0;
}
