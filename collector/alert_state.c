/* SPDX-License-Identifier: BSD-3-Clause */
/* alert_state.c - the alert engine's state table (keys, probe names) and its life cycle. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alert_int.h"

/* ------------------------------------------------------------------------ */
/* The state table                                                            */
/* ------------------------------------------------------------------------ */

static uint32_t key_hash(uint32_t rule, uint32_t asn, uint32_t probe)
{
	uint64_t h = ((uint64_t)rule << 32 | asn) * 0x9e3779b97f4a7c15ull ^ probe * 0xff51afd7ed558ccdull;

	h ^= h >> 29;
	return (uint32_t)h;
}

/* The number of probe id (1 + its index), added when new. @return 0 when the table is full */
uint32_t ep_alert_probe_num(struct ep_alerts *a, const char *id)
{
	uint32_t i;

	for (i = 0; i < a->npnames; i++)
		if (!strcmp(a->pnames[i], id))
			return i + 1;
	if (a->npnames == a->pnames_cap) {
		uint32_t cap = a->pnames_cap ? 2 * a->pnames_cap : 16;
		void *n;

		if (cap > EP_MAX_PROBES_LIMIT || !(n = realloc(a->pnames, cap * sizeof(*a->pnames))))
			return 0;
		a->pnames = n;
		a->pnames_cap = cap;
	}
	snprintf(a->pnames[a->npnames], sizeof(a->pnames[0]), "%s", id);
	return ++a->npnames;
}

const char *ep_alert_probe_name(const struct ep_alerts *a, const struct astate *s)
{
	return s->probe ? a->pnames[s->probe - 1] : "";
}

struct astate *ep_alert_find(struct ep_alerts *a, uint32_t rule, uint32_t asn, uint32_t probe,
			   int create)
{
	uint32_t i = key_hash(rule, asn, probe) & a->mask;

	for (;; i = (i + 1) & a->mask) {
		struct astate *s = &a->st[i];

		if (!s->used) {
			if (!create)
				return NULL;
			if (a->n >= a->cfg.max_states) {
				a->ctr[EP_ALC_alert_states_cap]++;
				return NULL;
			}
			memset(s, 0, sizeof(*s));
			s->used = 1;
			s->rule = rule;
			s->asn = asn;
			s->probe = probe;
			a->n++;
			return s;
		}
		if (s->rule == rule && s->asn == asn && s->probe == probe)
			return s;
	}
}

/*
 * Rebuild the table without the normal keys not evaluated for STALE_NS
 * before now_end, with rule indexes remapped (map: map[old] = new index, or
 * -1: dropped; NULL: unchanged).
 */
void ep_alert_rebuild(struct ep_alerts *a, const int *map, uint64_t now_end)
{
	struct astate *old = a->st;
	uint32_t i, cap = a->cap;

	a->st = calloc(cap, sizeof(*a->st));
	if (!a->st) {
		a->st = old; /* keep the old table: purging is an optimisation */
		return;
	}
	a->n = 0;
	a->active = 0;
	for (i = 0; i < cap; i++) {
		struct astate *s = &old[i], *d;
		int r = map ? map[s->rule] : (int)s->rule;

		if (!s->used)
			continue;
		if (r < 0 || (s->st == ST_NORMAL && now_end > s->window_end + STALE_NS)) {
			free(s->ring);
			continue;
		}
		d = ep_alert_find(a, (uint32_t)r, s->asn, s->probe, 1);
		if (!d) {
			free(s->ring);
			continue;
		}
		*d = *s;
		d->rule = (uint32_t)r;
		a->active += d->st == ST_PENDING || d->st == ST_FIRING;
	}
	free(old);
}

int ep_alerts_new(struct ep_alerts **out, const struct ep_alerts_cfg *cfg)
{
	struct ep_alerts *a = calloc(1, sizeof(*a));
	uint32_t cap = 1024;

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (!a->cfg.max_states)
		a->cfg.max_states = 100000;
	if (!a->cfg.resend_ns)
		a->cfg.resend_ns = 60 * NS_PER_S;
	if (!a->cfg.baseline_budget)
		a->cfg.baseline_budget = 2000;
	snprintf(a->url, sizeof(a->url), "%s", cfg->external_url ? cfg->external_url : "");
	a->cfg.external_url = a->url;
	while (cap < a->cfg.max_states + a->cfg.max_states / 3)
		cap <<= 1;
	a->cap = cap;
	a->mask = cap - 1;
	a->st = calloc(cap, sizeof(*a->st));
	if (!a->st) {
		free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

void ep_alerts_free(struct ep_alerts *a)
{
	uint32_t i;

	if (!a)
		return;
	for (i = 0; i < a->cap; i++)
		free(a->st[i].ring);
	free(a->st);
	free(a->pnames);
	ep_hist_free(a->h);
	free(a);
}

void ep_alerts_set_rules(struct ep_alerts *a, const struct ep_alert_rules *r, uint64_t now_wall)
{
	int map[EP_ALERT_RULES_MAX];
	uint32_t i, j;

	a->ctr[EP_ALC_alert_reloads]++;
	for (i = 0; i < a->rules.n; i++) {
		map[i] = -1;
		for (j = 0; j < r->n; j++)
			if (!strcmp(a->rules.r[i].name, r->r[j].name))
				map[i] = (int)j;
	}
	/* Firing alerts of removed rules resolve (while the old rule still describes them). */
	for (i = 0; i < a->cap; i++) {
		struct astate *s = &a->st[i];

		if (s->used && s->st == ST_FIRING && map[s->rule] < 0) {
			s->st = ST_RESOLVED;
			s->resolved_ns = s->window_end;
			s->resolved_wall = now_wall;
			a->firing--;
			a->ctr[EP_ALC_alerts_resolved]++;
			ep_alert_emit(a, NULL, s, EP_AE_RESOLVED, now_wall);
		}
	}
	ep_alert_rebuild(a, map, 0);
	/* A changed rule keeps its states; their baselines are computed again. */
	for (i = 0; i < a->cap; i++)
		if (a->st[i].used)
			a->st[i].base_at = 0;
	a->rules = *r;
	a->nresolved = 0; /* the resolved list names rules by index: start it again */
}

void ep_alerts_rule_error(struct ep_alerts *a)
{
	if (a)
		a->ctr[EP_ALC_alert_rule_errors]++;
}

uint32_t ep_alerts_firing(const struct ep_alerts *a)
{
	return a ? a->firing : 0;
}

const uint64_t *ep_alerts_counters(const struct ep_alerts *a)
{
	return a->ctr;
}

const struct ep_alert_rules *ep_alerts_rules(const struct ep_alerts *a)
{
	return &a->rules;
}
