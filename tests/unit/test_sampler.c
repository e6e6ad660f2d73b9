/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sampler.c - the in-flow RTT sampler of the shared tracking rules
 * (ep_track.h) on modelled bulk transfers: windows of 4 to 512 segments in
 * flight, delayed ACKs, TSval clocks of one step per several packets and of
 * many steps per packet, TSval and sequence wrap, a loss with its
 * retransmission (Karn), GSO super-packets against their wire segments; and
 * on hand-made sequences: delayed, duplicate, SACK-carrying and reordered
 * ACKs, expiry of unanswered samples, a TSval clock that jumps back, TSvals
 * under a hole (SACK blocks), the samples' weights; the halving of the flow's
 * segment counts.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "edgeprobe/ep_stats.h"
#include "edgeprobe/ep_tcp.h"
#include "edgeprobe/ep_types.h"

#define MAXS 65536

struct ep_track_env {
	uint32_t n, v[MAXS], w[MAXS]; /* in-flow samples, in order, and their weights */
	uint32_t hs;
	uint64_t stats[EP_ST__COUNT];
	uint32_t now; /* the packet's time */
};

EP_INLINE void ep_track_sample(struct ep_track_env *env, uint32_t hist, uint32_t value,
				uint32_t n)
{
	if (hist == EP_AH_RTT_HS) {
		env->hs++;
	} else if (hist == EP_AH_RTT_DATA && env->n < MAXS) {
		env->w[env->n] = n;
		env->v[env->n++] = value;
	}
}

EP_INLINE void ep_track_count(struct ep_track_env *env, uint32_t ctr, uint32_t n)
{
	(void)env;
	(void)ctr;
	(void)n;
}

EP_INLINE void ep_track_stat(struct ep_track_env *env, uint32_t stat)
{
	env->stats[stat]++;
}

EP_INLINE uint32_t ep_track_now(struct ep_track_env *env)
{
	return env->now;
}

#include "edgeprobe/ep_track.h"

/* Side 0 is the local server, side 1 the remote client that downloads. */
#define SRV 0
#define CLI 1

static void seg(struct ep_track_env *e, struct ep_tcp *f, int side, uint32_t t_us, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t len, int ts, uint32_t tsval, uint32_t tsecr,
		uint32_t segs, uint32_t seg_bytes)
{
	struct ep_pkt p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	p.win = 1000;
	if (ts) {
		p.opts = EP_OPT_TS;
		p.tsval = tsval;
		p.tsecr = tsecr;
	}
	e->now = t_us;
	ep_tcp_segment(e, f, &p, side, segs, seg_bytes);
}

static void handshake(struct ep_track_env *e, struct ep_tcp *f, uint32_t t, uint32_t srv_isn,
		      int ts, uint32_t tsval)
{
	memset(f, 0, sizeof(*f));
	ep_tcp_init(f, CLI);
	seg(e, f, CLI, t, EP_TCP_SYN, 100, 0, 0, ts, 7, 0, 1, 0);
	seg(e, f, SRV, t + 10, EP_TCP_SYN | EP_TCP_ACK, srv_isn, 101, 0, ts, tsval, 7, 1, 0);
	seg(e, f, CLI, t + 1000, EP_TCP_ACK, 101, srv_isn + 1, 0, ts, 8, tsval, 1, 0);
}

/* ------------------------------------------------------------------------ */
/* A modelled bulk download                                                   */
/* ------------------------------------------------------------------------ */

struct bulk {
	uint32_t rtt_us;      /* path round trip */
	uint32_t window;      /* segments in flight (the sender is ACK-clocked) */
	uint32_t rounds;      /* round trips of data */
	uint32_t ack_every;   /* the receiver ACKs every n segments (2: delayed ACKs) */
	int ts;               /* TCP timestamps */
	uint32_t tick_us;     /* TSval clock: one step per tick_us */
	uint32_t tsval0;      /* TSval at time 0 */
	uint32_t isn;         /* the server's initial sequence number */
	uint32_t gso;         /* segments per burst sent at one instant (1: spaced) */
	int as_super;         /* hand a burst over as one GSO super-packet */
	uint32_t lose;        /* 1-based index of a segment lost on the way (0: none) */
};

#define MSS 1000u

