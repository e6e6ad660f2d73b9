/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_json.c - the alert engine's alerts as JSON: events, Alertmanager's objects, the API. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_int.h"
#include "country.h"
#include "isotime.h"
#include "json_out.h"

const char *const ep_alert_state_names[4] = {"normal", "pending", "firing", "resolved"};

/* ------------------------------------------------------------------------ */
/* Events                                                                     */
/* ------------------------------------------------------------------------ */

static void write_time(FILE *fp, uint64_t ns)
{
	char buf[EP_ISO_TIME_LEN];

	fprintf(fp, "\"%s\"", ep_iso_time(ns, 1, buf));
}

static void write_num(FILE *fp, double v)
{
	if (isfinite(v))
		fprintf(fp, "%.6g", v);
	else
		fputs("null", fp);
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

static void write_key(FILE *fp, const struct ep_alerts *a, const struct ep_alert_rule *r,
		      const struct astate *s)
{
	fputs(r->name, fp);
	if (r->scope != EP_AS_PROBE)
		fprintf(fp, "/asn=%" PRIu32, s->asn);
	if (s->probe)
		fprintf(fp, "/probe=%s", ep_alert_probe_name(a, s));
}

static void write_link(FILE *fp, const struct ep_alerts *a, const struct ep_alert_rule *r,
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
	ep_json_write_string(fp, buf);
}

/* One alert as the API, Kafka, the webhook and the stream give it. */
static void write_alert(FILE *fp, const struct ep_alerts *a, const struct ep_collector *c,
			const struct ep_alert_rule *r, const struct astate *s, const char *kind)
{
	char m[48], key[400];
	FILE *kf = fmemopen(key, sizeof(key), "w");

	if (kf) {
		write_key(kf, a, r, s);
		fputc('\0', kf);
		fclose(kf);
	} else {
		key[0] = '\0';
	}
	fputs("{", fp);
	if (kind)
		fprintf(fp, "\"event\":\"%s\",", kind);
	fputs("\"id\":", fp);
	ep_json_write_string(fp, key);
	fprintf(fp, ",\"state\":\"%s\",\"rule\":", ep_alert_state_names[s->st]);
	ep_json_write_string(fp, r->name);
	fprintf(fp, ",\"severity\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"scope\":\"%s\"",
		r->severity, ep_alert_metric_name(r, m, sizeof(m)), ep_alert_metric_unit(r->metric),
		ep_alert_scope_name(r->scope));
	if (r->scope != EP_AS_PROBE) {
		char cc[3];

		fprintf(fp, ",\"asn\":%" PRIu32 ",\"org\":", s->asn);
		ep_json_write_string(fp, c ? ep_collector_org(c, s->asn) : "");
		/* the rule's country or region: the ASN's users there only */
		fputs(",\"country\":", fp);
		if (r->cc)
			fprintf(fp, "\"%s\"", ep_cc_str(r->cc, cc));
		else
			fputs("null", fp);
		fputs(",\"region\":", fp);
		if (r->region[0])
			ep_json_write_string(fp, r->region);
		else
			fputs("null", fp);
	}
	fputs(",\"probe\":", fp);
	if (s->probe)
		ep_json_write_string(fp, ep_alert_probe_name(a, s));
	else
		fputs("null", fp);
	fputs(",\"value\":", fp);
	write_num(fp, s->value);
	fputs(",\"peak\":", fp);
	write_num(fp, s->peak);
	fputs(",\"baseline\":", fp);
	write_num(fp, r->baseline_ns && s->base_at ? s->baseline : NAN);
	fputs(",\"threshold\":", fp);
	write_num(fp, ep_alert_threshold(r, s));
	fprintf(fp, ",\"samples\":%" PRIu64, s->samples);
	if (r->baseline_ns)
		fprintf(fp, ",\"baseline_samples\":%" PRIu64 ",\"baseline_ns\":%" PRIu64
			",\"baseline_cover_ns\":%" PRIu64,
			s->base_samples, r->baseline_ns, s->base_cover);
	fprintf(fp, ",\"over_s\":%" PRIu32 ",\"since_ns\":%" PRIu64 ",\"window_end_ns\":%" PRIu64,
		r->over, s->since_ns, s->window_end);
	if (s->fired_wall) {
		fprintf(fp, ",\"fired_ns\":%" PRIu64 ",\"fired_at\":", s->fired_ns);
		write_time(fp, s->fired_wall);
	}
	if (s->st == ST_RESOLVED) {
		fprintf(fp, ",\"resolved_ns\":%" PRIu64 ",\"resolved_at\":", s->resolved_ns);
		write_time(fp, s->resolved_wall);
	}
	fprintf(fp, ",\"evaluated_at\":");
	write_time(fp, s->eval_wall);
	fputs(",\"url\":", fp);
	write_link(fp, a, r, s);
	fputs("}", fp);
}

static void write_label(FILE *fp, const char *name, const char *v, int *first)
{
	fprintf(fp, "%s\"%s\":", *first ? "" : ",", name);
	ep_json_write_string(fp, v);
	*first = 0;
}

/* Alertmanager's v2 alert: labels are the identity, the numbers are annotations. */
static void write_am(FILE *fp, const struct ep_alerts *a, const struct ep_collector *c,
		     const struct ep_alert_rule *r, const struct astate *s, uint64_t now_wall)
{
	char buf[600], m[48];
	int first = 1;
	double t = ep_alert_threshold(r, s);

	fputs("{\"labels\":{", fp);
	write_label(fp, "alertname", r->name, &first);
	write_label(fp, "severity", r->severity, &first);
	write_label(fp, "metric", ep_alert_metric_name(r, m, sizeof(m)), &first);
	if (r->scope != EP_AS_PROBE) {
		snprintf(buf, sizeof(buf), "%" PRIu32, s->asn);
		write_label(fp, "asn", buf, &first);
	}
	if (s->probe)
		write_label(fp, "probe", ep_alert_probe_name(a, s), &first);
	if (r->cc) {
		char cc[3];

		write_label(fp, "country", ep_cc_str(r->cc, cc), &first);
	}
	if (r->region[0])
		write_label(fp, "region", r->region, &first);
	fputs("},\"annotations\":{", fp);
	first = 1;
	if (r->scope == EP_AS_PROBE)
		snprintf(buf, sizeof(buf), "probe %s: %s %.4g (threshold %.4g)", ep_alert_probe_name(a, s), m,
			 s->value, t);
	else
		snprintf(buf, sizeof(buf), "AS%" PRIu32 " %s: %s %.4g %s, %s %.4g (%" PRIu64
			 " samples)", s->asn, c ? ep_collector_org(c, s->asn) : "", m, s->value,
			 ep_alert_metric_unit(r->metric), r->baseline_ns ? "baseline" : "threshold",
			 r->baseline_ns ? s->baseline : t, s->samples);
	write_label(fp, "summary", buf, &first);
	snprintf(buf, sizeof(buf), "%.6g", s->value);
	write_label(fp, "value", buf, &first);
	if (r->baseline_ns) {
		snprintf(buf, sizeof(buf), "%.6g", s->baseline);
		write_label(fp, "baseline", buf, &first);
	}
	snprintf(buf, sizeof(buf), "%.6g", t);
	write_label(fp, "threshold", buf, &first);
	snprintf(buf, sizeof(buf), "%" PRIu64, s->samples);
	write_label(fp, "samples", buf, &first);
	snprintf(buf, sizeof(buf), "%" PRIu64, s->fired_ns);
	write_label(fp, "window_end_ns", buf, &first);
	fputs("},\"startsAt\":", fp);
	write_time(fp, s->fired_wall);
	fputs(",\"endsAt\":", fp);
	/* Firing: valid for four re-send periods (as Prometheus does); resolved: now. */
	write_time(fp, s->st == ST_FIRING ? now_wall + 4 * a->cfg.resend_ns : s->resolved_wall);
	fputs(",\"generatorURL\":", fp);
	write_link(fp, a, r, s);
	fputs("}", fp);
}

void ep_alert_emit(struct ep_alerts *a, const struct ep_collector *c, struct astate *s,
		 enum ep_alert_event_kind kind, uint64_t now_wall)
{
	const struct ep_alert_rule *r = &a->rules.r[s->rule];
	struct ep_alert_event ev = {.kind = kind};
	char *key = NULL, *json = NULL, *am = NULL;
	size_t klen = 0;
	FILE *fk, *fj, *fa;

	s->last_sent = now_wall;
	if (!a->cfg.emit)
		return;
	fk = open_memstream(&key, &klen);
	fj = open_memstream(&json, &ev.json_len);
	fa = open_memstream(&am, &ev.am_len);
	if (fk && fj && fa) {
		write_key(fk, a, r, s);
		write_alert(fj, a, c, r, s, kind == EP_AE_RESOLVED ? "resolved" : "firing");
		write_am(fa, a, c, r, s, now_wall);
	}
	if (fk)
		fclose(fk);
	if (fj)
		fclose(fj);
	if (fa)
		fclose(fa);
	if (key && json && am) {
		ev.key = key;
		ev.json = json;
		ev.am = am;
		a->cfg.emit(&ev, a->cfg.emit_ctx);
	}
	free(key);
	free(json);
	free(am);
}

/* ------------------------------------------------------------------------ */
/* The API                                                                    */
/* ------------------------------------------------------------------------ */

/* requires / unless: the names of the rules a rule joins. */
static void write_refs(FILE *fp, const struct ep_alert_rules *all, const char *key,
		       const uint8_t *idx, uint8_t n)
{
	uint8_t k;

	if (!n)
		return;
	fprintf(fp, ",\"%s\":[", key);
	for (k = 0; k < n; k++) {
		if (k)
			fputc(',', fp);
		ep_json_write_string(fp, all->r[idx[k]].name);
	}
	fputc(']', fp);
}

static void write_rule(FILE *fp, const struct ep_alert_rules *all, const struct ep_alert_rule *r)
{
	char m[48];

	fputs("{\"name\":", fp);
	ep_json_write_string(fp, r->name);
	fprintf(fp, ",\"metric\":\"%s\",\"unit\":\"%s\",\"scope\":\"%s\",\"over_s\":%" PRIu32,
		ep_alert_metric_name(r, m, sizeof(m)), ep_alert_metric_unit(r->metric),
		ep_alert_scope_name(r->scope), r->over);
	if (r->baseline_ns)
		fprintf(fp, ",\"baseline_ns\":%" PRIu64 ",\"offset_ns\":%" PRIu64
			",\"ratio\":%.6g,\"margin\":%.6g",
			r->baseline_ns, r->offset_ns, r->ratio, r->margin);
	else
		fprintf(fp, ",\"above\":%.6g", r->above);
	write_refs(fp, all, "requires", r->requires, r->nrequires);
	write_refs(fp, all, "unless", r->unless, r->nunless);
	fprintf(fp, ",\"min_samples\":%" PRIu64 ",\"pending\":%" PRIu32 ",\"resolve\":%" PRIu32
		    ",\"severity\":\"%s\"}",
		r->min_samples, r->pending, r->resolve, r->severity);
}

void ep_alerts_write(const struct ep_alerts *a, const struct ep_collector *c, FILE *fp,
		     const char *state, uint32_t limit)
{
	int want_firing = !state || !strcmp(state, "all") || !strcmp(state, "firing");
	int want_pending = !state || !strcmp(state, "all") || !strcmp(state, "pending");
	int want_resolved = !state || !strcmp(state, "all") || !strcmp(state, "resolved");
	uint32_t i, n = 0, k, total = 0;

	fputs("\"rules\":[", fp);
	for (i = 0; a && i < a->rules.n; i++) {
		if (i)
			fputc(',', fp);
		write_rule(fp, &a->rules, &a->rules.r[i]);
	}
	fputs("],\"alerts\":[", fp);
	for (i = 0; a && i < a->cap; i++) {
		const struct astate *s = &a->st[i];

		if (!s->used || !((s->st == ST_FIRING && want_firing) ||
				  (s->st == ST_PENDING && want_pending)))
			continue;
		if (total++ >= limit)
			continue;
		if (n++)
			fputc(',', fp);
		write_alert(fp, a, c, &a->rules.r[s->rule], s, NULL);
	}
	k = a ? (a->nresolved < RESOLVED_KEEP ? a->nresolved : RESOLVED_KEEP) : 0;
	for (i = 0; want_resolved && i < k; i++) {
		/* Newest first. */
		const struct astate *s = &a->resolved[(a->nresolved - 1 - i) % RESOLVED_KEEP];

		if (total++ >= limit)
			continue;
		if (n++)
			fputc(',', fp);
		write_alert(fp, a, c, &a->rules.r[s->rule], s, NULL);
	}
	fprintf(fp, "],\"total\":%" PRIu32 ",\"firing\":%" PRIu32, total, a ? a->firing : 0);
	fputs(",\"counters\":{", fp);
	for (i = 0; i < EP_ALC__COUNT; i++)
		fprintf(fp, "%s\"%s\":%" PRIu64, i ? "," : "", ep_alc_names[i], a ? a->ctr[i] : 0);
	fputc('}', fp);
}
