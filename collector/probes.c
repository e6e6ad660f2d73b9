/* SPDX-License-Identifier: BSD-3-Clause */
/* probes.c - the collector's probe table, ASN names, and what persists across restarts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeprobe/ep_wire.h"
#include "asn_map.h"
#include "collector.h"
#include "collector_int.h"
#include "qoe.h"
#include "utf8.h"

static uint32_t asn_hash(uint32_t asn)
{
	return asn * 2654435761u;
}

const char *ep_collector_org(const struct ep_collector *c, uint32_t asn)
{
	uint32_t h;

	if (asn == EP_ASN_OTHER)
		return "other";
	for (h = asn_hash(asn) & c->orgs_mask; c->orgs[h].org; h = (h + 1) & c->orgs_mask)
		if (c->orgs[h].asn == asn)
			return c->orgs[h].org;
	/* An ISP only players report on: the name in the ASN data the collector maps them with. */
	return c->qoe ? ep_asn_map_org(c->qoe->asn, asn) : "";
}

static void org_changed(struct ep_collector *c, uint32_t asn, const char *org)
{
	if (c->persist_org)
		c->persist_org(asn, org, c->persist_ctx);
}

void ep_collector_name_asn(struct ep_collector *c, uint32_t asn, const char *org)
{
	uint32_t h;

	if (!org || !*org || asn == EP_ASN_OTHER)
		return;
	for (h = asn_hash(asn) & c->orgs_mask; c->orgs[h].org; h = (h + 1) & c->orgs_mask) {
		if (c->orgs[h].asn == asn) {
			if (strcmp(c->orgs[h].org, org)) {
				char *dup = strdup(org);

				if (dup) {
					c->mem_orgs += strlen(dup) + 1;
					c->mem_orgs -= strlen(c->orgs[h].org) + 1;
					free(c->orgs[h].org);
					c->orgs[h].org = dup;
					org_changed(c, asn, dup);
				}
			}
			return;
		}
	}
	if (c->norgs >= c->orgs_mask / 2) {
		c->ctr[EP_CC_orgs_cap]++;
		return;
	}
	c->orgs[h].org = strdup(org);
	if (c->orgs[h].org) {
		c->orgs[h].asn = asn;
		c->norgs++;
		c->mem_orgs += strlen(org) + 1;
		org_changed(c, asn, org);
	}
}

static uint32_t id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

struct ep_cprobe *ep_collector_probe(struct ep_collector *c, const char *id)
{
	uint32_t h;

	for (h = id_hash(id) & c->probe_mask; c->probe_index[h]; h = (h + 1) & c->probe_mask) {
		struct ep_cprobe *p = &c->probes[c->probe_index[h] - 1];

		if (!strcmp(p->id, id))
			return p;
	}
	return NULL;
}

int ep_collector_allowed(const struct ep_collector *c, const char *id)
{
	const char *const *a;

	if (!c->cfg.allow)
		return 1;
	for (a = c->cfg.allow; *a; a++)
		if (!strcmp(*a, id))
			return 1;
	return 0;
}

static void index_rebuild(struct ep_collector *c)
{
	uint32_t i, h;

	memset(c->probe_index, 0, (size_t)(c->probe_mask + 1) * sizeof(*c->probe_index));
	for (i = 0; i < c->nprobes; i++) {
		for (h = id_hash(c->probes[i].id) & c->probe_mask; c->probe_index[h];
		     h = (h + 1) & c->probe_mask)
			;
		c->probe_index[h] = i + 1;
	}
}

/*
 * The table is full: forget the least recently heard probe that is on
 * probation (few messages) or silent, so that junk ids cannot lock honest
 * probes out.  @return its slot, or NULL when every probe is established.
 */
static struct ep_cprobe *probe_evict(struct ep_collector *c, uint64_t now)
{
	struct ep_cprobe *victim = NULL;
	uint32_t i;

	for (i = 0; i < c->nprobes; i++) {
		struct ep_cprobe *p = &c->probes[i];

		if (p->msgs >= EP_PROBE_PROBATION && now - p->last_seen < EP_PROBE_SILENT_NS)
			continue;
		if (!victim || p->last_seen < victim->last_seen)
			victim = p;
	}
	if (!victim)
		return NULL;
	if (victim->view) {
		c->mem_views -= victim->view->bytes > c->mem_views ? c->mem_views : victim->view->bytes;
		ep_view_fini(victim->view);
		free(victim->view);
		c->nviews--;
	}
	if (victim->totals) {
		uint64_t b = (uint64_t)c->cfg.metrics_probe_asns * sizeof(*victim->totals);

		c->mem_views -= b > c->mem_views ? c->mem_views : b;
		free(victim->totals);
		victim->totals = NULL;
	}
	victim->id[0] = '\0'; /* out of the index until it is rebuilt */
	c->ctr[EP_CC_probes_evicted]++;
	return victim;
}

static void on_persist_probe(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct ep_cprobe *p = ctx;

	if (p->owner->persist)
		p->owner->persist(p->id, b, step_ns, p->owner->persist_ctx);
}