struct ev {
	uint32_t t, seq, ack, len, tsval, tsecr, segs;
	uint8_t side, order;
	uint32_t idx; /* generation order: ties keep it (qsort is not stable) */
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->order != y->order)
		return (int)x->order - (int)y->order; /* ACKs, then a resend, then new data */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint32_t tsval_at(const struct bulk *b, uint32_t t)
{
	return b->tsval0 + t / b->tick_us;
}

/*
 * Run the download through the rules; fills e.  Segment k (0-based) leaves at
 * t0 + (k / gso) * gso * gap, gap = rtt / window: an ACK-clocked steady state.
 * The receiver ACKs every ack_every segments, echoing the TSval of the first
 * segment it acknowledges (RFC 7323's TS.Recent), 0 to one gap late (jitter:
 * without it the ACK clock would always hand the sampler the same segment of
 * each delayed-ACK pair).  A lost segment L: each
 * segment sent after it and before its resend gets a duplicate ACK at once,
 * the third of which triggers the resend; the resend's ACK covers every
 * segment sent before it.
 */
static void run_bulk(const struct bulk *b, struct ep_track_env *e)
{
	uint32_t nseg = b->window * b->rounds, gap = b->rtt_us / b->window, R = b->rtt_us;
	uint32_t t0 = 100000, k, n = 0, first_unacked = 0, hi = 0, L, retx_t = 0, last_ack = 0;
	struct ev *ev = calloc((size_t)nseg * 2 + 16, sizeof(*ev));
	struct ep_tcp f;
	int recovered = 0;

#define TSEND(k) (t0 + ((k) / b->gso) * b->gso * gap)
#define START(k) (b->isn + 1 + (k) * MSS)
	memset(e, 0, sizeof(*e));
	handshake(e, &f, t0 - 50000, b->isn, b->ts, tsval_at(b, t0 - 50000));
	L = b->lose ? b->lose - 1 : UINT32_MAX;
	if (b->lose) {
		retx_t = TSEND(L + 3) + R;
		ev[n++] = (struct ev){retx_t, START(L), 101, MSS, tsval_at(b, retx_t), 8, 1, SRV, 1};
	}
	for (k = 0; k < nseg; k++) {
		uint32_t t = TSEND(k);

		if (!b->as_super || k % b->gso == 0)
			ev[n++] = (struct ev){t, START(k), 101, b->as_super ? b->gso * MSS : MSS,
					      tsval_at(b, t), 8, b->as_super ? b->gso : 1, SRV, 2};
		if (k == L)
			continue; /* never arrives */
		if (k > L && t < retx_t) {
			/* Out of order at the receiver: a duplicate ACK at once. */
			ev[n++] = (struct ev){t + R, 101, START(L), 0, 9, tsval_at(b, t0), 1, CLI, 0};
			hi = k;
			continue;
		}
		if (k > L && !recovered) {
			/* The resend arrived: one ACK for everything sent before it. */
			ev[n++] = (struct ev){retx_t + R, 101, START(hi + 1), 0, 9,
					      tsval_at(b, retx_t), 1, CLI, 0};
			first_unacked = k;
			recovered = 1;
		}
		if ((k + 1) % b->ack_every == 0 || k + 1 == nseg) {
			/* The receiver's and the path's jitter: 0 to one gap. */
			uint32_t at = t + R + ((k * 2654435761u) >> 16) % (gap + 1);

			at = at < last_ack ? last_ack : at; /* ACKs stay in order */
			last_ack = at;
			ev[n++] = (struct ev){at, 101, START(k + 1), 0, 9,
					      tsval_at(b, TSEND(first_unacked)), 1, CLI, 0};
			first_unacked = k + 1;
		}
	}
#undef TSEND
#undef START
	for (k = 0; k < n; k++)
		ev[k].idx = k;
	qsort(ev, n, sizeof(*ev), ev_cmp);
	for (k = 0; k < n; k++)
		seg(e, &f, ev[k].side, ev[k].t, EP_TCP_ACK, ev[k].seq, ev[k].ack, ev[k].len, b->ts,
		    ev[k].tsval, ev[k].tsecr, ev[k].segs, ev[k].segs > 1 ? MSS : 0);
	free(ev);
}

static uint32_t vmin(const struct ep_track_env *e)
{
	uint32_t i, m = UINT32_MAX;

	for (i = 0; i < e->n; i++)
		m = e->v[i] < m ? e->v[i] : m;
	return m;
}

static uint32_t vmax(const struct ep_track_env *e)
{
	uint32_t i, m = 0;

	for (i = 0; i < e->n; i++)
		m = e->v[i] > m ? e->v[i] : m;
	return m;
}

