/* SPDX-License-Identifier: BSD-3-Clause */
/* collector.c - validate, account and merge probe messages. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeprobe/ep_wire.h"
#include "collector.h"
#include "collector_int.h"
#include "utf8.h"

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

void ep_collector_cfg_default(struct ep_collector_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ntiers = 3;
	cfg->steps[0] = 100 * NS_PER_MS;
	cfg->counts[0] = 1200;  /* 2 min */
	cfg->steps[1] = 1000 * NS_PER_MS;
	cfg->counts[1] = 3600;  /* 1 h */
	cfg->steps[2] = 60000 * NS_PER_MS;
	cfg->counts[2] = 1440;  /* 1 day (a 1 h tier for long ranges: --tiers ...,1h:7d) */
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
	cfg->max_skew_ns = 10000 * NS_PER_MS;
	cfg->memcap = 1ull << 30;
	cfg->query_budget = 500000;
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

static void on_persist_all(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct ep_collector *c = ctx;

	if (c->persist)
		c->persist("", b, step_ns, c->persist_ctx);
}

uint32_t ep_collector_persist_tiers(const struct ep_view *v, uint64_t min_ns)
{
	uint32_t t, mask = 0;

	if (!min_ns)
		min_ns = 1000 * NS_PER_MS;
	for (t = 0; t < v->ntiers; t++)
		if (v->t[t].step_ns >= min_ns)
			mask |= 1u << t;
	return mask;
}

