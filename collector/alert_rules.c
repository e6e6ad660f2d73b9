/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_rules.c - parse and check the alert rules file. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rules.h"
#include "country.h"
#include "ini_text.h"
#include "api.h"

#define RULES_FILE_MAX (1 << 20)

/* Keys whose meaning depends on the metric are kept as text until the section ends. */
enum { K_MARGIN, K_ABOVE, K__RAW };

struct parse {
	const char *path;
	struct ep_ini_text in; /* the text, its line and section counts */
	unsigned cur_sect;    /* the header the current rule started at */
	struct ep_alert_rules *out;
	struct ep_alert_rule *cur;
	int have_metric;
	char ref[EP_ALERT_RULES_MAX][2][EP_ALERT_REFS * (EP_ALERT_NAME_MAX + 2)]; /* by name */
	unsigned ref_line[EP_ALERT_RULES_MAX][2];
	char raw[K__RAW][64];
	unsigned raw_line[K__RAW];
	char *err;
	size_t errlen;
	int failed;
};

static const char *const metric_names[EP_AM__COUNT] = {
	"rtt_hs", "rtt_data", "retx_rate", "rebuffer_ratio", "probe_silent", "msg_loss", "src_drops",
	"evictions",
};

const char *ep_alert_scope_name(enum ep_alert_scope s)
{
	return s == EP_AS_ASN ? "asn" : s == EP_AS_PROBE_ASN ? "probe_asn" : "probe";
}

const char *ep_alert_metric_unit(enum ep_alert_metric m)
{
	switch (m) {
	case EP_AM_RTT_HS:
	case EP_AM_RTT_DATA:
		return "us";
	case EP_AM_SILENT:
		return "s";
	case EP_AM_EVICTIONS:
		return "per_s";
	default:
		return "ratio";
	}
}

const char *ep_alert_metric_name(const struct ep_alert_rule *r, char *buf, size_t len)
{
	if (r->metric == EP_AM_RTT_HS || r->metric == EP_AM_RTT_DATA)
		snprintf(buf, len, "%s:p%g", metric_names[r->metric], r->q * 100.0);
	else
		snprintf(buf, len, "%s", metric_names[r->metric]);
	return buf;
}

static int is_health(enum ep_alert_metric m)
{
	return m >= EP_AM_SILENT;
}

static int failf(struct parse *p, unsigned line, const char *fmt, const char *a, const char *b)
{
	char msg[256];

	if (p->failed)
		return 0;
	snprintf(msg, sizeof(msg), fmt, a, b);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->path, line, msg);
	p->failed = 1;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*out) ? -EINVAL : 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A value in the metric's unit: a duration for RTT (us) and silence (s), 3% or 0.03 for ratios. */
static int parse_value(enum ep_alert_metric m, const char *s, double *out)
{
	uint64_t ns;
	size_t n = strlen(s);

	switch (m) {
	case EP_AM_RTT_HS:
	case EP_AM_RTT_DATA:
		if (n > 2 && !strcmp(s + n - 2, "us")) {
			char tmp[64];

			snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 2), s);
			return parse_double(tmp, out) < 0 || *out < 0 ? -EINVAL : 0;
		}
		if (ep_parse_duration(s, &ns) < 0 || !strpbrk(s, "msh"))
			return -EINVAL; /* a unit is required: 20 alone is ambiguous */
		*out = (double)ns / 1000.0;
		return 0;
	case EP_AM_SILENT:
		if (ep_parse_duration(s, &ns) < 0)
			return -EINVAL;
		*out = (double)ns / 1e9;
		return 0;
	case EP_AM_EVICTIONS:
		return parse_double(s, out) < 0 || *out < 0 ? -EINVAL : 0;
	default:
		if (n > 1 && s[n - 1] == '%') {
			char tmp[64];

			snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 1), s);
			if (parse_double(tmp, out) < 0 || *out < 0 || *out > 100)
				return -EINVAL;
			*out /= 100.0;
			return 0;
		}
		return parse_double(s, out) < 0 || *out < 0 || *out > 1 ? -EINVAL : 0;
	}
}