/* Samples in the last half of the run: the sampler keeps up with a long transfer. */
static uint32_t late_samples(const struct ep_track_env *e)
{
	return e->n - e->n / 2;
}

static struct ep_track_env E, E2;

/*
 * At least one sample per round trip, each the path's round trip (plus at most
 * three segment gaps: the receiver waiting for a delayed ACK's second segment,
 * a TSval first sent one segment before the one that is acknowledged, and the
 * ACK's jitter).
 */
static void check_yield(const char *what, const struct bulk *b, const struct ep_track_env *e)
{
	uint32_t gap = b->rtt_us / b->window, slack = 3 * gap * b->gso + b->tick_us * (b->ts != 0);

	if (e->n < b->rounds || vmin(e) < b->rtt_us || vmax(e) > b->rtt_us + slack)
		fprintf(stderr, "%s: %u samples over %u round trips, %u..%u us (rtt %u, slack %u)\n",
			what, e->n, b->rounds, vmin(e), vmax(e), b->rtt_us, slack);
	CHECK(e->n >= b->rounds);
	CHECK(late_samples(e) >= b->rounds / 2 - 1);
	CHECK(vmin(e) >= b->rtt_us);
	CHECK(vmax(e) <= b->rtt_us + slack);
}

static void test_bulk_windows(void)
{
	static const uint32_t windows[] = {4, 16, 64, 512};
	uint32_t i;
	int ts;

	for (ts = 0; ts <= 1; ts++) {
		for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
			struct bulk b = {20000, windows[i], 40, 2, ts, 1000, 5000, 1000, 1, 0, 0};

			run_bulk(&b, &E);
			check_yield(ts ? "timestamps, 1 ms clock" : "data/ACK", &b, &E);
			/* Candidates waited instead of replacing: nothing was lost unanswered. */
			CHECK_EQ(E.stats[EP_ST_rtt_pend_expired], 0);
			CHECK_EQ(E.stats[EP_ST_rtt_karn_discard], 0);
			if (windows[i] > 8)
				CHECK(E.stats[EP_ST_rtt_pend_full] > 0);
		}
	}
}

/* TSval steps: one per packet, many per packet (a microsecond clock), both across the wrap. */
static void test_bulk_tsval_clocks(void)
{
	struct bulk one = {20000, 64, 30, 2, 1, 20000 / 64, 0xffffffffu - 40, 0xfffff000u, 1, 0, 0};
	struct bulk many = {60000, 64, 30, 2, 1, 1, 0xffffffffu - 200000, 7, 1, 0, 0};
	struct bulk single = {5000, 64, 30, 1, 1, 1000, 77, 7, 1, 0, 0};

	run_bulk(&one, &E);
	check_yield("TSval +1 per packet across the wrap", &one, &E);
	run_bulk(&many, &E);
	check_yield("TSval +937 per packet across the wrap", &many, &E);
	run_bulk(&single, &E);
	check_yield("an ACK per segment, 1 ms clock over 78 us gaps", &single, &E);
	CHECK_EQ(E.stats[EP_ST_rtt_ts_jump], 0);
}

/* A lost segment: no sample spans the recovery (Karn, or the retired TSvals). */
static void test_bulk_loss(void)
{
	int ts;

	for (ts = 0; ts <= 1; ts++) {
		struct bulk b = {20000, 64, 30, 2, ts, 1000, 5000, 1000, 1, 0, 64 * 10 + 5};

		run_bulk(&b, &E);
		check_yield(ts ? "loss, timestamps" : "loss, data/ACK", &b, &E);
		if (ts)
			CHECK(E.stats[EP_ST_rtt_pend_retired] > 0);
		else
			CHECK(E.stats[EP_ST_rtt_karn_discard] > 0);
	}
}

/* GSO super-packets give the samples their wire segments give. */
static void test_gso_equals_wire(void)
{
	int ts;

	for (ts = 0; ts <= 1; ts++) {
		struct bulk w = {5000, 64, 30, 2, ts, 1000, 5000, 1000, 16, 0, 0};
		struct bulk s = w;
		uint32_t i;
		int same;

		s.as_super = 1;
		run_bulk(&w, &E);
		run_bulk(&s, &E2);
		same = E.n == E2.n;
		for (i = 0; same && i < E.n; i++)
			same = E.v[i] == E2.v[i];
		if (!same || E.n < w.rounds)
			fprintf(stderr, "gso (ts %d): %u samples as wire segments, %u as super-packets\n",
				ts, E.n, E2.n);
		CHECK(same);
		CHECK(E.n >= w.rounds);
		if (!ts)
			CHECK(E2.stats[EP_ST_gso_split] > 0);
	}
}

