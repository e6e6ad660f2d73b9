/* SPDX-License-Identifier: BSD-3-Clause */
/* qoe.c - CMCD reports per session into per-(ASN, country) QoE aggregates. */
#include "qoe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "asn_map.h"
#include "country.h"
#include "edgeprobe/ep_flow_key.h"
#include "hist.h"

const char *const ep_qoe_ctr_names[EP_QOE__COUNT] = {
#define EP_X(n, h) #n,
	EP_QOE_COUNTERS(EP_X)
#undef EP_X
};

const char *const ep_qoe_ctr_help[EP_QOE__COUNT] = {
#define EP_X(n, h) h,
	EP_QOE_COUNTERS(EP_X)
#undef EP_X
};

#define EP_QOE_WAYS 8        /* sessions per set */
#define RL_SLOTS 4096        /* rate-limited sources tracked at once */
#define MAX_GAP_MS 600000    /* a longer gap between a session's reports is not timed */

enum { SF_STATEFUL = 1, SF_STARTED = 2, SF_HAVE_SN = 4 };

/* One playback session: 48 bytes. */
struct ep_qoe_sess {
	uint64_t key;       /* keyed hash of the session id, 0: free */
	uint64_t seen_ns;   /* wall time of its last report */
	int64_t last_ts;    /* its newest report's ts (ms), 0: none */
	int64_t start_ts;   /* ts of its starting state, 0: none */
	uint64_t max_sn, sn_bits; /* newest sequence number, and the 64 below it seen */
	uint8_t state, flags;
};

/* One source's token bucket. */
struct ep_qoe_rl {
	uint64_t key;
	uint64_t last_ns;
	uint64_t tokens_milli;
};

/* A keyed multiply-xorshift over 8-byte words (the flow table's ep_mix64): enough against
 * an attacker who never sees the hashes (they are neither stored nor exported). */
static uint64_t keyed_hash(const uint64_t seed[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = seed[0] ^ (len * 0x9e3779b97f4a7c15ull);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = ep_mix64(h ^ w ^ seed[1]);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = ep_mix64(h ^ w ^ seed[1]);
	}
	return ep_mix64(h) | 1; /* never 0: 0 marks a free slot */
}

int ep_qoe_init(struct ep_qoe *q, const struct ep_qoe_cfg *cfg, struct ep_asn_map *asn,
		const struct ep_hdr_cfg *hcfg, uint32_t ntiers, const uint64_t *steps,
		const uint32_t *counts, uint32_t max_asns)
{
	uint32_t sets = 1;
	int ret;

	memset(q, 0, sizeof(*q));
	q->asn = asn;
	if (!cfg->max_sessions || cfg->max_sessions > (1u << 28)) {
		ep_asn_map_free(asn);
		q->asn = NULL;
		return -EINVAL;
	}
	q->cfg = *cfg;
	if (!q->cfg.session_idle_ns)
		q->cfg.session_idle_ns = 300ull * 1000000000ull;
	q->hcfg = *hcfg;
	while ((uint64_t)sets * EP_QOE_WAYS < cfg->max_sessions)
		sets <<= 1;
	q->sess_sets = sets;
	q->sess = calloc((size_t)sets * EP_QOE_WAYS, sizeof(*q->sess));
	q->rl = calloc(RL_SLOTS, sizeof(*q->rl));
	if (getrandom(q->seed, sizeof(q->seed), 0) != sizeof(q->seed))
		q->seed[0] = (uint64_t)(uintptr_t)q ^ 0x5bd1e995u; /* no entropy: still keyed */
	ret = !q->sess || !q->rl ? -ENOMEM
				  : ep_view_init(&q->view, ntiers, steps, counts, max_asns);
	if (ret == 0 && pthread_mutex_init(&q->lock, NULL))
		ret = -ENOMEM;
	if (ret) {
		free(q->sess);
		free(q->rl);
		ep_asn_map_free(q->asn);
		memset(q, 0, sizeof(*q));
	}
	return ret;
}

