/* SPDX-License-Identifier: BSD-3-Clause */
/* tracker.c - TCP flow tracking, RTT sampling, retransmissions and windows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edgeprobe/ep_admit.h"
#include "edgeprobe/ep_track.h"

#include "tracker.h"

/* A flow record names its ASN slot in 24 bits: the aggregates never have more slots. */
_Static_assert(EP_ASN_AGG_MAX_SLOTS - 1 <= EP_FLOW_MAX_AGG, "ASN slots fit a flow record");

struct ep_tracker {
	struct ep_tracker_cfg cfg;
	struct ep_flow_table *ft;
	struct ep_asn_agg agg;
	uint64_t stats[EP_ST__COUNT];
	uint64_t win_start, win_end;
	uint64_t win_packets;
	int win_open;
	/* Samples of the burst being tracked, recorded at its end (their lines prefetched). */
	struct {
		uint32_t slot, value;
		uint8_t hist, n; /* n: the samples it stands for (ep_track.h: at most 255) */
	} defer[EP_TRACKER_BURST * 4];
	uint32_t ndefer;
	int deferring;
	/* Sampled admission of flows opened by SYNs under a flood (ep_admit.h). */
	uint32_t admit_level;         /* this window's: admit 2^-level */
	uint32_t win_syns;            /* SYNs without a flow in this window */
};

void ep_tracker_cfg_defaults(struct ep_tracker_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = 1u << 20;
	cfg->max_asns = 65536;
	cfg->interval_ns = 100000000ull;
	cfg->idle_timeout_ns = 300000000000ull;
	cfg->short_timeout_ns = 10000000000ull;
	cfg->hist_digits = EP_HIST_DEFAULT_DIGITS;
	cfg->hist_highest_us = EP_HIST_DEFAULT_HIGHEST;
}