/* ------------------------------------------------------------------------ */
/* Hand-made sequences                                                        */
/* ------------------------------------------------------------------------ */

/* An empty record E and a flow f past its handshake (server ISN 1000, first data byte 1001). */
static struct ep_track_env *fresh(struct ep_tcp *f, int ts, uint32_t tsval)
{
	memset(&E, 0, sizeof(E));
	handshake(&E, f, 0, 1000, ts, tsval);
	return &E;
}

/* Delayed, duplicate, SACK-carrying and reordered ACKs without timestamps. */
static void test_acks(void)
{
	struct ep_tcp f;
	struct ep_track_env *e = fresh(&f, 0, 0);
	uint32_t s0 = 1001;

	CHECK_EQ(e->hs, 1);
	/* Three segments in flight, then a fourth that has to wait for a slot. */
	seg(e, &f, SRV, 10000, EP_TCP_ACK, s0, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 10100, EP_TCP_ACK, s0 + 1000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 10200, EP_TCP_ACK, s0 + 2000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 10300, EP_TCP_ACK, s0 + 3000, 101, 1000, 0, 0, 0, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_full], 1);
	/* A duplicate ACK with SACK blocks for the 2nd and 3rd: not a cumulative ACK. */
	seg(e, &f, CLI, 30000, EP_TCP_ACK, 101, s0, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 0);
	/* A delayed ACK covering the first two: one sample, from the second's send. */
	seg(e, &f, CLI, 30150, EP_TCP_ACK, 101, s0 + 2000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 1);
	CHECK_EQ(e->v[0], 30150 - 10100);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_retired], 1);
	/* Its duplicate, and an older ACK arriving late: nothing more. */
	seg(e, &f, CLI, 30160, EP_TCP_ACK, 101, s0 + 2000, 0, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 30170, EP_TCP_ACK, 101, s0 + 1000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 1);
	/* A partial ACK inside the third segment is not its answer; the full one is. */
	seg(e, &f, CLI, 30180, EP_TCP_ACK, 101, s0 + 2500, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 1);
	seg(e, &f, CLI, 30200, EP_TCP_ACK, 101, s0 + 3000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 2);
	CHECK_EQ(e->v[1], 30200 - 10200);
	/* A segment seen out of order on the sending side is no candidate. */
	seg(e, &f, SRV, 40000, EP_TCP_ACK, s0 + 5000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 40100, EP_TCP_ACK, s0 + 4000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 60100, EP_TCP_ACK, 101, s0 + 6000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 3);
	CHECK_EQ(e->v[2], 60100 - 40000);
	/* Karn: a resent segment voids the outstanding ones after it. */
	seg(e, &f, SRV, 70000, EP_TCP_ACK, s0 + 6000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 70100, EP_TCP_ACK, s0 + 7000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 90000, EP_TCP_ACK, s0 + 6000, 101, 1000, 0, 0, 0, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_karn_discard], 2);
	seg(e, &f, CLI, 110000, EP_TCP_ACK, 101, s0 + 8000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 3);
}