void ep_qoe_fini(struct ep_qoe *q)
{
	if (!q->sess)
		return;
	ep_view_fini(&q->view);
	free(q->sess);
	free(q->rl);
	ep_asn_map_free(q->asn);
	pthread_mutex_destroy(&q->lock);
	memset(q, 0, sizeof(*q));
}

void ep_qoe_locate(const struct ep_qoe *q, int family, const uint8_t *addr, uint32_t *asn,
		   uint16_t *cc)
{
	*cc = EP_CC_NONE;
	*asn = ep_asn_map_lookup_cc(q->asn, family, addr, NULL, cc);
}

int ep_qoe_rate_take(struct ep_qoe *q, int family, const uint8_t *addr, uint32_t n,
		     uint64_t now_ns)
{
	uint64_t key = keyed_hash(q->seed, addr, family == 6 ? 8 : 4); /* IPv6: its /64 */
	uint64_t burst = (uint64_t)q->cfg.rate * 2000; /* 2 s of reports, at least 10 */
	struct ep_qoe_rl *b;
	int ok;

	if (!q->cfg.rate)
		return 1;
	if (burst < 10000)
		burst = 10000;
	pthread_mutex_lock(&q->lock);
	b = &q->rl[key & (RL_SLOTS - 1)];
	if (b->key != key) { /* a new source, or one that takes over the slot */
		b->key = key;
		b->tokens_milli = burst;
	} else if (now_ns > b->last_ns) {
		uint64_t add = (now_ns - b->last_ns) / 1000000 * q->cfg.rate;

		b->tokens_milli = b->tokens_milli + add > burst ? burst : b->tokens_milli + add;
	}
	b->last_ns = now_ns;
	ok = b->tokens_milli >= (uint64_t)n * 1000;
	if (ok)
		b->tokens_milli -= (uint64_t)n * 1000;
	else
		q->ctr[EP_QOE_qoe_rate_limited]++;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* The session of key: found, or a free or idle slot of its set. NULL: the set is full. */
static struct ep_qoe_sess *sess_get(struct ep_qoe *q, uint64_t key, uint64_t now, int *fresh)
{
	struct ep_qoe_sess *set = &q->sess[(size_t)(key & (q->sess_sets - 1)) * EP_QOE_WAYS];
	struct ep_qoe_sess *take = NULL;
	int i;

	for (i = 0; i < EP_QOE_WAYS; i++) {
		if (set[i].key == key) {
			*fresh = 0;
			return &set[i];
		}
		if (!take && (!set[i].key || (now > set[i].seen_ns &&
					      now - set[i].seen_ns > q->cfg.session_idle_ns)))
			take = &set[i];
	}
	if (!take)
		return NULL;
	if (take->key)
		q->ctr[EP_QOE_qoe_sessions_expired]++;
	memset(take, 0, sizeof(*take));
	take->key = key;
	take->state = 0xff;
	*fresh = 1;
	return take;
}

/* 0: new, 1: a duplicate, 2: older than the last 64 (late) */
static int seq_check(struct ep_qoe_sess *s, uint64_t sn)
{
	uint64_t d;

	if (!(s->flags & SF_HAVE_SN)) {
		s->flags |= SF_HAVE_SN;
		s->max_sn = sn;
		s->sn_bits = 1;
		return 0;
	}
	if (sn > s->max_sn) {
		d = sn - s->max_sn;
		s->sn_bits = d >= 64 ? 1 : (s->sn_bits << d) | 1;
		s->max_sn = sn;
		return 0;
	}
	d = s->max_sn - sn;
	if (d >= 64)
		return 2;
	if (s->sn_bits & (1ull << d))
		return 1;
	s->sn_bits |= 1ull << d;
	return 0;
}

struct acc {
	struct ep_crec rec;
	struct ep_hbin bins[EP_QH__COUNT];
};

static void acc_value(struct acc *a, const struct ep_hdr_cfg *h, enum ep_qoe_hist k, int64_t v)
{
	if (v < 0)
		v = 0;
	if (v > h->highest)
		v = h->highest;
	a->bins[k].idx = ep_hdr_index(h, v);
	a->bins[k].count = 1;
	a->rec.bins[k] = &a->bins[k];
	a->rec.nbins[k] = 1;
}

static int is_video(const struct ep_cmcd *r)
{
	return !ep_cmcd_has(r, EP_CMCD_OT) || r->v[EP_CMCD_OT] == EP_OT_VIDEO ||
	       r->v[EP_CMCD_OT] == EP_OT_MUXED;
}

/* v2 player states with timestamps: the time since the last report goes to the state the
 * session was in; entering rebuffering is a stall; starting -> playing is the startup. */
static void states(struct ep_qoe *q, struct ep_qoe_sess *s, const struct ep_cmcd *r,
		   struct acc *a)
{
	int has_ts = ep_cmcd_has(r, EP_CMCD_TS), has_sta = ep_cmcd_has(r, EP_CMCD_STA);
	int64_t ts = r->v[EP_CMCD_TS];

	if (!has_sta && !(has_ts && (s->flags & SF_STATEFUL)))
		return;
	if (has_ts && s->last_ts && ts < s->last_ts) {
		q->ctr[EP_QOE_qoe_reordered]++;
		return;
	}
	if (has_ts && s->last_ts && (s->flags & SF_STATEFUL) && ts - s->last_ts <= MAX_GAP_MS) {
		if (s->state == EP_STA_PLAYING)
			a->rec.c[EP_QC_play_ms] += (uint64_t)(ts - s->last_ts);
		else if (s->state == EP_STA_REBUFFERING)
			a->rec.c[EP_QC_stall_ms] += (uint64_t)(ts - s->last_ts);
	}
	if (has_sta) {
		int st = (int)r->v[EP_CMCD_STA];

		if (st == EP_STA_REBUFFERING && s->state != EP_STA_REBUFFERING)
			a->rec.c[EP_QC_stalls]++;
		if (st == EP_STA_FATAL && s->state != EP_STA_FATAL)
			a->rec.c[EP_QC_fatal]++;
		if (st == EP_STA_STARTING && has_ts && !(s->flags & SF_STARTED))
			s->start_ts = ts;
		if (st == EP_STA_PLAYING && has_ts && s->start_ts && !(s->flags & SF_STARTED) &&
		    !ep_cmcd_has(r, EP_CMCD_MSD)) {
			acc_value(a, &q->hcfg, EP_QH_startup_ms, ts - s->start_ts);
			s->flags |= SF_STARTED;
		}
		s->state = (uint8_t)st;
		s->flags |= SF_STATEFUL;
	}
	if (has_ts)
		s->last_ts = ts;
}

/*
 * Under --qoe-memcap: shed closed fine buckets, then the oldest coarse ones, to 90 % of the
 * cap (as the collector's memcap does). @return 1 when the report may be added
 */
static int memcap_ok(struct ep_qoe *q, uint64_t now)
{
	int level;

	if (!q->cfg.memcap || q->view.bytes <= q->cfg.memcap)
		return 1;
	if (now < q->memcap_retry)
		return 0;
	for (level = 0; level < 2; level++)
		while (q->view.bytes > q->cfg.memcap / 10 * 9 && ep_view_shed(&q->view, level))
			q->ctr[EP_QOE_qoe_memcap_shed]++;
	if (q->view.bytes <= q->cfg.memcap)
		return 1;
	q->memcap_retry = now + 100000000ull;
	return 0;
}

void ep_qoe_add(struct ep_qoe *q, const struct ep_cmcd *r, uint32_t asn, uint16_t cc,
		uint64_t now_ns)
{
	struct acc a;
	struct ep_qoe_sess *s = NULL;
	const struct ep_tier *top = &q->view.t[q->view.ntiers - 1];
	uint64_t step = q->view.t[0].step_ns, at = now_ns, start;
	int fresh = 0;

	memset(&a, 0, sizeof(a));
	a.rec.asn = asn;
	a.rec.cc = cc;
	pthread_mutex_lock(&q->lock);
	if (ep_cmcd_has(r, EP_CMCD_TS)) {
		/* ms to ns: beyond the year 2500 it would not fit (and is not believed) */
		uint64_t ts = r->v[EP_CMCD_TS] < 16000000000000LL
				      ? (uint64_t)r->v[EP_CMCD_TS] * 1000000ull
				      : UINT64_MAX / 2;

		if (ts <= now_ns + q->cfg.max_skew_ns && ts + top->step_ns * top->count > now_ns)
			at = ts;
		else
			q->ctr[EP_QOE_qoe_ts_ignored]++;
	}
	start = at - at % step;
	if (r->sid[0]) {
		s = sess_get(q, keyed_hash(q->seed, r->sid, strlen(r->sid)), now_ns, &fresh);
		if (!s)
			q->ctr[EP_QOE_qoe_sessions_full]++;
	}
	if (s && ep_cmcd_has(r, EP_CMCD_SN)) {
		int seq = seq_check(s, (uint64_t)r->v[EP_CMCD_SN]);

		if (seq) {
			q->ctr[seq == 1 ? EP_QOE_qoe_duplicate : EP_QOE_qoe_late]++;
			pthread_mutex_unlock(&q->lock);
			return;
		}
	}
	if (s) {
		s->seen_ns = now_ns;
		a.rec.c[EP_QC_sessions] = (uint64_t)fresh;
		states(q, s, r, &a);
	}
	a.rec.c[EP_QC_reports] = 1;
	/* v1 request mode: starvation flags and object durations (a session that reports
	 * player states is timed by them instead). */
	if (!s || !(s->flags & SF_STATEFUL)) {
		if (ep_cmcd_has(r, EP_CMCD_BS) && r->v[EP_CMCD_BS])
			a.rec.c[EP_QC_stalls]++;
		if (ep_cmcd_has(r, EP_CMCD_D) && ep_cmcd_has(r, EP_CMCD_OT) && is_video(r))
			a.rec.c[EP_QC_play_ms] += (uint64_t)r->v[EP_CMCD_D];
	}
	if (ep_cmcd_has(r, EP_CMCD_MSD) && (!s || !(s->flags & SF_STARTED))) {
		acc_value(&a, &q->hcfg, EP_QH_startup_ms, r->v[EP_CMCD_MSD]);
		if (s)
			s->flags |= SF_STARTED;
	}
	if (ep_cmcd_has(r, EP_CMCD_MTP))
		acc_value(&a, &q->hcfg, EP_QH_mtp_kbps, r->v[EP_CMCD_MTP]);
	if (ep_cmcd_has(r, EP_CMCD_BR) && is_video(r))
		acc_value(&a, &q->hcfg, EP_QH_br_kbps, r->v[EP_CMCD_BR]);
	/* windows close a window after the clock (later data still counts) */
	if (now_ns > 2 * step)
		ep_view_advance(&q->view, now_ns - 2 * step);
	if (!memcap_ok(q, now_ns)) {
		q->ctr[EP_QOE_qoe_memcap_refused]++;
		pthread_mutex_unlock(&q->lock);
		return;
	}
	if (!asn)
		q->ctr[EP_QOE_qoe_no_asn]++;
	q->ctr[EP_QOE_qoe_reports]++;
	ep_view_add(&q->view, start, start + step, &a.rec, 1);
	pthread_mutex_unlock(&q->lock);
}

void ep_qoe_set_persist(struct ep_qoe *q, uint32_t tiers, ep_store_close_cb cb, void *ctx)
{
	pthread_mutex_lock(&q->lock);
	q->view.persist_tiers = tiers;
	q->view.on_persist = cb;
	q->view.persist_ctx = ctx;
	pthread_mutex_unlock(&q->lock);
}

void ep_qoe_close_all(struct ep_qoe *q)
{
	const struct ep_tier *top;

	if (!q->sess)
		return;
	top = &q->view.t[q->view.ntiers - 1];
	pthread_mutex_lock(&q->lock);
	if (q->view.newest_end)
		ep_view_advance(&q->view, q->view.newest_end + top->step_ns);
	pthread_mutex_unlock(&q->lock);
}

uint64_t ep_qoe_mem(const struct ep_qoe *q)
{
	return (uint64_t)q->sess_sets * EP_QOE_WAYS * sizeof(*q->sess) +
	       RL_SLOTS * sizeof(*q->rl) + q->view.bytes;
}