int ep_tracker_new(const struct ep_tracker_cfg *cfg, struct ep_tracker **out)
{
	struct ep_hdr_cfg hcfg;
	struct ep_tracker *t;
	int ret;

	*out = NULL;
	if (!cfg->asn || !cfg->interval_ns || !cfg->on_window ||
	    ep_hdr_cfg_init(&hcfg, 1, cfg->hist_highest_us, cfg->hist_digits) < 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	ret = ep_flow_table_new(cfg->max_flows, &t->ft);
	if (!ret)
		ret = ep_asn_agg_init(&t->agg, cfg->max_asns, &hcfg);
	if (ret < 0) {
		ep_tracker_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void ep_tracker_free(struct ep_tracker *t)
{
	if (!t)
		return;
	ep_flow_table_free(t->ft);
	ep_asn_agg_fini(&t->agg);
	free(t);
}

uint64_t *ep_tracker_stats(struct ep_tracker *t)
{
	t->stats[EP_ST_flows_active] = ep_flow_table_count(t->ft);
	t->stats[EP_ST_asn_overflow] = t->agg.overflow;
	t->stats[EP_ST_hist_nomem] = t->agg.hist_nomem;
	t->stats[EP_ST_syn_admit_level] = t->admit_level;
	return t->stats;
}

uint64_t ep_tracker_window_start(const struct ep_tracker *t)
{
	return t->win_open ? t->win_start : 0;
}

size_t ep_tracker_flow_bytes(const struct ep_tracker *t)
{
	return ep_flow_table_bytes(t->ft);
}

void ep_tracker_count_parse(struct ep_tracker *t, enum ep_parse_res res)
{
	t->stats[EP_ST_packets]++;
	t->stats[EP_ST_PARSE_FIRST + res]++;
}

/* ------------------------------------------------------------------------ */
/* The shared tracking rules (ep_track.h), recording into this worker's ASN slots */
/* ------------------------------------------------------------------------ */

struct ep_track_env {
	struct ep_tracker *t;
	uint32_t slot; /* the flow's ASN aggregate slot */
	uint32_t now;  /* the packet's time (us) */
};

/*
 * Record the samples a burst produced: the histogram lines they land on are
 * fetched for all of them first (slot, histogram, counts: three dependent
 * loads), so that the misses overlap.  Also run before a window closes.
 */
static void record_deferred(struct ep_tracker *t)
{
	struct ep_asn_agg *a = &t->agg;
	uint32_t i, n = t->ndefer;

	t->ndefer = 0;
	for (i = 0; i < n; i++)
		__builtin_prefetch(&a->slots[t->defer[i].slot].h[t->defer[i].hist]);
	for (i = 0; i < n; i++) {
		const struct ep_hist *h = a->slots[t->defer[i].slot].h[t->defer[i].hist];

		if (h) {
			/* Both lines of the header: the configuration and the counts' address. */
			__builtin_prefetch(h);
			__builtin_prefetch(&h->counts);
		}
	}
	for (i = 0; i < n; i++) {
		const struct ep_hist *h = a->slots[t->defer[i].slot].h[t->defer[i].hist];

		if (h)
			__builtin_prefetch(&h->counts[ep_hdr_index(&h->cfg, t->defer[i].value)], 1);
	}
	for (i = 0; i < n; i++)
		ep_asn_agg_record(a, t->defer[i].slot, (enum ep_asn_hist)t->defer[i].hist,
				  t->defer[i].value, t->defer[i].n);
}

EP_INLINE void ep_track_sample(struct ep_track_env *env, uint32_t hist, uint32_t value,
				uint32_t n)
{
	struct ep_tracker *t = env->t;

	if ((int64_t)value > t->agg.cfg.highest) {
		t->stats[EP_ST_rtt_discarded]++;
		return;
	}
	if (t->deferring) {
		if (EP_UNLIKELY(t->ndefer == sizeof(t->defer) / sizeof(t->defer[0])))
			record_deferred(t);
		t->defer[t->ndefer].slot = env->slot;
		t->defer[t->ndefer].value = value;
		t->defer[t->ndefer].hist = (uint8_t)hist;
		t->defer[t->ndefer].n = (uint8_t)n;
		t->ndefer++;
		return;
	}
	ep_asn_agg_record(&t->agg, env->slot, (enum ep_asn_hist)hist, value, n);
}

EP_INLINE void ep_track_count(struct ep_track_env *env, uint32_t ctr, uint32_t n)
{
	ep_asn_agg_count(&env->t->agg, env->slot, (enum ep_asn_counter)ctr, n);
}

EP_INLINE void ep_track_stat(struct ep_track_env *env, uint32_t stat)
{
	env->t->stats[stat]++;
}

EP_INLINE uint32_t ep_track_now(struct ep_track_env *env)
{
	return env->now;
}

/* ------------------------------------------------------------------------ */
/* Flow lifecycle                                                             */
/* ------------------------------------------------------------------------ */

/* Count the flow as ended once: flows_closed and its retransmission ratio. */
static void flow_end(struct ep_tracker *t, struct ep_flow *f)
{
	struct ep_track_env env = {t, ep_flow_agg(f), 0}; /* ending takes no time */

	ep_tcp_end(&env, &f->tcp);
}

static void flow_evict(struct ep_tracker *t, struct ep_flow *f)
{
	t->stats[EP_ST_flows_evicted]++;
	if (ep_flow_lru(f) == EP_LRU_SHORT)
		t->stats[EP_ST_evict_halfopen]++;
	flow_end(t, f);
	ep_flow_remove(t->ft, f);
}

static void expire(struct ep_tracker *t, uint64_t now_ns)
{
	static const uint8_t lists[2] = {EP_LRU_SHORT, EP_LRU_LONG};
	uint32_t now_ms = (uint32_t)(now_ns / 1000000);
	int l;

	for (l = 0; l < 2; l++) {
		uint32_t timeout = (uint32_t)((lists[l] == EP_LRU_SHORT ? t->cfg.short_timeout_ns
								: t->cfg.idle_timeout_ns) / 1000000);
		struct ep_flow *f;

		while ((f = ep_flow_expired(t->ft, (enum ep_lru)lists[l], now_ms, timeout))) {
			if (!(f->tcp.flags & EP_TF_FINAL))
				t->stats[EP_ST_flows_timeout]++;
			flow_end(t, f);
			ep_flow_remove(t->ft, f);
		}
	}
}

/* Which side is remote (ep_tcp_pick_remote), with --local-net looked up here. */
static uint8_t pick_remote(const struct ep_tracker *t, const struct ep_flow_key *key,
			   const struct ep_pkt *pkt, int side)
{
	int a = -1, b = -1;

	if (t->cfg.local && t->cfg.local->n) {
		a = ep_netset_contains(t->cfg.local, key->family, key->addr_a);
		b = ep_netset_contains(t->cfg.local, key->family, key->addr_b);
	}
	return ep_tcp_pick_remote(a, b, pkt, side, key->port_a, key->port_b);
}

/* A SYN whose flow was not admitted: counted for its remote side's ASN. */
static void syn_unsampled(struct ep_tracker *t, const struct ep_pkt *pkt,
			  const struct ep_flow_key *key, int side)
{
	const char *org;
	uint32_t asn;
	uint16_t cc;

	if (pkt->flags & EP_TCP_ACK)
		return; /* a SYN-ACK: its SYN was counted */
	t->stats[EP_ST_syn_unsampled]++;
	asn = ep_asn_map_lookup_cc(t->cfg.asn, key->family,
				   pick_remote(t, key, pkt, side) ? key->addr_b : key->addr_a, &org,
				   &cc);
	ep_asn_agg_count(&t->agg, ep_asn_agg_slot(&t->agg, asn, cc, org), EP_AC_syn_unsampled, 1);
}

static struct ep_flow *flow_create(struct ep_tracker *t, const struct ep_pkt *pkt,
				   const struct ep_flow_key *key, uint64_t hash, int side,
				   uint64_t now_ns)
{
	enum ep_lru lru = EP_LRU_SHORT; /* until heard from both sides */
	uint32_t now_ms = (uint32_t)(now_ns / 1000000);
	struct ep_flow *f;
	const char *org;
	uint32_t asn;
	uint16_t cc;
	int err, tries;

	for (tries = 0; tries < 3; tries++) {
		struct ep_flow *victim;

		f = ep_flow_insert(t->ft, key, hash, lru, now_ms, &err);
		if (f)
			break;
		/* The pool is full (the index never is: chains grow). */
		victim = ep_flow_victim(t->ft, EP_LRU_SHORT);
		if (!victim)
			victim = ep_flow_victim(t->ft, EP_LRU_LONG);
		if (!victim)
			return NULL;
		flow_evict(t, victim);
	}
	if (!f)
		return NULL;
	ep_tcp_init(&f->tcp, pick_remote(t, key, pkt, side));
	asn = ep_asn_map_lookup_cc(t->cfg.asn, key->family,
				   f->tcp.remote ? key->addr_b : key->addr_a, &org, &cc);
	ep_flow_set_agg(f, ep_asn_agg_slot(&t->agg, asn, cc, org));
	t->stats[EP_ST_flows_created]++;
	ep_asn_agg_count(&t->agg, ep_flow_agg(f), EP_AC_flows_new, 1);
	return f;
}

/* ------------------------------------------------------------------------ */
/* Per-packet path                                                            */
/* ------------------------------------------------------------------------ */

/* The window clock: open, advance, or note a packet from the past. */
static inline void clock_packet(struct ep_tracker *t, uint64_t now_ns)
{
	/* The common case in one compare: inside the open window (win_start is 0 before). */
	if (EP_LIKELY(now_ns - t->win_start < t->win_end - t->win_start && t->win_open)) {
		t->win_packets++;
		return;
	}
	if (EP_UNLIKELY(!t->win_open)) {
		t->win_start = now_ns - now_ns % t->cfg.interval_ns;
		t->win_end = t->win_start + t->cfg.interval_ns;
		t->win_open = 1;
	} else if (now_ns >= t->win_end) {
		ep_tracker_advance(t, now_ns);
	} else if (EP_UNLIKELY(now_ns < t->win_start)) {
		t->stats[EP_ST_time_backwards]++;
	}
	t->win_packets++;
}

/* One segment whose key, hash, sending side s and flow (or NULL) are known. */
EP_INLINE void track(struct ep_tracker *t, const struct ep_pkt *pkt, uint64_t now_ns,
		     const struct ep_flow_key *keyp, uint64_t hash, int s, struct ep_flow *f)
{
	struct ep_track_env env;

	if (f && f->tcp.state == EP_FS_CLOSED &&
	    (pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN) {
		ep_flow_remove(t->ft, f); /* a new connection on a closed tuple */
		f = NULL;
	}
	if (!f) {
		if (pkt->flags & EP_TCP_RST) {
			t->stats[EP_ST_rst_no_flow]++;
			return;
		}
		if (pkt->flags & EP_TCP_SYN) {
			if (!(pkt->flags & EP_TCP_ACK)) {
				t->win_syns++;
				t->stats[EP_ST_syn_new]++;
			}
			if (EP_UNLIKELY(!ep_admit(hash, t->admit_level))) {
				syn_unsampled(t, pkt, keyp, s);
				return;
			}
		}
		f = flow_create(t, pkt, keyp, hash, s, now_ns);
		if (EP_UNLIKELY(!f))
			return;
	}
	env.t = t;
	env.slot = ep_flow_agg(f);
	env.now = (uint32_t)(now_ns / 1000);
	ep_tcp_segment(&env, &f->tcp, pkt, s, 1, 0);
	ep_flow_touch(t->ft, f, f->tcp.state == EP_FS_ESTABLISHED ? EP_LRU_LONG : EP_LRU_SHORT,
		      (uint32_t)(now_ns / 1000000));
}

void ep_tracker_packet(struct ep_tracker *t, const struct ep_pkt *pkt, uint64_t now_ns)
{
	struct ep_flow_key key;
	uint64_t hash;
	int s;

	clock_packet(t, now_ns);
	s = ep_flow_key_make(pkt, &key);
	hash = ep_flow_key_hash(&key);
	track(t, pkt, now_ns, &key, hash, s, ep_flow_lookup(t->ft, &key, hash));
}

void ep_tracker_burst(struct ep_tracker *t, const struct ep_pkt *pkts, const uint64_t *now_ns,
		      uint32_t n)
{
	struct ep_flow_key keys[EP_TRACKER_BURST];
	uint64_t hashes[EP_TRACKER_BURST];
	struct ep_flow *hint[EP_TRACKER_BURST];
	uint8_t side[EP_TRACKER_BURST];
	uint32_t i;

	if (n > EP_TRACKER_BURST)
		n = EP_TRACKER_BURST;
	/* Stage 1: keys and hashes; start loading the head of every hash chain. */
	for (i = 0; i < n; i++) {
		side[i] = (uint8_t)ep_flow_key_make(&pkts[i], &keys[i]);
		hashes[i] = ep_flow_key_hash(&keys[i]);
		ep_flow_prefetch(t->ft, hashes[i]);
	}
	/* Stage 2: read the (now cached) heads; start loading each chain's first flow. */
	for (i = 0; i < n; i++) {
		hint[i] = ep_flow_first(t->ft, hashes[i]);
		if (hint[i])
			__builtin_prefetch(hint[i]);
	}
	/* Stage 3: compare the keys, walking on where a chain's first flow is another's. */
	for (i = 0; i < n; i++) {
		if (hint[i]) {
			hint[i] = ep_flow_find_from(t->ft, hint[i], &keys[i]);
			if (hint[i]) {
				__builtin_prefetch((const char *)hint[i] + 64);
				__builtin_prefetch(&t->agg.slots[ep_flow_agg(hint[i])], 1);
			}
		}
	}
	/*
	 * Stage 4: process in order.  Earlier packets may have created, ended or
	 * evicted flows (and the window clock may have expired some): a hint is
	 * taken only while it holds the packet's key, else the chain is walked.
	 */
	t->deferring = 1;
	for (i = 0; i < n; i++) {
		struct ep_flow *f = hint[i];

		clock_packet(t, now_ns[i]);
		if (!f || !ep_flow_key_eq(&f->key, &keys[i]))
			f = ep_flow_lookup(t->ft, &keys[i], hashes[i]);
		track(t, &pkts[i], now_ns[i], &keys[i], hashes[i], side[i], f);
	}
	t->deferring = 0;
	if (t->ndefer)
		record_deferred(t);
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                    */
/* ------------------------------------------------------------------------ */

static void close_window(struct ep_tracker *t)
{
	struct ep_window w;

	if (t->ndefer)
		record_deferred(t); /* the samples of the burst so far belong to this window */
	if (t->win_packets || t->agg.ndirty || t->cfg.emit_empty) {
		memset(&w, 0, sizeof(w));
		w.type = EP_WIN_WINDOW;
		w.start_ns = t->win_start;
		w.end_ns = t->win_end;
		t->stats[EP_ST_windows]++;
		memcpy(w.stats, ep_tracker_stats(t), sizeof(w.stats));
		w.nasns = ep_asn_agg_view(&t->agg, &w.asns);
		t->cfg.on_window(&w, t->cfg.ctx);
	}
	ep_asn_agg_clear(&t->agg);
	t->win_packets = 0;
}

void ep_tracker_advance(struct ep_tracker *t, uint64_t now_ns)
{
	uint64_t iv = t->cfg.interval_ns;

	if (!t->win_open) {
		if (!t->cfg.emit_empty)
			return;
		t->win_start = now_ns - now_ns % iv;
		t->win_end = t->win_start + iv;
		t->win_open = 1;
		return;
	}
	while (now_ns >= t->win_end) {
		expire(t, t->win_end);
		close_window(t);
		t->admit_level = ep_admit_level_next(
			t->win_syns, t->cfg.max_flows - ep_flow_table_count_list(t->ft, EP_LRU_LONG),
			(uint32_t)(iv / 1000000));
		t->win_syns = 0;
		t->win_start = t->win_end;
		t->win_end += iv;
		if (!t->cfg.emit_empty && now_ns >= t->win_end) {
			/* Skip a gap without traffic in one step. */
			t->win_start = now_ns - now_ns % iv;
			t->win_end = t->win_start + iv;
			expire(t, now_ns);
		}
	}
}

static void end_each(struct ep_flow *f, void *arg)
{
	flow_end(arg, f);
}

void ep_tracker_finish(struct ep_tracker *t)
{
	if (!t->win_open)
		return;
	ep_flow_table_foreach(t->ft, end_each, t);
	close_window(t);
	t->win_open = 0;
}

void ep_tracker_set_asn_map(struct ep_tracker *t, const struct ep_asn_map *m)
{
	uint32_t i;

	t->cfg.asn = m;
	for (i = 0; i < t->agg.nslots; i++)
		if (t->agg.slots[i].asn != EP_ASN_OTHER)
			t->agg.slots[i].org = ep_asn_map_org(m, t->agg.slots[i].asn);
}
