/* SPDX-License-Identifier: BSD-3-Clause */
/* collector.c - validate, account and merge probe messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn_map.h"
#include "collector.h"

const char *const ep_cc_names[EP_CC__COUNT] = {
#define EP_X(n, h) #n,
	EP_COLLECTOR_COUNTERS(EP_X)
#undef EP_X
};
const char *const ep_cc_help[EP_CC__COUNT] = {
#define EP_X(n, h) h,
	EP_COLLECTOR_COUNTERS(EP_X)
#undef EP_X
};

static const int64_t prom_le_us[] = {
#define EP_X(v) v,
	EP_PROM_LE_US(EP_X)
#undef EP_X
};

#define NS_PER_MS 1000000ull

void ep_collector_cfg_default(struct ep_collector_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ntiers = 3;
	cfg->steps[0] = 100 * NS_PER_MS;
	cfg->counts[0] = 1200;  /* 2 min */
	cfg->steps[1] = 1000 * NS_PER_MS;
	cfg->counts[1] = 3600;  /* 1 h */
	cfg->steps[2] = 60000 * NS_PER_MS;
	cfg->counts[2] = 1440;  /* 1 day */
	cfg->probe_ntiers = 2;
	cfg->probe_steps[0] = 1000 * NS_PER_MS;
	cfg->probe_counts[0] = 600;  /* 10 min */
	cfg->probe_steps[1] = 60000 * NS_PER_MS;
	cfg->probe_counts[1] = 1440; /* 1 day */
	cfg->max_asns = 20000;
	cfg->max_probes = 1024;
	cfg->max_probe_views = 64;
	cfg->metrics_top = 500;
	cfg->grace_ns = 500 * NS_PER_MS;
	cfg->hist_highest = EP_HIST_DEFAULT_HIGHEST;
	cfg->hist_digits = EP_HIST_DEFAULT_DIGITS;
}

static void on_close(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct ep_collector *c = ctx;

	c->ctr[EP_CC_windows_closed]++;
	if (c->publish)
		c->publish(b, step_ns, c->publish_ctx);
}

int ep_collector_init(struct ep_collector *c, const struct ep_collector_cfg *cfg)
{
	int32_t i;
	uint32_t t;
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	if (ep_hdr_cfg_init(&c->hcfg, EP_HIST_DEFAULT_LOWEST, cfg->hist_highest,
			    cfg->hist_digits) < 0)
		return -EINVAL;
	ret = ep_view_init(&c->all, cfg->ntiers, cfg->steps, cfg->counts, cfg->max_asns);
	if (ret < 0)
		return ret;
	/* Publish the 1 s tier (or the finest tier of at least 1 s). */
	c->all.announce_tier = (int)cfg->ntiers - 1;
	for (t = 0; t < cfg->ntiers; t++)
		if (cfg->steps[t] >= 1000 * NS_PER_MS) {
			c->all.announce_tier = (int)t;
			break;
		}
	c->all.on_close = on_close;
	c->all.cb_ctx = c;
	c->probes = calloc(cfg->max_probes ? cfg->max_probes : 1, sizeof(*c->probes));
	for (c->probe_mask = 1; c->probe_mask < 2 * cfg->max_probes; c->probe_mask <<= 1)
		;
	c->probe_index = calloc(c->probe_mask, sizeof(*c->probe_index));
	c->probe_mask--;
	c->orgs_mask = (1u << 17) - 1;
	c->orgs = calloc(c->orgs_mask + 1, sizeof(*c->orgs));
	c->totals = calloc(cfg->max_asns, sizeof(*c->totals));
	c->prom_bucket = malloc((size_t)c->hcfg.counts_len * sizeof(*c->prom_bucket));
	c->nbins_cap = (size_t)c->hcfg.counts_len;
	c->bins = malloc(c->nbins_cap * EP_AH__COUNT * 256 * sizeof(*c->bins));
	c->nrecs_cap = 256;
	c->recs = calloc(c->nrecs_cap, sizeof(*c->recs));
	if (!c->probes || !c->probe_index || !c->orgs || !c->totals || !c->prom_bucket || !c->bins || !c->recs) {
		ep_collector_fini(c);
		return -ENOMEM;
	}
	for (i = 0; i < EP_PROM_NLE - 1; i++) {
		int64_t v = prom_le_us[i] < c->hcfg.highest ? prom_le_us[i] : c->hcfg.highest;
		int64_t lo = ep_hdr_value_at_index(&c->hcfg, ep_hdr_index(&c->hcfg, v));

		c->prom_le[i] = lo + ep_hdr_range_size(&c->hcfg, lo) - 1;
	}
	for (i = 0; i < c->hcfg.counts_len; i++) {
		int64_t lo = ep_hdr_value_at_index(&c->hcfg, i);
		int64_t hi = lo + ep_hdr_range_size(&c->hcfg, lo) - 1;
		int b = 0;

		while (b < EP_PROM_NLE - 1 && hi > c->prom_le[b])
			b++;
		c->prom_bucket[i] = b;
	}
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

void ep_collector_fini(struct ep_collector *c)
{
	uint32_t i;

	ep_view_fini(&c->all);
	for (i = 0; c->probes && i < c->nprobes; i++) {
		if (c->probes[i].view) {
			ep_view_fini(c->probes[i].view);
			free(c->probes[i].view);
		}
	}
	for (i = 0; c->orgs && i <= c->orgs_mask; i++)
		free(c->orgs[i].org);
	free(c->probes);
	free(c->probe_index);
	free(c->orgs);
	free(c->totals);
	free(c->prom_bucket);
	free(c->bins);
	free(c->recs);
	c->probes = NULL;
	c->orgs = NULL;
}

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
	return "";
}