struct ep_cprobe *ep_collector_probe_get(struct ep_collector *c, const char *id, uint64_t now)
{
	struct ep_cprobe *p = ep_collector_probe(c, id);

	if (p)
		return p;
	if (c->nprobes < c->cfg.max_probes) {
		p = &c->probes[c->nprobes++];
	} else if (!(p = probe_evict(c, now))) {
		c->ctr[EP_CC_probes_cap]++;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	strcpy(p->id, id);
	p->owner = c;
	index_rebuild(c);
	p->first_seen = now;
	p->last_seen = now;
	if (c->nviews < c->cfg.max_probe_views && c->cfg.probe_ntiers) {
		p->view = calloc(1, sizeof(*p->view));
		if (p->view && ep_view_init(p->view, c->cfg.probe_ntiers, c->cfg.probe_steps,
					    c->cfg.probe_counts, c->cfg.max_asns) < 0) {
			free(p->view);
			p->view = NULL;
		}
		if (p->view) {
			c->nviews++;
			p->view->persist_tiers = ep_collector_persist_tiers(p->view, c->cfg.persist_min_ns);
			p->view->on_persist = on_persist_probe;
			p->view->persist_ctx = p;
		}
	}
	if (!p->view)
		c->ctr[EP_CC_probe_views_cap]++;
	return p;
}

void ep_collector_set_org(struct ep_collector *c, uint32_t asn, const char *org)
{
	if (org && ep_utf8_valid(org, strlen(org)) && strlen(org) <= EP_WIRE_ORG_MAX)
		ep_collector_name_asn(c, asn, org);
}

struct ep_cprobe *ep_collector_probe_add(struct ep_collector *c, const char *id)
{
	size_t len = strlen(id);

	if (!len || len > EP_WIRE_PROBE_MAX || !ep_utf8_valid(id, len))
		return NULL;
	return ep_collector_probe_get(c, id, 0);
}

int ep_collector_restore(struct ep_collector *c, const char *probe, uint64_t step_ns,
			 uint64_t start_ns, uint64_t newest_end, uint64_t windows,
			 const struct ep_centry *e, uint32_t n)
{
	struct ep_view *v = &c->all;
	struct ep_cprobe *p = NULL;
	uint64_t before;
	uint32_t t;
	int ret;

	if (probe[0]) {
		p = ep_collector_probe_add(c, probe);
		if (!p || !p->view)
			return -ENOENT;
		v = p->view;
	}
	for (t = 0; t < v->ntiers && v->t[t].step_ns != step_ns; t++)
		;
	if (t == v->ntiers)
		return -ENOENT;
	before = v->bytes;
	ret = ep_view_load(v, t, start_ns, newest_end, windows, e, n);
	if (p) {
		c->mem_views += v->bytes - before;
		if (v->newest_end > p->newest_end)
			p->newest_end = v->newest_end;
	}
	return ret;
}

/* ------------------------------------------------------------------------ */
/* The replay window across restarts                                          */
/* ------------------------------------------------------------------------ */

#define STATE_HEADER "# edgeprobe-collector state v1: probe epoch max_seq\n"

char *ep_collector_state_text(const struct ep_collector *c, size_t *len)
{
	size_t cap = sizeof(STATE_HEADER) + (size_t)c->nprobes * (EP_WIRE_PROBE_MAX + 48), n;
	char *buf = malloc(cap);
	uint32_t i;

	if (!buf)
		return NULL;
	n = (size_t)snprintf(buf, cap, "%s", STATE_HEADER);
	for (i = 0; i < c->nprobes; i++) {
		const struct ep_cprobe *p = &c->probes[i];

		if (p->id[0] && p->seq.started)
			n += (size_t)snprintf(buf + n, cap - n, "%s\t%" PRIu64 "\t%" PRIu64 "\n", p->id,
					      p->seq.epoch, p->seq.max_seq);
	}
	*len = n;
	return buf;
}

int ep_collector_state_load(struct ep_collector *c, const char *path)
{
	char line[EP_WIRE_PROBE_MAX + 64];
	FILE *fp = fopen(path, "r");
	int n = 0, ret = 0;

	if (!fp)
		return -errno;
	if (!fgets(line, sizeof(line), fp) || strcmp(line, STATE_HEADER)) {
		fclose(fp);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *tab = strchr(line, '\t'), *end;
		unsigned long long epoch, seq;
		struct ep_cprobe *p;

		if (!tab || tab == line || tab - line > EP_WIRE_PROBE_MAX || !strchr(line, '\n')) {
			ret = -EINVAL;
			break;
		}
		*tab = '\0';
		errno = 0;
		epoch = strtoull(tab + 1, &end, 10);
		if (errno || *end != '\t') {
			ret = -EINVAL;
			break;
		}
		seq = strtoull(end + 1, &end, 10);
		if (errno || *end != '\n' || !ep_utf8_valid(line, strlen(line))) {
			ret = -EINVAL;
			break;
		}
		p = ep_collector_probe_get(c, line, 0);
		if (!p)
			break;
		ep_seqwin_resume(&p->seq, epoch, seq);
		n++;
	}
	fclose(fp);
	return ret < 0 ? ret : n;
}