int ep_collector_init(struct ep_collector *c, const struct ep_collector_cfg *cfg)
{
	int32_t i;
	uint32_t t;
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	if (cfg->max_probes < 1 || cfg->max_probes > EP_MAX_PROBES_LIMIT)
		return -EINVAL;
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
	c->all.persist_tiers = ep_collector_persist_tiers(&c->all, cfg->persist_min_ns);
	c->all.on_persist = on_persist_all;
	c->all.persist_ctx = c;
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
	c->mem_fixed = (uint64_t)cfg->max_probes * sizeof(*c->probes) +
		       (uint64_t)(c->probe_mask + 1) * sizeof(*c->probe_index) +
		       (uint64_t)(c->orgs_mask + 1) * sizeof(*c->orgs) +
		       (uint64_t)cfg->max_asns * sizeof(*c->totals) +
		       (uint64_t)c->nbins_cap * EP_AH__COUNT * 256 * sizeof(*c->bins) +
		       (uint64_t)c->nrecs_cap * sizeof(*c->recs) + cfg->mem_extra;
	for (t = 0; t < cfg->ntiers; t++)
		c->mem_fixed += (uint64_t)cfg->counts[t] * sizeof(struct ep_bucket);
	if (cfg->memcap && cfg->memcap < c->mem_fixed + EP_MEMCAP_ROOM) {
		ep_collector_fini(c);
		return -ENOSPC;
	}
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

static uint64_t view_fixed(const struct ep_collector_cfg *cfg)
{
	uint64_t n = sizeof(struct ep_view);
	uint32_t t;

	for (t = 0; t < cfg->probe_ntiers; t++)
		n += (uint64_t)cfg->probe_counts[t] * sizeof(struct ep_bucket);
	return n;
}

uint64_t ep_collector_mem(const struct ep_collector *c)
{
	return c->mem_fixed + c->mem_orgs + c->all.bytes + c->mem_views +
	       (uint64_t)c->nviews * view_fixed(&c->cfg);
}

/*
 * Shed by the documented policy until the usage is under 90 % of the cap:
 * the per-probe views' closed fine buckets, the all-probes view's, then the
 * oldest history of the per-probe views and of the all-probes view.
 * @return 1 when under the cap afterwards
 */
static int memcap_enforce(struct ep_collector *c, uint64_t now)
{
	uint64_t goal = c->cfg.memcap / 10 * 9, freed;
	uint32_t i;
	int level, progress;

	if (!c->cfg.memcap || ep_collector_mem(c) <= c->cfg.memcap)
		return 1;
	/* Nothing was left to shed a moment ago: do not scan again for every message. */
	if (now < c->memcap_retry)
		return 0;
	for (level = 0; level < 2; level++) {
		do {
			progress = 0;
			for (i = 0; i < c->nprobes && ep_collector_mem(c) > goal; i++) {
				struct ep_view *v = c->probes[i].view;
				uint64_t before = v ? v->bytes : 0;

				if (v && ep_view_shed(v, level)) {
					freed = before - v->bytes;
					c->mem_views -= freed > c->mem_views ? c->mem_views : freed;
					c->ctr[EP_CC_memcap_shed]++;
					progress = 1;
				}
			}
		} while (progress && ep_collector_mem(c) > goal);
		while (ep_collector_mem(c) > goal && ep_view_shed(&c->all, level))
			c->ctr[EP_CC_memcap_shed]++;
	}
	if (ep_collector_mem(c) <= c->cfg.memcap)
		return 1;
	c->memcap_retry = now + EP_MEMCAP_RETRY_NS;
	return 0;
}

void ep_collector_fini(struct ep_collector *c)
{
	ep_hist_codec_fini(&c->codec);
	uint32_t i;

	ep_view_fini(&c->all);
	for (i = 0; c->probes && i < c->nprobes; i++) {
		if (c->probes[i].view) {
			ep_view_fini(c->probes[i].view);
			free(c->probes[i].view);
		}
		free(c->probes[i].totals);
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

/* The totals of asn in a table sorted by ASN, added when new. @return NULL when full */
static struct ep_asn_total *total_get(struct ep_asn_total *tab, uint32_t *n, uint32_t cap,
				      uint32_t asn)
{
	uint32_t lo = 0, hi = *n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (tab[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < *n && tab[lo].asn == asn)
		return &tab[lo];
	if (*n >= cap)
		return NULL;
	memmove(&tab[lo + 1], &tab[lo], (*n - lo) * sizeof(*tab));
	memset(&tab[lo], 0, sizeof(*tab));
	tab[lo].asn = asn;
	(*n)++;
	return &tab[lo];
}

static void add_totals(struct ep_collector *c, struct ep_asn_total *t, const struct ep_crec *r)
{
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
	uint32_t i, k, nrecs;
	int ret = EP_WIRE_OK;

	c->ctr[EP_CC_msgs_received]++;
	c->ctr[EP_CC_bytes_received] += len;
	c->last_msg_wall = now;
	err = ep_wire_decode_ex(&c->codec, buf, len, &m, EP_WIRE_DEC_RAW_HISTS,
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
	if (m.probe[0] == '@') { /* names of the collector's own views in the history (@qoe) */
		c->ctr[EP_CC_rejected_reserved_id]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	if (!ep_collector_allowed(c, m.probe)) {
		c->ctr[EP_CC_rejected_unknown_probe]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	/* Time is each probe's own, but never ahead of the collector's by more than the skew. */
	if (m.end_ns > now + c->cfg.max_skew_ns || m.epoch > now + c->cfg.max_skew_ns) {
		c->ctr[EP_CC_rejected_future]++;
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
		r->cc = m.asns[i].cc;
		memcpy(r->c, m.asns[i].c, sizeof(r->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			struct ep_hdr_cfg hc;
			long n = 0;

			r->bins[k] = c->bins + used;
			if (m.asns[i].enc[k]) {
				n = ep_hist_decode_bins(&c->codec, m.asns[i].enc[k],
							m.asns[i].enc_len[k], &hc,
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
	if (!ep_admit_plausible(&m, c->recs)) {
		c->ctr[EP_CC_rejected_implausible]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	if (m.type == EP_WIRE_T_WINDOW && !memcap_enforce(c, now)) {
		c->ctr[EP_CC_rejected_memcap]++;
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	p = ep_collector_probe_get(c, m.probe, now);
	if (!p) {
		c->ctr[EP_CC_msgs_rejected]++;
		ret = EP_WIRE_E__COUNT;
		goto out;
	}
	{
		uint64_t old_epoch = p->seq.epoch;
		int had = p->seq.started;

		if (!ep_admit_seq_gate(c, p, &m, now)) {
			c->ctr[EP_CC_msgs_rejected]++;
			ret = EP_WIRE_E__COUNT;
			goto out;
		}
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
	if (m.dataset[0])
		memcpy(p->dataset, m.dataset, sizeof(p->dataset));
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
	if (c->cfg.metrics_probe_asns && p->view && !p->totals) {
		p->totals = calloc(c->cfg.metrics_probe_asns, sizeof(*p->totals));
		if (p->totals)
			c->mem_views += (uint64_t)c->cfg.metrics_probe_asns * sizeof(*p->totals);
	}
	nrecs = m.nasns;
	if (c->accept_limited)
		nrecs = ep_admit_regions(c, &m);
	for (i = 0; i < m.nasns; i++) {
		if (c->accept_limited && !ep_admit_region(c, m.asns[i].cc))
			continue;
		ep_collector_name_asn(c, m.asns[i].asn, m.asns[i].org);
	}
	for (i = 0; i < nrecs; i++) {
		struct ep_asn_total *t;

		t = total_get(c->totals, &c->ntotals, c->cfg.max_asns, c->recs[i].asn);
		if (!t)
			c->ctr[EP_CC_metrics_asn_cap]++;
		add_totals(c, t, &c->recs[i]);
		if (p->totals) {
			t = total_get(p->totals, &p->ntotals, c->cfg.metrics_probe_asns,
				      c->recs[i].asn);
			if (!t)
				c->ctr[EP_CC_metrics_probe_asn_cap]++;
			add_totals(c, t, &c->recs[i]);
		}
	}
	ep_view_add(&c->all, m.start_ns, m.end_ns, c->recs, nrecs);
	if (p->view) {
		uint64_t before = p->view->bytes;

		ep_view_add(p->view, m.start_ns, m.end_ns, c->recs, nrecs);
		c->mem_views += p->view->bytes - before;
	}
accepted:
	c->ctr[EP_CC_msgs_accepted]++;
out:
	ep_wire_msg_free(&m);
	return ret;
}

/* Advance a per-probe view and keep the byte count in step. */
static void view_advance(struct ep_collector *c, struct ep_view *v, uint64_t upto)
{
	uint64_t before = v->bytes;

	ep_view_advance(v, upto);
	c->mem_views += v->bytes - before;
}

/*
 * The all-probes watermark: the slowest live probe's newest window end, so
 * that no probe's clock closes windows for another.  Live: heard within the
 * idle span and within the skew of the collector's clock; a replay of an old
 * capture is not live (its data is merged late).  None live: the newest end.
 */
static uint64_t watermark(const struct ep_collector *c, uint64_t now)
{
	uint64_t wm = 0, span = 4 * c->cfg.grace_ns + 1000 * NS_PER_MS;
	uint32_t i;

	for (i = 0; i < c->nprobes; i++) {
		const struct ep_cprobe *p = &c->probes[i];

		if (!p->newest_end || now - p->last_seen > span ||
		    p->newest_end + c->cfg.max_skew_ns + span < now)
			continue;
		if (!wm || p->newest_end < wm)
			wm = p->newest_end;
	}
	return wm ? wm : c->all.newest_end;
}

void ep_collector_tick(struct ep_collector *c, uint64_t now, int force)
{
	uint32_t i;
	uint64_t grace = c->cfg.grace_ns, wm;

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
				view_advance(c, v, v->newest_end + v->t[v->ntiers - 1].step_ns);
		}
		c->idle_closed = 1;
		memcap_enforce(c, now);
		return;
	}
	if (!idle)
		c->idle_closed = 0;
	wm = watermark(c, now);
	if (wm > grace && wm - grace > c->watermark)
		c->watermark = wm - grace;
	if (c->watermark)
		ep_view_advance(&c->all, c->watermark);
	for (i = 0; i < c->nprobes; i++) {
		struct ep_view *v = c->probes[i].view;

		if (v && v->newest_end > grace)
			view_advance(c, v, v->newest_end - grace);
	}
	memcap_enforce(c, now);
}
