/* SPDX-License-Identifier: BSD-3-Clause */
/* tracker.c - TCP flow tracking, RTT sampling, retransmissions and windows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"

/* Flow flags; (X << side) selects side 0 or 1. */
#define F_NXT0 0x0001u        /* nxt[side] is known */
#define F_TS0 0x0004u         /* side sends TCP timestamps */
#define F_ZWIN0 0x0010u       /* side advertises a zero window */
#define F_FIN0 0x0040u        /* side sent FIN */
#define F_HS_KARN 0x0100u     /* handshake segment retransmitted: no rtt_hs */
#define F_SYN_SEEN 0x0200u
#define F_SYNACK_SEEN 0x0400u
#define F_FINAL 0x0800u       /* counted as closed, retx_ppm recorded */
#define F_TSV 0x1000u         /* last_tsval is valid */
#define F_HOLE0 0x2000u       /* hole_lo/hi[side] hold a range not seen yet */
#define F_SIDE(f, s) ((uint16_t)((f) << (s)))

struct ep_tracker {
	struct ep_tracker_cfg cfg;
	struct ep_flow_table *ft;
	struct ep_asn_agg agg;
	uint64_t stats[EP_ST__COUNT];
	uint64_t win_start, win_end;
	uint64_t win_packets;
	int win_open;
	struct ep_window_asn *out;
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
	if (!ret && !(t->out = calloc(t->agg.cap, sizeof(*t->out))))
		ret = -ENOMEM;
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
	free(t->out);
	free(t);
}

uint64_t *ep_tracker_stats(struct ep_tracker *t)
{
	t->stats[EP_ST_flows_active] = ep_flow_table_count(t->ft);
	t->stats[EP_ST_asn_overflow] = t->agg.overflow;
	t->stats[EP_ST_hist_nomem] = t->agg.hist_nomem;
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
/* Samples                                                                    */
/* ------------------------------------------------------------------------ */

static void sample(struct ep_tracker *t, struct ep_flow *f, enum ep_asn_hist k, uint32_t rtt_us)
{
	if ((int64_t)rtt_us > t->agg.cfg.highest) {
		t->stats[EP_ST_rtt_discarded]++;
		return;
	}
	ep_asn_agg_record(&t->agg, f->agg, k, rtt_us);
}

static void pend_add(struct ep_tracker *t, struct ep_flow *f, uint8_t kind, uint32_t val,
		     uint32_t now_us)
{
	int i, slot = -1;
	uint32_t oldest_age = 0;

	if (f->pend_kind != kind) {
		f->pend_kind = kind;
		f->pend_mask = 0;
	}
	for (i = 0; i < EP_FLOW_PEND; i++) {
		if (!(f->pend_mask & (1u << i))) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		for (i = 0; i < EP_FLOW_PEND; i++) {
			uint32_t age = now_us - f->pend_us[i];

			if (slot < 0 || age > oldest_age) {
				slot = i;
				oldest_age = age;
			}
		}
		t->stats[EP_ST_rtt_pend_overflow]++;
	}
	f->pend_val[slot] = val;
	f->pend_us[slot] = now_us;
	f->pend_mask |= (uint8_t)(1u << slot);
}

static void pend_clear(struct ep_flow *f)
{
	f->pend_mask = 0;
	f->pend_kind = EP_PEND_NONE;
}

/* A packet from the remote echoing TSecr: the exact match is a sample, older values are dead. */
static void match_tsecr(struct ep_tracker *t, struct ep_flow *f, uint32_t tsecr, uint32_t now_us)
{
	int i;

	for (i = 0; i < EP_FLOW_PEND; i++) {
		if (!(f->pend_mask & (1u << i)))
			continue;
		if (f->pend_val[i] == tsecr)
			sample(t, f, EP_AH_RTT_DATA, now_us - f->pend_us[i]);
		else if (!ep_seq_lt(f->pend_val[i], tsecr))
			continue;
		f->pend_mask &= (uint8_t)~(1u << i);
	}
}

/* An ACK from the remote: every outstanding segment it covers is a sample. */
static void match_ack(struct ep_tracker *t, struct ep_flow *f, uint32_t ack, uint32_t now_us)
{
	int i;

	for (i = 0; i < EP_FLOW_PEND; i++) {
		if ((f->pend_mask & (1u << i)) && ep_seq_le(f->pend_val[i], ack)) {
			sample(t, f, EP_AH_RTT_DATA, now_us - f->pend_us[i]);
			f->pend_mask &= (uint8_t)~(1u << i);
		}
	}
}

/* Karn: a retransmission from seq makes outstanding segments ending after it ambiguous. */
static void karn_seq(struct ep_flow *f, uint32_t seq)
{
	int i;

	if (f->pend_kind != EP_PEND_SEQ)
		return;
	for (i = 0; i < EP_FLOW_PEND; i++)
		if ((f->pend_mask & (1u << i)) && ep_seq_lt(seq, f->pend_val[i]))
			f->pend_mask &= (uint8_t)~(1u << i);
}

/* ------------------------------------------------------------------------ */
/* Flow lifecycle                                                             */
/* ------------------------------------------------------------------------ */

/* Count the flow as ended once: flows_closed and its retransmission ratio. */
static void flow_end(struct ep_tracker *t, struct ep_flow *f)
{
	if (f->flags & F_FINAL)
		return;
	f->flags |= F_FINAL;
	t->stats[EP_ST_flows_closed]++;
	ep_asn_agg_count(&t->agg, f->agg, EP_AC_flows_closed, 1);
	if (f->data_out)
		ep_asn_agg_record(&t->agg, f->agg, EP_AH_RETX_PPM,
				  (int64_t)((uint64_t)f->retx_out * 1000000u / f->data_out));
}

static void flow_evict(struct ep_tracker *t, struct ep_flow *f, int bucket)
{
	t->stats[EP_ST_flows_evicted]++;
	if (f->lru == EP_LRU_SHORT)
		t->stats[EP_ST_evict_halfopen]++;
	if (bucket)
		t->stats[EP_ST_evict_bucket_full]++;
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
			if (!(f->flags & F_FINAL))
				t->stats[EP_ST_flows_timeout]++;
			flow_end(t, f);
			ep_flow_remove(t->ft, f);
		}
	}
}