static void set_org(struct ep_collector *c, uint32_t asn, const char *org)
{
	uint32_t h;

	if (!org || !*org || asn == EP_ASN_OTHER)
		return;
	for (h = asn_hash(asn) & c->orgs_mask; c->orgs[h].org; h = (h + 1) & c->orgs_mask) {
		if (c->orgs[h].asn == asn) {
			if (strcmp(c->orgs[h].org, org)) {
				char *dup = strdup(org);

				if (dup) {
					free(c->orgs[h].org);
					c->orgs[h].org = dup;
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

static int allowed(const struct ep_collector *c, const char *id)
{
	const char *const *a;

	if (!c->cfg.allow)
		return 1;
	for (a = c->cfg.allow; *a; a++)
		if (!strcmp(*a, id))
			return 1;
	return 0;
}

static struct ep_cprobe *probe_get(struct ep_collector *c, const char *id, uint64_t now)
{
	struct ep_cprobe *p = ep_collector_probe(c, id);

	if (p)
		return p;
	if (c->nprobes >= c->cfg.max_probes) {
		c->ctr[EP_CC_probes_cap]++;
		return NULL;
	}
	p = &c->probes[c->nprobes++];
	memset(p, 0, sizeof(*p));
	strcpy(p->id, id);
	{
		uint32_t h;

		for (h = id_hash(id) & c->probe_mask; c->probe_index[h]; h = (h + 1) & c->probe_mask)
			;
		c->probe_index[h] = c->nprobes;
	}
	p->first_seen = now;
	if (c->nviews < c->cfg.max_probe_views && c->cfg.probe_ntiers) {
		p->view = calloc(1, sizeof(*p->view));
		if (p->view && ep_view_init(p->view, c->cfg.probe_ntiers, c->cfg.probe_steps,
					    c->cfg.probe_counts, c->cfg.max_asns) < 0) {
			free(p->view);
			p->view = NULL;
		}
		if (p->view)
			c->nviews++;
	}
	if (!p->view)
		c->ctr[EP_CC_probe_views_cap]++;
	return p;
}

static struct ep_asn_total *total_get(struct ep_collector *c, uint32_t asn)
{
	uint32_t lo = 0, hi = c->ntotals;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (c->totals[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->ntotals && c->totals[lo].asn == asn)
		return &c->totals[lo];
	if (c->ntotals >= c->cfg.max_asns) {
		c->ctr[EP_CC_metrics_asn_cap]++;
		return NULL;
	}
	memmove(&c->totals[lo + 1], &c->totals[lo], (c->ntotals - lo) * sizeof(*c->totals));
	memset(&c->totals[lo], 0, sizeof(*c->totals));
	c->totals[lo].asn = asn;
	c->ntotals++;
	return &c->totals[lo];
}

static void add_totals(struct ep_collector *c, const struct ep_crec *r)
{
	struct ep_asn_total *t = total_get(c, r->asn);
	uint32_t k, j;

	if (!t)
		return;
	for (k = 0; k < EP_AC__COUNT; k++)
		t->c[k] += r->c[k];
	for (k = 0; k < 2; k++) {
		for (j = 0; j < r->nbins[k]; j++) {
			const struct ep_hbin *b = &r->bins[k][j];
			int64_t v = ep_hdr_value_at_index(&c->hcfg, b->idx);

			t->rtt[k][c->prom_bucket[b->idx]] += b->count;
			t->rtt_sum_us[k] += (uint64_t)v * b->count;
		}
	}
}

static int cfg_same(const struct ep_hdr_cfg *a, const struct ep_hdr_cfg *b)
{
	return a->lowest == b->lowest && a->highest == b->highest && a->sig_digits == b->sig_digits;
}

int ep_collector_ingest(struct ep_collector *c, const uint8_t *buf, size_t len, uint64_t now)
{
	struct ep_wire_msg m;
	enum ep_wire_err err;
	struct ep_cprobe *p;
	size_t used = 0;
	uint32_t i, k;
	int ret = EP_WIRE_OK;

	c->ctr[EP_CC_msgs_received]++;
	c->ctr[EP_CC_bytes_received] += len;
	c->last_msg_wall = now;
	err = ep_wire_decode_ex(buf, len, &m, EP_WIRE_DEC_RAW_HISTS,
				c->cfg.keylen ? c->cfg.key : NULL, c->cfg.keylen);
	if (err != EP_WIRE_OK) {
		c->rejected[err]++;
		c->ctr[EP_CC_msgs_rejected]++;
		return err;
	}
	if (m.seq == 0) {
		c->rejected[EP_WIRE_E_HEADER]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E_HEADER;
		goto out;
	}
	if (!allowed(c, m.probe)) {
		c->ctr[EP_CC_rejected_unknown_probe]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	/* Decode every histogram before anything is merged: a bad one rejects the message. */
	if (m.nasns > c->nrecs_cap) {
		struct ep_crec *r = realloc(c->recs, m.nasns * sizeof(*r));
		struct ep_hbin *b = realloc(c->bins, (size_t)m.nasns * EP_AH__COUNT *
							     c->nbins_cap * sizeof(*b));

		if (r)
			c->recs = r;
		if (b)
			c->bins = b;
		if (!r || !b) {
			c->rejected[EP_WIRE_E_NOMEM]++;
			c->ctr[EP_CC_msgs_rejected]++;
			ret = EP_WIRE_E_NOMEM;
			goto out;
		}
		c->nrecs_cap = m.nasns;
	}
	for (i = 0; i < m.nasns; i++) {
		struct ep_crec *r = &c->recs[i];

		r->asn = m.asns[i].asn;
		memcpy(r->c, m.asns[i].c, sizeof(r->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			struct ep_hdr_cfg hc;
			long n = 0;

			r->bins[k] = c->bins + used;
			if (m.asns[i].enc[k]) {
				n = ep_hist_decode_bins(m.asns[i].enc[k], m.asns[i].enc_len[k], &hc,
							c->bins + used, c->nbins_cap);
				if (n < 0) {
					c->rejected[EP_WIRE_E_HIST]++;
					c->ctr[EP_CC_msgs_rejected]++;
					ret = EP_WIRE_E_HIST;
					goto out;
				}
				if (!cfg_same(&hc, &c->hcfg)) {
					c->ctr[EP_CC_rejected_hist_config]++;
					c->ctr[EP_CC_msgs_rejected]++;
					ret = EP_WIRE_E__COUNT;
					goto out;
				}
			}
			r->nbins[k] = (uint32_t)n;
			used += (size_t)n;
		}
	}
	p = probe_get(c, m.probe, now);
	if (!p) {
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	{
		uint64_t old_epoch = p->seq.epoch;
		int had = p->seq.started;

		switch (ep_seqwin_check(&p->seq, m.epoch, m.seq)) {
		case EP_SEQ_NEW:
			break;
		case EP_SEQ_DUP:
			c->ctr[EP_CC_rejected_duplicate]++;
			c->ctr[EP_CC_msgs_rejected]++;
			ret = EP_WIRE_E__COUNT;
			goto out;
		default:
			c->ctr[EP_CC_rejected_stale]++;
			c->ctr[EP_CC_msgs_rejected]++;
			ret = EP_WIRE_E__COUNT;
			goto out;
		}
		if (had && m.epoch != old_epoch) {
			p->dropped_prev_epochs += p->stats[EP_ST_windows_dropped];
			memset(p->stats, 0, sizeof(p->stats));
		}
	}
	p->msgs++;
	p->bytes += len;
	p->last_seen = now;
	if (m.has_stats)
		memcpy(p->stats, m.stats, sizeof(p->stats));
	if (m.type == EP_WIRE_T_SUMMARY) {
		/* A summary repeats the run's totals: its counters are kept, its ASNs not re-merged. */
		if (m.part == 0)
			p->summaries++;
		goto accepted;
	}
	if (m.part == 0)
		p->windows++;
	if (m.end_ns > p->newest_end)
		p->newest_end = m.end_ns;
	for (i = 0; i < m.nasns; i++) {
		set_org(c, m.asns[i].asn, m.asns[i].org);
		add_totals(c, &c->recs[i]);
	}
	ep_view_add(&c->all, m.start_ns, m.end_ns, c->recs, m.nasns);
	if (p->view)
		ep_view_add(p->view, m.start_ns, m.end_ns, c->recs, m.nasns);
accepted:
	c->ctr[EP_CC_msgs_accepted]++;
out:
	ep_wire_msg_free(&m);
	return ret;
}

void ep_collector_tick(struct ep_collector *c, uint64_t now, int force)
{
	uint32_t i;
	uint64_t grace = c->cfg.grace_ns;

	/*
	 * Nothing heard for a while (a replay ended, every probe is down): close
	 * everything received, the partial windows too.  Data arriving later for
	 * them is still merged (as late data), only not published again.
	 */
	int idle = force || (c->last_msg_wall && now - c->last_msg_wall > 4 * grace);

	if (idle && c->all.newest_end && !c->idle_closed) {
		uint64_t top = c->all.t[c->all.ntiers - 1].step_ns;

		ep_view_advance(&c->all, c->all.newest_end + top);
		for (i = 0; i < c->nprobes; i++) {
			struct ep_view *v = c->probes[i].view;

			if (v && v->newest_end)
				ep_view_advance(v, v->newest_end + v->t[v->ntiers - 1].step_ns);
		}
		c->idle_closed = 1;
		return;
	}
	if (!idle)
		c->idle_closed = 0;
	if (c->all.newest_end > grace)
		ep_view_advance(&c->all, c->all.newest_end - grace);
	for (i = 0; i < c->nprobes; i++) {
		struct ep_view *v = c->probes[i].view;

		if (v && v->newest_end > grace)
			ep_view_advance(v, v->newest_end - grace);
	}
}