/* Timestamps: first echo, retired older TSvals, expiry, a TSval clock jumping back. */
static void test_tsvals(void)
{
	struct ep_tcp f;
	struct ep_track_env *e = fresh(&f, 1, 500);
	uint32_t s0 = 1001, i;

	for (i = 0; i < 5; i++) /* TSvals 501..505; 504 and 505 wait */
		seg(e, &f, SRV, 10000 + i * 1000, EP_TCP_ACK, s0 + i * 1000, 101, 1000, 1, 501 + i,
		    8, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_full], 2);
	/* 502 is echoed first (501's ACK was not seen): 501 can never be, it is retired. */
	seg(e, &f, CLI, 31000, EP_TCP_ACK, 101, s0 + 2000, 0, 1, 9, 502, 1, 0);
	CHECK_EQ(e->n, 1);
	CHECK_EQ(e->v[0], 31000 - 11000);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_retired], 1);
	/* A second echo of 502 is not a first echo. */
	seg(e, &f, CLI, 31500, EP_TCP_ACK, 101, s0 + 2000, 0, 1, 9, 502, 1, 0);
	CHECK_EQ(e->n, 1);
	/* A copy of an already-seen TSval is not its first appearance. */
	seg(e, &f, SRV, 32000, EP_TCP_ACK, s0 + 5000, 101, 1000, 1, 505, 8, 1, 0);
	seg(e, &f, CLI, 52000, EP_TCP_ACK, 101, s0 + 6000, 0, 1, 9, 505, 1, 0);
	CHECK_EQ(e->n, 1); /* 505 was not taken when first seen, and 503 is retired */
	/* Unanswered: slots fill, and free after EP_PEND_MAX_US. */
	for (i = 0; i < 3; i++)
		seg(e, &f, SRV, 60000 + i * 1000, EP_TCP_ACK, s0 + (6 + i) * 1000, 101, 1000, 1,
		    600 + i, 8, 1, 0);
	seg(e, &f, SRV, 63000, EP_TCP_ACK, s0 + 9000, 101, 1000, 1, 700, 8, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_expired], 0);
	seg(e, &f, SRV, 60000 + EP_PEND_MAX_US + 5000, EP_TCP_ACK, s0 + 10000, 101, 1000, 1, 9000,
	    8, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_expired], 3);
	seg(e, &f, CLI, 60000 + EP_PEND_MAX_US + 25000, EP_TCP_ACK, 101, s0 + 11000, 0, 1, 9, 9000,
	    1, 0);
	CHECK_EQ(e->n, 2);
	CHECK_EQ(e->v[1], 20000);
	/* The sender's TSval clock restarts far behind: sampling goes on from the new values. */
	seg(e, &f, SRV, 9000000, EP_TCP_ACK, s0 + 11000, 101, 1000, 1, 9000 - 2 * EP_TSVAL_JUMP,
	    8, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_ts_jump], 1);
	seg(e, &f, CLI, 9030000, EP_TCP_ACK, 101, s0 + 12000, 0, 1, 9, 9000 - 2 * EP_TSVAL_JUMP, 1,
	    0);
	CHECK_EQ(e->n, 3);
	CHECK_EQ(e->v[2], 30000);
	/* A little behind is reordering, not a jump. */
	seg(e, &f, SRV, 9040000, EP_TCP_ACK, s0 + 12000, 101, 1000, 1, 9000 - 2 * EP_TSVAL_JUMP - 5,
	    8, 1, 0);
	CHECK_EQ(e->stats[EP_ST_rtt_ts_jump], 1);
}

/* An ACK from the client carrying blocks SACK blocks (the remote holds a hole). */
static void ack_sack(struct ep_track_env *e, struct ep_tcp *f, uint32_t t_us, uint32_t ack,
		     uint32_t tsecr, uint8_t blocks)
{
	struct ep_pkt p;

	memset(&p, 0, sizeof(p));
	p.flags = EP_TCP_ACK;
	p.seq = 101;
	p.ack = ack;
	p.win = 1000;
	p.opts = EP_OPT_TS | (blocks ? EP_OPT_SACK : 0);
	p.sack_blocks = blocks;
	p.tsval = 9;
	p.tsecr = tsecr;
	e->now = t_us;
	ep_tcp_segment(e, f, &p, CLI, 1, 0);
}

static uint32_t pending(const struct ep_tcp *f)
{
	return (uint32_t)__builtin_popcount(f->pend_mask & EP_PEND_SLOTS);
}

/*
 * Timestamps under a hole: a TSval that replaces a retired one, and a step
 * boundary crossed, wait for a retransmission (new data's is never echoed
 * first); with the hole filled, new data's is taken again.
 */