/* Which side is remote: outside --local-net, else the initiator (SYN sender, or higher port). */
static uint8_t pick_remote(const struct ep_tracker *t, const struct ep_flow_key *key,
			   const struct ep_pkt *pkt, int side)
{
	int initiator;

	if (t->cfg.local && t->cfg.local->n) {
		int a = ep_netset_contains(t->cfg.local, key->family, key->addr_a);
		int b = ep_netset_contains(t->cfg.local, key->family, key->addr_b);

		if (a != b)
			return a ? 1 : 0;
	}
	if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN)
		initiator = side;
	else if (pkt->flags & EP_TCP_SYN)
		initiator = !side;
	else
		initiator = key->port_a > key->port_b ? 0 : 1;
	return (uint8_t)initiator;
}

static struct ep_flow *flow_create(struct ep_tracker *t, const struct ep_pkt *pkt,
				   const struct ep_flow_key *key, uint64_t hash, int side,
				   uint64_t now_ns)
{
	enum ep_lru lru = (pkt->flags & EP_TCP_SYN) ? EP_LRU_SHORT : EP_LRU_LONG;
	uint32_t now_ms = (uint32_t)(now_ns / 1000000);
	struct ep_flow *f;
	const char *org;
	uint32_t asn;
	int err, tries;

	for (tries = 0; tries < 3; tries++) {
		struct ep_flow *victim;

		f = ep_flow_insert(t->ft, key, hash, lru, now_ms, &err);
		if (f)
			break;
		if (err == -EBUSY) {
			victim = ep_flow_bucket_oldest(t->ft, hash, now_ms);
		} else {
			victim = ep_flow_victim(t->ft, EP_LRU_SHORT);
			if (!victim)
				victim = ep_flow_victim(t->ft, EP_LRU_LONG);
		}
		if (!victim)
			return NULL;
		flow_evict(t, victim, err == -EBUSY);
	}
	if (!f)
		return NULL;
	f->remote = pick_remote(t, key, pkt, side);
	f->state = lru == EP_LRU_SHORT ? EP_FS_HALFOPEN : EP_FS_ESTABLISHED;
	asn = ep_asn_map_lookup(t->cfg.asn, key->family, f->remote ? key->addr_b : key->addr_a,
				&org);
	f->agg = ep_asn_agg_slot(&t->agg, asn, org);
	t->stats[EP_ST_flows_created]++;
	ep_asn_agg_count(&t->agg, f->agg, EP_AC_flows_new, 1);
	return f;
}