static int set_metric(struct parse *p, struct ep_alert_rule *r, const char *v)
{
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	int m;

	for (m = 0; m < EP_AM__COUNT; m++)
		if (strlen(metric_names[m]) == n && !strncmp(v, metric_names[m], n))
			break;
	if (m == EP_AM__COUNT)
		return failf(p, p->in.line,
			     "unknown metric '%s' (rtt_hs:pNN, rtt_data:pNN, retx_rate, probe_silent, "
			     "msg_loss, src_drops, evictions)%s", v, "");
	r->metric = (enum ep_alert_metric)m;
	if (m == EP_AM_RTT_HS || m == EP_AM_RTT_DATA) {
		double q;

		if (!colon || colon[1] != 'p' || parse_double(colon + 2, &q) < 0 || !(q > 0) ||
		    q > 100)
			return failf(p, p->in.line, "metric '%s' needs a quantile, e.g. %s:p90", v,
				     metric_names[m]);
		r->q = q / 100.0;
	} else if (colon) {
		return failf(p, p->in.line, "metric '%s' takes no quantile%s", v, "");
	}
	if (is_health(r->metric))
		r->scope = EP_AS_PROBE;
	p->have_metric = 1;
	return 1;
}

/* The section is complete: apply the raw keys and check the whole rule. */
static int finish(struct parse *p)
{
	struct ep_alert_rule *r = p->cur;
	double v;
	int k;

	if (!r || p->failed)
		return !p->failed;
	if (!p->have_metric)
		return failf(p, r->line, "rule '%s' has no metric%s", r->name, "");
	for (k = 0; k < K__RAW; k++) {
		if (!p->raw[k][0])
			continue;
		if (parse_value(r->metric, p->raw[k], &v) < 0)
			return failf(p, p->raw_line[k], "bad %s '%s' for this metric (RTT: 20ms; "
				     "ratios: 3%% or 0.03; probe_silent: 10s; evictions: a rate)",
				     k == K_MARGIN ? "margin" : "above", p->raw[k]);
		if (k == K_MARGIN)
			r->margin = v;
		else
			r->above = v;
	}
	if (is_health(r->metric) && r->scope != EP_AS_PROBE)
		return failf(p, r->line, "rule '%s': %s is a probe metric (scope = probe)", r->name,
			     metric_names[r->metric]);
	if (is_health(r->metric) && (r->cc || r->region[0]))
		return failf(p, r->line, "rule '%s': a probe metric has no country or region%s",
			     r->name, "");
	if (r->cc && r->region[0])
		return failf(p, r->line, "rule '%s': country or region, not both%s", r->name, "");
	if (is_health(r->metric) && r->baseline_ns)
		return failf(p, r->line, "rule '%s': %s compares with 'above', not a baseline",
			     r->name, metric_names[r->metric]);
	if (r->baseline_ns && p->raw[K_ABOVE][0])
		return failf(p, r->line, "rule '%s': 'above' and 'baseline' exclude each other "
			     "(two rules do both)%s", r->name, "");
	if (!r->baseline_ns && !p->raw[K_ABOVE][0])
		return failf(p, r->line, "rule '%s' needs 'above' (absolute) or 'baseline' "
			     "(relative)%s", r->name, "");
	if (r->offset_ns && !r->baseline_ns)
		return failf(p, r->line, "rule '%s': 'offset' moves a baseline: give 'baseline' too%s",
			     r->name, "");
	if (r->baseline_ns && r->baseline_ns < 2ull * r->over * 1000000000ull)
		return failf(p, r->line, "rule '%s': the baseline must cover at least twice 'over'%s",
			     r->name, "");
	p->cur = NULL;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct ep_alert_rule *r;
	uint64_t u;
	uint32_t i;

	if (p->failed)
		return 0;
	if (!section[0])
		return failf(p, p->in.line, "'%s' outside a [rule] section%s", name, "");
	if (!p->cur || p->cur_sect != p->in.nsect) {
		const char *s;

		if (!finish(p))
			return 0;
		if (strlen(section) > EP_ALERT_NAME_MAX)
			return failf(p, p->in.sect_line, "rule name '%s' is longer than 63 characters%s",
				     section, "");
		for (s = section; *s; s++)
			if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
				return failf(p, p->in.sect_line, "rule name '%s': letters, digits, '_', "
					     "'-' and '.' only%s", section, "");
		for (i = 0; i < p->out->n; i++)
			if (!strcmp(p->out->r[i].name, section))
				return failf(p, p->in.sect_line, "rule '%s' is defined twice%s", section, "");
		if (p->out->n == EP_ALERT_RULES_MAX)
			return failf(p, p->in.sect_line, "more than 64 rules%s%s", "", "");
		r = &p->out->r[p->out->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", section);
		r->scope = EP_AS_ASN;
		r->over = 10;
		r->ratio = 1.5;
		r->min_samples = 20;
		r->pending = 2;
		r->resolve = 5;
		snprintf(r->severity, sizeof(r->severity), "warning");
		r->line = p->in.sect_line;
		p->cur = r;
		p->cur_sect = p->in.nsect;
		p->have_metric = 0;
		memset(p->raw, 0, sizeof(p->raw));
	}
	r = p->cur;
	if (!strcmp(name, "metric"))
		return set_metric(p, r, value);
	if (!strcmp(name, "scope")) {
		if (!strcmp(value, "asn"))
			r->scope = EP_AS_ASN;
		else if (!strcmp(value, "probe"))
			r->scope = p->have_metric && is_health(r->metric) ? EP_AS_PROBE
									 : EP_AS_PROBE_ASN;
		else
			return failf(p, p->in.line, "bad scope '%s' (asn, probe)%s", value, "");
		return 1;
	}
	if (!strcmp(name, "country")) {
		char up[3] = {0};

		if (strlen(value) == 2) {
			up[0] = (char)toupper((unsigned char)value[0]);
			up[1] = (char)toupper((unsigned char)value[1]);
		}
		if (!(r->cc = ep_cc_parse(up, strlen(up))))
			return failf(p, p->in.line, "bad country '%s' (an ISO 3166-1 alpha-2 code, e.g. "
				     "DE)%s", value, "");
		return 1;
	}
	if (!strcmp(name, "region")) {
		if (!*value || strlen(value) >= sizeof(r->region))
			return failf(p, p->in.line, "bad region '%s' (a name of the --regions file)%s",
				     value, "");
		snprintf(r->region, sizeof(r->region), "%s", value);
		return 1;
	}
	if (!strcmp(name, "over")) {
		if (ep_parse_duration(value, &u) < 0 || u % 1000000000ull || u == 0 ||
		    u > EP_ALERT_OVER_MAX_S * 1000000000ull)
			return failf(p, p->in.line, "bad over '%s' (whole seconds, 1s to 60s)%s", value,
				     "");
		r->over = (uint32_t)(u / 1000000000ull);
		return 1;
	}
	if (!strcmp(name, "baseline")) {
		if (!strcmp(value, "none")) {
			r->baseline_ns = 0;
			return 1;
		}
		if (ep_parse_duration(value, &u) < 0 || u < 1000000000ull ||
		    u > 86400ull * 1000000000ull)
			return failf(p, p->in.line, "bad baseline '%s' (a span such as 1h, up to 1d, or "
				     "none)%s", value, "");
		r->baseline_ns = u;
		return 1;
	}
	if (!strcmp(name, "offset")) {
		if (ep_parse_duration(value, &u) < 0 || u > 7 * 86400ull * 1000000000ull)
			return failf(p, p->in.line, "bad offset '%s' (a span up to 7d, e.g. 1d: the same "
				     "time yesterday)%s", value, "");
		r->offset_ns = u;
		return 1;
	}
	if (!strcmp(name, "ratio")) {
		if (parse_double(value, &r->ratio) < 0 || r->ratio < 1.0 || r->ratio > 1000)
			return failf(p, p->in.line, "bad ratio '%s' (1 to 1000)%s", value, "");
		return 1;
	}
	if (!strcmp(name, "margin") || !strcmp(name, "above")) {
		int k = name[0] == 'm' ? K_MARGIN : K_ABOVE;

		if (strlen(value) >= sizeof(p->raw[k]) || !value[0])
			return failf(p, p->in.line, "bad %s '%s'", name, value);
		snprintf(p->raw[k], sizeof(p->raw[k]), "%s", value);
		p->raw_line[k] = p->in.line;
		return 1;
	}
	if (!strcmp(name, "min_samples")) {
		if (parse_u64(value, 1000000000ull, &r->min_samples) < 0)
			return failf(p, p->in.line, "bad min_samples '%s'%s", value, "");
		return 1;
	}
	if (!strcmp(name, "pending") || !strcmp(name, "resolve")) {
		if (parse_u64(value, 3600, &u) < 0 || (name[0] == 'r' && u == 0))
			return failf(p, p->in.line, "bad %s '%s' (windows: 0 to 3600; resolve >= 1)", name,
				     value);
		if (name[0] == 'p')
			r->pending = (uint32_t)u;
		else
			r->resolve = (uint32_t)u;
		return 1;
	}
	if (!strcmp(name, "requires") || !strcmp(name, "unless")) {
		int k = name[0] == 'u', ri = (int)(r - p->out->r);

		if (!value[0] || strlen(value) >= sizeof(p->ref[ri][k]))
			return failf(p, p->in.line, "bad %s '%s' (names of other rules, comma-"
				     "separated)", name, value);
		snprintf(p->ref[ri][k], sizeof(p->ref[ri][k]), "%s", value);
		p->ref_line[ri][k] = p->in.line;
		return 1;
	}
	if (!strcmp(name, "severity")) {
		const char *s;

		if (!value[0] || strlen(value) >= sizeof(r->severity))
			return failf(p, p->in.line, "bad severity '%s'%s", value, "");
		for (s = value; *s; s++)
			if (!isalnum((unsigned char)*s) && *s != '_')
				return failf(p, p->in.line, "bad severity '%s' (a word)%s", value, "");
		snprintf(r->severity, sizeof(r->severity), "%s", value);
		return 1;
	}
	return failf(p, p->in.line, "unknown key '%s' (metric, scope, country, region, over, "
		     "baseline, offset, ratio, margin, above, min_samples, pending, resolve, "
		     "requires, unless, severity)%s", name, "");
}

/* requires = and unless = name other rules of the file (scope asn): to their indexes. */
static void resolve_refs(struct parse *p)
{
	uint32_t i, j;
	int k;

	for (i = 0; i < p->out->n && !p->failed; i++) {
		struct ep_alert_rule *r = &p->out->r[i];

		for (k = 0; k < 2 && !p->failed; k++) {
			char list[sizeof(p->ref[0][0])], *name, *save = NULL;
			uint8_t *n = k ? &r->nunless : &r->nrequires;

			snprintf(list, sizeof(list), "%s", p->ref[i][k]);
			for (name = strtok_r(list, ", ", &save); name && !p->failed;
			     name = strtok_r(NULL, ", ", &save)) {
				for (j = 0; j < p->out->n && strcmp(p->out->r[j].name, name); j++)
					;
				if (j == p->out->n || j == i)
					failf(p, p->ref_line[i][k], "'%s' is not another rule of this "
					      "file%s", name, "");
				else if (r->scope != EP_AS_ASN || p->out->r[j].scope != EP_AS_ASN)
					failf(p, p->ref_line[i][k], "'%s': requires and unless join "
					      "rules of scope asn%s", name, "");
				else if (*n == EP_ALERT_REFS)
					failf(p, p->ref_line[i][k], "more than 4 rules in %s%s",
					      k ? "unless" : "requires", "");
				else
					(k ? r->unless : r->requires)[(*n)++] = (uint8_t)j;
			}
		}
	}
}

int ep_alert_rules_parse(const char *text, const char *path, struct ep_alert_rules *out,
			 char *err, size_t errlen)
{
	struct parse p = {.path = path, .in = {.text = text}, .out = out, .err = err, .errlen = errlen};
	int ret;

	out->n = 0;
	ret = ini_parse_stream(ep_ini_read_line, &p.in, handler, &p);
	if (!p.failed && ret > 0)
		failf(&p, (unsigned)ret, "not an INI line (expected [rule] or key = value)%s%s", "",
		      "");
	if (!p.failed)
		finish(&p);
	if (!p.failed)
		resolve_refs(&p);
	return p.failed ? -EINVAL : 0;
}

int ep_alert_rules_load(const char *path, struct ep_alert_rules *out, char *err, size_t errlen)
{
	char *text;
	int ret = ep_ini_read_file(path, RULES_FILE_MAX, &text, err, errlen);

	if (ret < 0)
		return ret;
	ret = ep_alert_rules_parse(text, path, out, err, errlen);
	free(text);
	return ret;
}