static void test_ts_hole(void)
{
	struct ep_tcp f;
	struct ep_track_env *e = fresh(&f, 1, 490);
	uint32_t s0 = 1001;

	seg(e, &f, SRV, 10000, EP_TCP_ACK, s0, 101, 1000, 1, 500, 8, 1, 0); /* the first: taken */
	CHECK_EQ(pending(&f), 1);
	f.pend_kind = (uint8_t)(EP_PEND_TS | 4u << EP_PEND_STEP_SHIFT); /* 16 ticks per boundary */
	seg(e, &f, SRV, 11000, EP_TCP_ACK, s0 + 1000, 101, 1000, 1, 501, 8, 1, 0);
	CHECK_EQ(pending(&f), 1); /* no boundary crossed */
	/* 500's segment is lost: a duplicate ACK with a SACK block echoes 501, 500 retires. */
	ack_sack(e, &f, 31000, s0, 501, 1);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_retired], 1);
	CHECK_EQ(pending(&f), 0);
	/* Its replacement: not new data while the hole lasts, the retransmission. */
	seg(e, &f, SRV, 32000, EP_TCP_ACK, s0 + 2000, 101, 1000, 1, 502, 8, 1, 0);
	CHECK_EQ(pending(&f), 0);
	seg(e, &f, SRV, 33000, EP_TCP_ACK, s0, 101, 1000, 1, 503, 8, 1, 0);
	CHECK_EQ(pending(&f), 1);
	ack_sack(e, &f, 53000, s0 + 3000, 503, 0);
	CHECK_EQ(e->n, 1);
	CHECK_EQ(e->v[0], 20000);
	/* A boundary crossed under a hole waits for a retransmission too. */
	ack_sack(e, &f, 54000, s0 + 3000, 503, 1);
	seg(e, &f, SRV, 55000, EP_TCP_ACK, s0 + 3000, 101, 1000, 1, 512, 8, 1, 0);
	CHECK_EQ(pending(&f), 0);
	seg(e, &f, SRV, 56000, EP_TCP_ACK, s0 + 3000, 101, 1000, 1, 513, 8, 1, 0); /* resent */
	CHECK_EQ(pending(&f), 1);
	ack_sack(e, &f, 76000, s0 + 4000, 513, 0);
	CHECK_EQ(e->n, 2);
	CHECK_EQ(e->v[1], 20000);
	/* The hole filled: a boundary takes new data's TSval again. */
	seg(e, &f, SRV, 77000, EP_TCP_ACK, s0 + 4000, 101, 1000, 1, 530, 8, 1, 0);
	CHECK_EQ(pending(&f), 1);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_full], 0);
}

/*
 * Weights: an in-flow sample stands for the remote's new echoes (a changed
 * cumulative ACK, or TSecr) since the flow's sample before it, duplicates not
 * counted, at most 255; the handshake's are not.
 */