/* ------------------------------------------------------------------------ */
/* Per-packet path                                                            */
/* ------------------------------------------------------------------------ */

static void on_syn(struct ep_tracker *t, struct ep_flow *f, const struct ep_pkt *pkt, int s,
		   int toward, uint32_t now_us)
{
	if (!(pkt->flags & EP_TCP_ACK)) {
		/* SYN: towards a remote server it starts the rtt_hs clock. */
		if (f->flags & F_SYN_SEEN) {
			if (toward) {
				f->flags |= F_HS_KARN;
				if (f->pend_kind == EP_PEND_HS)
					pend_clear(f);
			}
		} else {
			f->flags |= F_SYN_SEEN;
			if (toward)
				pend_add(t, f, EP_PEND_HS, pkt->seq + 1, now_us);
		}
	} else if (!toward) {
		/* SYN-ACK from a remote server: the sample, unless the SYN was resent. */
		if (f->pend_kind == EP_PEND_HS && (f->pend_mask & 1) && pkt->ack == f->pend_val[0]) {
			if (!(f->flags & F_HS_KARN))
				sample(t, f, EP_AH_RTT_HS, now_us - f->pend_us[0]);
			pend_clear(f);
		}
	} else {
		/* SYN-ACK towards a remote client starts the clock; a second one voids it. */
		if (f->flags & F_SYNACK_SEEN) {
			f->flags |= F_HS_KARN;
			if (f->pend_kind == EP_PEND_HS)
				pend_clear(f);
		} else {
			f->flags |= F_SYNACK_SEEN;
			pend_add(t, f, EP_PEND_HS, pkt->seq + 1, now_us);
		}
	}
	f->nxt[s] = pkt->seq + 1;
	f->flags |= F_SIDE(F_NXT0, s);
}

/*
 * Has [seq, end) of side s been seen before?  Ranges below nxt that were
 * skipped (one hole per side) are new when they arrive late: reordering, not
 * retransmission.  Updates nxt and the hole.
 */
static int seen_before(struct ep_flow *f, int s, uint32_t seq, uint32_t end)
{
	uint16_t hole = F_SIDE(F_HOLE0, s);
	int seen = 0;

	if (ep_seq_lt(seq, f->nxt[s])) {
		if ((f->flags & hole) && ep_seq_le(f->hole_lo[s], seq) &&
		    ep_seq_le(end, f->hole_hi[s])) {
			/* A first transmission filling (part of) the hole. */
			if (seq == f->hole_lo[s])
				f->hole_lo[s] = end;
			else
				f->hole_hi[s] = seq; /* keep the lower part */
		} else {
			seen = 1;
			if ((f->flags & hole) && ep_seq_le(seq, f->hole_lo[s]) &&
			    ep_seq_lt(f->hole_lo[s], end))
				f->hole_lo[s] = end; /* a retransmission that also fills */
		}
		if ((f->flags & hole) && !ep_seq_lt(f->hole_lo[s], f->hole_hi[s]))
			f->flags &= (uint16_t)~hole;
	} else if (ep_seq_lt(f->nxt[s], seq)) {
		f->hole_lo[s] = f->nxt[s];
		f->hole_hi[s] = seq;
		f->flags |= hole;
	}
	if (ep_seq_lt(f->nxt[s], end))
		f->nxt[s] = end;
	return seen;
}

static void on_data(struct ep_tracker *t, struct ep_flow *f, const struct ep_pkt *pkt, int s,
		    int toward, int ts_mode, uint32_t now_us)
{
	uint32_t len = pkt->payload_len, end = pkt->seq + len;
	int fresh = 1;

	if (toward)
		f->data_out++;
	if (f->flags & F_SIDE(F_NXT0, s)) {
		uint32_t nxt = f->nxt[s];

		fresh = !ep_seq_lt(pkt->seq, nxt); /* in order: a sample candidate */
		if (seen_before(f, s, pkt->seq, end)) {
			int keepalive = len <= 1 && pkt->seq == nxt - 1;
			int zwp = len <= 1 && (f->flags & F_SIDE(F_ZWIN0, !s));

			if (!keepalive && !zwp) {
				if (toward) {
					f->retx_out++;
					ep_asn_agg_count(&t->agg, f->agg, EP_AC_retx_out, 1);
					karn_seq(f, pkt->seq);
				} else {
					ep_asn_agg_count(&t->agg, f->agg, EP_AC_retx_in, 1);
				}
			}
		}
	} else {
		f->nxt[s] = end;
		f->flags |= F_SIDE(F_NXT0, s);
	}
	if (toward && fresh && !ts_mode && f->pend_kind != EP_PEND_HS)
		pend_add(t, f, EP_PEND_SEQ, end, now_us);
}