static void test_weights(void)
{
	struct ep_tcp f;
	struct ep_track_env *e = fresh(&f, 0, 0);
	uint32_t s0 = 1001, i;

	for (i = 0; i < 4; i++) /* three taken, the fourth finds every slot waiting */
		seg(e, &f, SRV, 10000 + i * 100, EP_TCP_ACK, s0 + i * 1000, 101, 1000, 0, 0, 0, 1,
		    0);
	CHECK_EQ(e->stats[EP_ST_rtt_pend_full], 1);
	seg(e, &f, CLI, 30000, EP_TCP_ACK, 101, s0, 0, 0, 0, 0, 1, 0); /* a duplicate */
	for (i = 1; i <= 4; i++) /* one ACK per segment: three samples; the fourth answers none */
		seg(e, &f, CLI, 30000 + i * 100, EP_TCP_ACK, 101, s0 + i * 1000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 3);
	CHECK(e->w[0] == 1 && e->w[1] == 1 && e->w[2] == 1);
	/* The next sample stands for the fourth's ACK too; a duplicate still does not count. */
	seg(e, &f, SRV, 40000, EP_TCP_ACK, s0 + 4000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 60000, EP_TCP_ACK, 101, s0 + 4000, 0, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 60100, EP_TCP_ACK, 101, s0 + 5000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 4);
	CHECK_EQ(e->w[3], 2);
	CHECK_EQ(e->v[3], 20100);
	/* 300 partial ACKs before the full one: the weight stops at 255. */
	seg(e, &f, SRV, 70000, EP_TCP_ACK, s0 + 5000, 101, 1000, 0, 0, 0, 1, 0);
	for (i = 1; i <= 300; i++)
		seg(e, &f, CLI, 80000 + i, EP_TCP_ACK, 101, s0 + 5000 + i, 0, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 90000, EP_TCP_ACK, 101, s0 + 6000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 5);
	CHECK_EQ(e->w[4], 255);
	CHECK_EQ(e->stats[EP_ST_rtt_data_timed], 5);
	/*
	 * A retransmission (Karn): the ACKs before it (two) weigh on the sample
	 * before them, without counting as an RTT measured; the ACKs after it
	 * may answer the resend, and until the next sample they do not count.
	 */
	seg(e, &f, SRV, 100000, EP_TCP_ACK, s0 + 6000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 100100, EP_TCP_ACK, 101, s0 + 6300, 0, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 100150, EP_TCP_ACK, 101, s0 + 6500, 0, 0, 0, 0, 1, 0);
	seg(e, &f, SRV, 100200, EP_TCP_ACK, s0 + 6500, 101, 500, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 6);
	CHECK_EQ(e->v[5], e->v[4]);
	CHECK_EQ(e->w[5], 2);
	CHECK_EQ(e->stats[EP_ST_rtt_data_timed], 5);
	CHECK_EQ(e->stats[EP_ST_rtt_karn_credit], 1);
	seg(e, &f, SRV, 100300, EP_TCP_ACK, s0 + 7000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 110000, EP_TCP_ACK, 101, s0 + 7000, 0, 0, 0, 0, 1, 0); /* the resend's */
	seg(e, &f, CLI, 120300, EP_TCP_ACK, 101, s0 + 8000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 7);
	CHECK_EQ(e->v[6], 20000);
	CHECK_EQ(e->w[6], 1);
	/* Then the ACKs count again: a resend with none since the sample adds nothing. */
	seg(e, &f, SRV, 130000, EP_TCP_ACK, s0 + 8000, 101, 1000, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 150000, EP_TCP_ACK, 101, s0 + 8500, 0, 0, 0, 0, 1, 0);
	seg(e, &f, CLI, 150100, EP_TCP_ACK, 101, s0 + 9000, 0, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 8);
	CHECK_EQ(e->w[7], 2);
	seg(e, &f, SRV, 150200, EP_TCP_ACK, s0 + 8500, 101, 500, 0, 0, 0, 1, 0);
	CHECK_EQ(e->n, 8);
	CHECK_EQ(e->stats[EP_ST_rtt_karn_credit], 1);

	/* Timestamps: echoes are TSecr values; the handshake's echo of 500 is not one. */
	e = fresh(&f, 1, 500);
	for (i = 0; i < 4; i++) /* TSvals 501..504: 504 finds every slot waiting */
		seg(e, &f, SRV, 10000 + i * 1000, EP_TCP_ACK, s0 + i * 1000, 101, 1000, 1, 501 + i,
		    8, 1, 0);
	seg(e, &f, CLI, 30000, EP_TCP_ACK, 101, s0, 0, 1, 9, 500, 1, 0);
	for (i = 1; i <= 4; i++) { /* each echoed twice */
		uint32_t t = 30000 + i * 1000, ack = s0 + i * 1000;

		seg(e, &f, CLI, t, EP_TCP_ACK, 101, ack, 0, 1, 9, 500 + i, 1, 0);
		seg(e, &f, CLI, t + 100, EP_TCP_ACK, 101, ack, 0, 1, 9, 500 + i, 1, 0);
	}
	CHECK_EQ(e->n, 3);
	CHECK(e->w[0] == 1 && e->w[1] == 1 && e->w[2] == 1);
	seg(e, &f, SRV, 40000, EP_TCP_ACK, s0 + 4000, 101, 1000, 1, 540, 8, 1, 0);
	seg(e, &f, CLI, 60000, EP_TCP_ACK, 101, s0 + 5000, 0, 1, 9, 540, 1, 0);
	CHECK_EQ(e->n, 4);
	CHECK_EQ(e->w[3], 2);
}

/* Segments towards the remote past 2^24: the count and its retransmissions halve together. */
static void test_out_counts(void)
{
	struct ep_tcp f;

	memset(&f, 0, sizeof(f));
	f.data_out = EP_TCP_OUT_MAX - 10;
	f.retx_out = 1000;
	ep_tcp_count_out(&f, 11, 1);
	CHECK_EQ(f.data_out, (EP_TCP_OUT_MAX - 10) / 2 + 11);
	CHECK_EQ(f.retx_out, 500 + 11);
	ep_tcp_count_out(&f, 0xffffffffu, 1); /* a hostile count is bounded */
	CHECK(f.data_out <= EP_TCP_OUT_MAX && f.retx_out <= f.data_out);
}

int main(void)
{
	test_bulk_windows();
	test_bulk_tsval_clocks();
	test_bulk_loss();
	test_gso_equals_wire();
	test_acks();
	test_tsvals();
	test_ts_hole();
	test_weights();
	test_out_counts();
	CHECK_DONE();
}