/* The window clock: open, advance, or note a packet from the past. */
static inline void clock_packet(struct ep_tracker *t, uint64_t now_ns)
{
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
static inline void track(struct ep_tracker *t, const struct ep_pkt *pkt, uint64_t now_ns,
			 const struct ep_flow_key *keyp, uint64_t hash, int s, struct ep_flow *f)
{
	uint32_t now_us = (uint32_t)(now_ns / 1000);
	int toward, ts_mode;

	if (f && f->state == EP_FS_CLOSED &&
	    (pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN) {
		ep_flow_remove(t->ft, f); /* a new connection on a closed tuple */
		f = NULL;
	}
	if (!f) {
		if (pkt->flags & EP_TCP_RST) {
			t->stats[EP_ST_rst_no_flow]++;
			return;
		}
		f = flow_create(t, pkt, keyp, hash, s, now_ns);
		if (EP_UNLIKELY(!f))
			return;
	}
	toward = s != f->remote;
	ep_asn_agg_count(&t->agg, f->agg, toward ? EP_AC_segs_out : EP_AC_segs_in, 1);
	if (pkt->opts & EP_OPT_TS)
		f->flags |= F_SIDE(F_TS0, s);
	ts_mode = (f->flags & (F_TS0 | (F_TS0 << 1))) == (F_TS0 | (F_TS0 << 1));

	if (pkt->flags & EP_TCP_RST) {
		flow_end(t, f);
		f->state = EP_FS_CLOSED;
		ep_flow_touch(t->ft, f, EP_LRU_SHORT, (uint32_t)(now_ns / 1000000));
		return;
	}
	if (pkt->flags & EP_TCP_SYN) {
		on_syn(t, f, pkt, s, toward, now_us);
	} else {
		/* The remote client's ACK of our SYN-ACK closes the handshake sample. */
		if (f->pend_kind == EP_PEND_HS && !toward && (pkt->flags & EP_TCP_ACK)) {
			if ((f->pend_mask & 1) && ep_seq_le(f->pend_val[0], pkt->ack) &&
			    !(f->flags & F_HS_KARN))
				sample(t, f, EP_AH_RTT_HS, now_us - f->pend_us[0]);
			pend_clear(f);
		}
		if (f->state == EP_FS_HALFOPEN && (pkt->flags & EP_TCP_ACK))
			f->state = EP_FS_ESTABLISHED;
		if (f->pend_kind != EP_PEND_HS && f->pend_kind != EP_PEND_NONE &&
		    f->pend_kind != (ts_mode ? EP_PEND_TS : EP_PEND_SEQ))
			pend_clear(f); /* timestamps appeared on the second side */

		if (!toward && f->pend_kind != EP_PEND_HS) {
			if (ts_mode && (pkt->opts & EP_OPT_TS))
				match_tsecr(t, f, pkt->tsecr, now_us);
			else if (!ts_mode && (pkt->flags & EP_TCP_ACK))
				match_ack(t, f, pkt->ack, now_us);
		}
		if (pkt->payload_len) {
			on_data(t, f, pkt, s, toward, ts_mode, now_us);
		} else if (!(f->flags & F_SIDE(F_NXT0, s))) {
			f->nxt[s] = pkt->seq;
			f->flags |= F_SIDE(F_NXT0, s);
		}
		if (pkt->flags & EP_TCP_FIN) {
			uint32_t end = pkt->seq + pkt->payload_len + 1;

			if (ep_seq_lt(f->nxt[s], end))
				f->nxt[s] = end;
			f->flags |= F_SIDE(F_FIN0, s);
		}
		/* TSval towards the remote on segments that elicit an ACK (data, FIN). */
		if (toward && ts_mode && (pkt->opts & EP_OPT_TS) && f->pend_kind != EP_PEND_HS &&
		    (pkt->payload_len || (pkt->flags & EP_TCP_FIN)) &&
		    (!(f->flags & F_TSV) || ep_seq_lt(f->last_tsval, pkt->tsval))) {
			pend_add(t, f, EP_PEND_TS, pkt->tsval, now_us);
			f->last_tsval = pkt->tsval;
			f->flags |= F_TSV;
		}
		if (pkt->win == 0)
			f->flags |= F_SIDE(F_ZWIN0, s);
		else
			f->flags &= (uint16_t)~F_SIDE(F_ZWIN0, s);
	}
	if ((f->flags & (F_FIN0 | (F_FIN0 << 1))) == (F_FIN0 | (F_FIN0 << 1)) &&
	    f->state != EP_FS_CLOSED) {
		flow_end(t, f);
		f->state = EP_FS_CLOSED;
	}
	ep_flow_touch(t->ft, f, f->state == EP_FS_ESTABLISHED ? EP_LRU_LONG : EP_LRU_SHORT,
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
	/* Stage 1: keys and hashes; start loading every bucket. */
	for (i = 0; i < n; i++) {
		side[i] = (uint8_t)ep_flow_key_make(&pkts[i], &keys[i]);
		hashes[i] = ep_flow_key_hash(&keys[i]);
		ep_flow_prefetch(t->ft, hashes[i]);
	}
	/* Stage 2: look up in the (now cached) buckets; start loading the flows. */
	for (i = 0; i < n; i++) {
		hint[i] = ep_flow_lookup(t->ft, &keys[i], hashes[i]);
		if (hint[i]) {
			__builtin_prefetch(hint[i]);
			__builtin_prefetch((const char *)hint[i] + 64);
		}
	}
	/*
	 * Stage 3: process in order.  Earlier packets may have created, ended or
	 * evicted flows (and the window clock may have expired some): a hint is
	 * used only while it still holds the packet's key, else looked up again.
	 */
	for (i = 0; i < n; i++) {
		struct ep_flow *f = hint[i];

		clock_packet(t, now_ns[i]);
		if (!f || !ep_flow_key_eq(&f->key, &keys[i]))
			f = ep_flow_lookup(t->ft, &keys[i], hashes[i]);
		track(t, &pkts[i], now_ns[i], &keys[i], hashes[i], side[i], f);
	}
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                    */
/* ------------------------------------------------------------------------ */

static int asn_cmp(const void *x, const void *y)
{
	const struct ep_window_asn *a = x, *b = y;

	return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static void close_window(struct ep_tracker *t)
{
	struct ep_window w;
	uint32_t i, k;

	if (t->win_packets || t->agg.ndirty || t->cfg.emit_empty) {
		memset(&w, 0, sizeof(w));
		w.type = EP_WIN_WINDOW;
		w.start_ns = t->win_start;
		w.end_ns = t->win_end;
		t->stats[EP_ST_windows]++;
		memcpy(w.stats, ep_tracker_stats(t), sizeof(w.stats));
		w.asns = t->out;
		for (i = 0; i < t->agg.ndirty; i++) {
			const struct ep_asn_slot *s = &t->agg.slots[t->agg.dirty[i]];
			struct ep_window_asn *o = &t->out[w.nasns++];

			o->asn = s->asn;
			o->org = s->org;
			memcpy(o->c, s->c, sizeof(o->c));
			for (k = 0; k < EP_AH__COUNT; k++) {
				o->h[k] = s->h[k];
				o->enc[k] = NULL;
			}
		}
		qsort(w.asns, w.nasns, sizeof(*w.asns), asn_cmp);
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
