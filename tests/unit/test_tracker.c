/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tracker.c - the tracker's rules on hand-made segment sequences: both
 * handshake cases, Karn, timestamp and data/ACK samples, sequence and TSval
 * wrap, keepalives, zero-window probes, reordering, roles, eviction under a
 * SYN flood, windows and flow ends.
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "tracker.h"

#define NASN 4
static const uint32_t asns[NASN] = {0, 64501, 64502, 64503};

/* Everything the windows carried, per test ASN. */
struct acc {
	uint64_t c[NASN][EP_AC__COUNT];
	struct ep_hist *h[NASN][EP_AH__COUNT];
	uint64_t windows, misaligned, last_stats[EP_ST__COUNT];
	uint64_t starts[64];
};

static struct ep_asn_map *map;
static struct ep_netset local;

static void on_window(const struct ep_window *w, void *ctx)
{
	struct acc *a = ctx;
	uint32_t i, k, j;

	if (a->windows < 64)
		a->starts[a->windows] = w->start_ns;
	a->windows++;
	if (w->start_ns % 100000000ull || w->end_ns - w->start_ns != 100000000ull)
		a->misaligned++;
	memcpy(a->last_stats, w->stats, sizeof(a->last_stats));
	for (i = 0; i < w->nasns; i++) {
		for (j = 0; j < NASN && asns[j] != w->asns[i].asn; j++)
			;
		if (j == NASN)
			continue;
		for (k = 0; k < EP_AC__COUNT; k++)
			a->c[j][k] += w->asns[i].c[k];
		for (k = 0; k < EP_AH__COUNT; k++)
			if (w->asns[i].h[k])
				ep_hist_add(a->h[j][k], w->asns[i].h[k]);
	}
}

static struct ep_tracker *mk(struct acc *a, int use_local, uint32_t max_flows)
{
	struct ep_tracker_cfg cfg;
	struct ep_tracker *t;
	int j, k;

	memset(a, 0, sizeof(*a));
	for (j = 0; j < NASN; j++)
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_hist_new(1, 60000000, 2, &a->h[j][k]);
	ep_tracker_cfg_defaults(&cfg);
	cfg.max_flows = max_flows;
	cfg.asn = map;
	cfg.local = use_local ? &local : NULL;
	cfg.on_window = on_window;
	cfg.ctx = a;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	return t;
}

static void done(struct acc *a, struct ep_tracker *t)
{
	int j, k;

	ep_tracker_free(t);
	for (j = 0; j < NASN; j++)
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_hist_free(a->h[j][k]);
}

struct seg {
	const char *src, *dst;
	uint16_t sp, dp;
	uint8_t flags;
	uint32_t seq, ack, len;
	uint16_t win;
	int ts;
	uint32_t tsval, tsecr;
};

static uint64_t base_ns = 1000000000000ull; /* 1000 s: an aligned start */

static void send_at(struct ep_tracker *t, uint64_t t_us, struct seg s)
{
	struct ep_pkt p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(s.src, ':') ? 6 : 4;
	inet_pton(p.family == 4 ? AF_INET : AF_INET6, s.src, p.src);
	inet_pton(p.family == 4 ? AF_INET : AF_INET6, s.dst, p.dst);
	p.sport = s.sp;
	p.dport = s.dp;
	p.flags = s.flags;
	p.seq = s.seq;
	p.ack = s.ack;
	p.payload_len = s.len;
	p.win = s.win ? s.win : 1000;
	if (s.ts) {
		p.opts |= EP_OPT_TS;
		p.tsval = s.tsval;
		p.tsecr = s.tsecr;
	}
	ep_tracker_count_parse(t, EP_PARSE_OK);
	ep_tracker_packet(t, &p, base_ns + t_us * 1000);
}

#define CLI "198.51.100.7"
#define SRV "192.0.2.1"
#define RSRV "203.0.113.5"
#define SYN EP_TCP_SYN
#define ACK EP_TCP_ACK
#define SA (EP_TCP_SYN | EP_TCP_ACK)
#define FIN (EP_TCP_FIN | EP_TCP_ACK)

/* |got - want| within the 2-digit bucket width (want < 2^15: 128 us). */
#define NEAR(got, want) CHECK((got) >= (want) && (got) <= (want) + (want) / 100 + 1)

/* Remote client: SYN-ACK seen -> client's ACK.  Then data/ACK samples without timestamps. */
static void test_remote_client(int use_local)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, use_local, 1024);

	send_at(t, 0, (struct seg){CLI, SRV, 40000, 443, SYN, 100, 0, 0});
	send_at(t, 50, (struct seg){SRV, CLI, 443, 40000, SA, 5000, 101, 0});
	send_at(t, 20050, (struct seg){CLI, SRV, 40000, 443, ACK, 101, 5001, 0});
	/* Request from the client, then 3 data segments each acked after 15 ms. */
	send_at(t, 20100, (struct seg){CLI, SRV, 40000, 443, ACK, 101, 5001, 100});
	send_at(t, 20200, (struct seg){SRV, CLI, 443, 40000, ACK, 5001, 201, 1000});
	send_at(t, 35200, (struct seg){CLI, SRV, 40000, 443, ACK, 201, 6001, 0});
	send_at(t, 35300, (struct seg){SRV, CLI, 443, 40000, ACK, 6001, 201, 1000});
	send_at(t, 50300, (struct seg){CLI, SRV, 40000, 443, ACK, 201, 7001, 0});
	/* A retransmission (Karn: its ACK gives no sample). */
	send_at(t, 50400, (struct seg){SRV, CLI, 443, 40000, ACK, 7001, 201, 1000});
	send_at(t, 250400, (struct seg){SRV, CLI, 443, 40000, ACK, 7001, 201, 1000});
	send_at(t, 265400, (struct seg){CLI, SRV, 40000, 443, ACK, 201, 8001, 0});
	/* Close. */
	send_at(t, 265500, (struct seg){SRV, CLI, 443, 40000, FIN, 8001, 201, 0});
	send_at(t, 280500, (struct seg){CLI, SRV, 40000, 443, FIN, 201, 8002, 0});
	ep_tracker_finish(t);

	CHECK_EQ(a.c[1][EP_AC_flows_new], 1);
	CHECK_EQ(a.c[1][EP_AC_flows_closed], 1);
	CHECK_EQ(a.c[1][EP_AC_segs_out], 6);
	CHECK_EQ(a.c[1][EP_AC_segs_in], 7);
	CHECK_EQ(a.c[1][EP_AC_retx_out], 1);
	CHECK_EQ(a.c[1][EP_AC_retx_in], 0);
	CHECK_EQ(a.h[1][EP_AH_RTT_HS]->total, 1);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_HS], 50), 20000);
	CHECK_EQ(a.h[1][EP_AH_RTT_DATA]->total, 2);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_DATA], 100), 15000);
	CHECK(ep_hist_percentile(a.h[1][EP_AH_RTT_DATA], 0) >= 14800);
	/* retx_ppm: 1 of 4 data segments sent = 250000 ppm. */
	CHECK_EQ(a.h[1][EP_AH_RETX_PPM]->total, 1);
	CHECK(llabs(ep_hist_percentile(a.h[1][EP_AH_RETX_PPM], 50) - 250000) < 250000 / 100 + 1);
	CHECK_EQ(a.misaligned, 0);
	done(&a, t);
}

/* Remote server: SYN -> SYN-ACK; Karn when the SYN is resent. */
static void test_remote_server(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);

	send_at(t, 0, (struct seg){SRV, RSRV, 50000, 443, SYN, 1, 0, 0});
	send_at(t, 30000, (struct seg){RSRV, SRV, 443, 50000, SA, 900, 2, 0});
	send_at(t, 30100, (struct seg){SRV, RSRV, 50000, 443, ACK, 2, 901, 0});
	/* Second connection: SYN resent, so no sample. */
	send_at(t, 40000, (struct seg){SRV, RSRV, 50001, 443, SYN, 1, 0, 0});
	send_at(t, 1040000, (struct seg){SRV, RSRV, 50001, 443, SYN, 1, 0, 0});
	send_at(t, 1070000, (struct seg){RSRV, SRV, 443, 50001, SA, 900, 2, 0});
	ep_tracker_finish(t);
	CHECK_EQ(a.c[2][EP_AC_flows_new], 2);
	CHECK_EQ(a.h[2][EP_AH_RTT_HS]->total, 1);
	NEAR(ep_hist_percentile(a.h[2][EP_AH_RTT_HS], 50), 30000);
	done(&a, t);
}

/* Remote client whose SYN-ACK is resent: no handshake sample. */
static void test_synack_karn(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);

	send_at(t, 0, (struct seg){CLI, SRV, 40000, 443, SYN, 100, 0, 0});
	send_at(t, 50, (struct seg){SRV, CLI, 443, 40000, SA, 5000, 101, 0});
	send_at(t, 1000050, (struct seg){SRV, CLI, 443, 40000, SA, 5000, 101, 0});
	send_at(t, 1020050, (struct seg){CLI, SRV, 40000, 443, ACK, 101, 5001, 0});
	ep_tracker_finish(t);
	CHECK_EQ(a.h[1][EP_AH_RTT_HS]->total, 0);
	done(&a, t);
}

/* Timestamps: first occurrence of a TSval, its first echo; TSval and sequence wrap. */
static void test_timestamps_and_wrap(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);
	uint32_t s = 0xffffff00u; /* server ISN just below 2^32 */
	uint32_t tv = 0xfffffff0u;

	send_at(t, 0, (struct seg){CLI, SRV, 40001, 443, SYN, 7, 0, 0, 0, 1, 50, 0});
	send_at(t, 10, (struct seg){SRV, CLI, 443, 40001, SA, s, 8, 0, 0, 1, tv, 50});
	send_at(t, 10010, (struct seg){CLI, SRV, 40001, 443, ACK, 8, s + 1, 0, 0, 1, 60, tv});
	/* Data with TSval tv+1 twice (second is not a first occurrence), echoed 25 ms later. */
	send_at(t, 10100, (struct seg){SRV, CLI, 443, 40001, ACK, s + 1, 8, 200, 0, 1, tv + 1, 60});
	send_at(t, 10150, (struct seg){SRV, CLI, 443, 40001, ACK, s + 201, 8, 200, 0, 1, tv + 1, 60});
	send_at(t, 35100, (struct seg){CLI, SRV, 40001, 443, ACK, 8, s + 401, 0, 0, 1, 70, tv + 1});
	/* Across the TSval wrap (and the sequence wrap at s + 256). */
	send_at(t, 40000, (struct seg){SRV, CLI, 443, 40001, ACK, s + 401, 8, 200, 0, 1, 5, 70});
	send_at(t, 45000, (struct seg){SRV, CLI, 443, 40001, ACK, s + 601, 8, 200, 0, 1, 9, 70});
	send_at(t, 65000, (struct seg){CLI, SRV, 40001, 443, ACK, 8, s + 801, 0, 0, 1, 80, 5});
	send_at(t, 70000, (struct seg){CLI, SRV, 40001, 443, ACK, 8, s + 801, 0, 0, 1, 81, 9});
	ep_tracker_finish(t);
	CHECK_EQ(a.c[1][EP_AC_retx_out], 0);
	CHECK_EQ(a.h[1][EP_AH_RTT_HS]->total, 1);
	CHECK_EQ(a.h[1][EP_AH_RTT_DATA]->total, 3);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_DATA], 1), 25000);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_DATA], 100), 25000);
	done(&a, t);
}

/* Zero-window probes, sent explicitly with a zero window from the client. */
static void test_zero_window_probe(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);
	struct ep_pkt p;

	send_at(t, 0, (struct seg){CLI, SRV, 40004, 443, SYN, 1, 0, 0});
	send_at(t, 10, (struct seg){SRV, CLI, 443, 40004, SA, 1000, 2, 0});
	send_at(t, 20, (struct seg){CLI, SRV, 40004, 443, ACK, 2, 1001, 0});
	send_at(t, 30, (struct seg){SRV, CLI, 443, 40004, ACK, 1001, 2, 1000});
	/* Client ACKs with window 0. */
	memset(&p, 0, sizeof(p));
	p.family = 4;
	inet_pton(AF_INET, CLI, p.src);
	inet_pton(AF_INET, SRV, p.dst);
	p.sport = 40004;
	p.dport = 443;
	p.flags = ACK;
	p.seq = 2;
	p.ack = 2001;
	p.win = 0;
	ep_tracker_packet(t, &p, base_ns + 40000);
	/* Probe: one new byte, then the same byte again. */
	send_at(t, 500, (struct seg){SRV, CLI, 443, 40004, ACK, 2001, 2, 1});
	send_at(t, 1500, (struct seg){SRV, CLI, 443, 40004, ACK, 2001, 2, 1});
	ep_tracker_finish(t);
	CHECK_EQ(a.c[1][EP_AC_retx_out], 0);
	done(&a, t);
}

static void test_reorder_and_keepalive(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);

	send_at(t, 0, (struct seg){CLI, SRV, 40002, 443, SYN, 1, 0, 0});
	send_at(t, 10, (struct seg){SRV, CLI, 443, 40002, SA, 1000, 2, 0});
	send_at(t, 20, (struct seg){CLI, SRV, 40002, 443, ACK, 2, 1001, 0});
	send_at(t, 100, (struct seg){SRV, CLI, 443, 40002, ACK, 2001, 2, 1000});
	send_at(t, 110, (struct seg){SRV, CLI, 443, 40002, ACK, 1001, 2, 1000}); /* fills the hole */
	send_at(t, 200, (struct seg){SRV, CLI, 443, 40002, ACK, 3000, 2, 1});     /* keepalive */
	send_at(t, 300, (struct seg){SRV, CLI, 443, 40002, ACK, 1001, 2, 1000}); /* a real resend */
	/* Client side: a keepalive with no data is not data at all. */
	send_at(t, 400, (struct seg){CLI, SRV, 40002, 443, ACK, 1, 3001, 0});
	ep_tracker_finish(t);
	CHECK_EQ(a.c[1][EP_AC_retx_out], 1);
	CHECK_EQ(a.c[1][EP_AC_retx_in], 0);
	done(&a, t);
}

/* Midstream pickup without --local-net: the higher port is the client, so the remote. */
static void test_midstream_roles(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 0, 1024);

	send_at(t, 0, (struct seg){SRV, "198.51.100.9", 443, 51000, ACK, 10, 20, 500});
	send_at(t, 12000, (struct seg){"198.51.100.9", SRV, 51000, 443, ACK, 20, 510, 0});
	/* IPv6 client in AS64503. */
	send_at(t, 20000, (struct seg){"2001:db8:1::5", "2001:db8:ff::1", 52000, 80, ACK, 1, 1, 0});
	ep_tracker_finish(t);
	CHECK_EQ(a.c[1][EP_AC_flows_new], 1);
	CHECK_EQ(a.c[1][EP_AC_segs_out], 1);
	CHECK_EQ(a.h[1][EP_AH_RTT_DATA]->total, 1);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_DATA], 50), 12000);
	CHECK_EQ(a.c[3][EP_AC_flows_new], 1);
	CHECK_EQ(a.c[0][EP_AC_flows_new], 0);
	done(&a, t);
}

/*
 * A random-source SYN flood, or a random-ACK flood (midstream pickups never
 * answered), must not grow the table or push out established flows.
 */
static void test_flood(int ack)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 64);
	uint64_t now = 0, max_active = 0;
	uint32_t x = 1;
	int i, f;
	char src[32];

	for (f = 0; f < 16; f++) {
		snprintf(src, sizeof(src), "198.51.100.%d", 10 + f);
		send_at(t, now++, (struct seg){src, SRV, 40000, 443, SYN, 1, 0, 0});
		send_at(t, now++, (struct seg){SRV, src, 443, 40000, SA, 1000, 2, 0});
		send_at(t, now++, (struct seg){src, SRV, 40000, 443, ACK, 2, 1001, 0});
	}
	for (i = 0; i < 20000; i++) {
		uint64_t *st;

		x = x * 1664525 + 1013904223;
		snprintf(src, sizeof(src), "203.0.113.%u", x >> 24);
		if (ack) /* random ACKs: midstream pickups never answered */
			send_at(t, now, (struct seg){src, SRV, (uint16_t)(x >> 8), 443, ACK, x, x * 7, 0});
		else
			send_at(t, now, (struct seg){src, SRV, (uint16_t)(x >> 8), 443, SYN, x, 0, 0});
		now += 5;
		/* Established flows keep talking: data and its ACK. */
		if (i % 500 == 0) {
			for (f = 0; f < 16; f++) {
				uint32_t seq = 1001 + (uint32_t)i * 2;

				snprintf(src, sizeof(src), "198.51.100.%d", 10 + f);
				send_at(t, now, (struct seg){SRV, src, 443, 40000, ACK, seq, 2, 2});
				send_at(t, now + 1000, (struct seg){src, SRV, 40000, 443, ACK, 2, seq + 2, 0});
			}
			now += 1000;
		}
		st = ep_tracker_stats(t);
		if (st[EP_ST_flows_active] > max_active)
			max_active = st[EP_ST_flows_active];
	}
	ep_tracker_finish(t);
	CHECK(max_active <= 64);
	CHECK_EQ(a.last_stats[EP_ST_flows_evicted], a.last_stats[EP_ST_evict_halfopen]);
	/* Each spoofed flow was evicted, or not admitted once admission engaged (window 2). */
	CHECK(a.last_stats[EP_ST_flows_evicted] + a.last_stats[EP_ST_syn_unsampled] > 19000);
	CHECK(a.last_stats[EP_ST_flows_evicted] > 10000);
	/* Every established flow stayed: one flow each, 40 samples each. */
	CHECK_EQ(a.c[1][EP_AC_flows_new], 16);
	CHECK_EQ(a.h[1][EP_AH_RTT_DATA]->total, 16 * 40);
	done(&a, t);
}

/*
 * A SYN flood over several windows with slow (600 ms) and fast (10 ms) real
 * handshakes among it: admission engages after the first window, every real
 * handshake is either sampled or counted unsampled for its ASN, and the slow
 * ones survive in the same share as the fast ones.
 */
static void test_syn_admission(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 16384);
	uint32_t x = 7, i, slow = 0, fast = 0, n[2] = {0, 0}, head[2] = {0, 0};
	struct {
		uint64_t at;
		uint16_t port;
	} acks[2][1024]; /* due ACKs, near and far, each in time order */
	char src[32];
	uint64_t now;

	for (now = 0; now < 3000000; now += 10) { /* 3 s, 100,000 spoofed SYNs per second */
		x = x * 1664525 + 1013904223;
		snprintf(src, sizeof(src), "198.18.%u.%u", (x >> 16) & 0xff, x >> 24);
		send_at(t, now, (struct seg){src, SRV, (uint16_t)(x >> 8), 443, SYN, x, 0, 0});
		if (now % 2000 == 0 && now >= 300000 && now < 2300000) {
			/* A real client every 2 ms; odd ports 600 ms away (AS64502), even 10 ms (AS64501). */
			uint16_t port = (uint16_t)(10000 + now / 2000);
			int far = port & 1;

			send_at(t, now, (struct seg){far ? RSRV : CLI, SRV, port, 443, SYN, 1, 0, 0});
			send_at(t, now, (struct seg){SRV, far ? RSRV : CLI, 443, port, SA, 9, 2, 0});
			acks[far][n[far]].at = now + (far ? 600000 : 10000);
			acks[far][n[far]++].port = port;
			far ? slow++ : fast++;
		}
		/* The clients' ACKs of the SYN-ACKs, when due. */
		for (i = 0; i < 2; i++) {
			while (head[i] < n[i] && acks[i][head[i]].at <= now) {
				send_at(t, now, (struct seg){i ? RSRV : CLI, SRV, acks[i][head[i]].port,
							     443, ACK, 2, 10, 0});
				head[i]++;
			}
		}
	}
	ep_tracker_finish(t);
	CHECK(a.last_stats[EP_ST_syn_unsampled] > 200000);
	/* Every real handshake is sampled or counted, for its own ASN. */
	CHECK_EQ(a.h[1][EP_AH_RTT_HS]->total + a.c[1][EP_AC_syn_unsampled], fast);
	CHECK_EQ(a.h[2][EP_AH_RTT_HS]->total + a.c[2][EP_AC_syn_unsampled], slow);
	/* The same share survives whatever the round trip (binomial: within 5 sigma). */
	i = (uint32_t)a.h[2][EP_AH_RTT_HS]->total;
	CHECK(a.h[1][EP_AH_RTT_HS]->total > 30 && i > 30);
	CHECK(llabs((long long)i - (long long)a.h[1][EP_AH_RTT_HS]->total) <
	      5 * (long long)sqrt((double)(i + a.h[1][EP_AH_RTT_HS]->total)) + 2);
	NEAR(ep_hist_percentile(a.h[2][EP_AH_RTT_HS], 50), 600000);
	NEAR(ep_hist_percentile(a.h[1][EP_AH_RTT_HS], 50), 10000);
	if (check_failed)
		fprintf(stderr, "admission: fast %u sampled %llu, slow %u sampled %u, unsampled %llu\n",
			fast, (unsigned long long)a.h[1][EP_AH_RTT_HS]->total, slow, i,
			(unsigned long long)a.last_stats[EP_ST_syn_unsampled]);
	done(&a, t);
}

/* More distinct ASNs than --max-asns: bounded, the rest in "other", counted. */
struct ovf {
	uint64_t max_nasns, other_flows, flows, windows;
	uint64_t overflow;
};

static void on_window_ovf(const struct ep_window *w, void *ctx)
{
	struct ovf *o = ctx;
	uint32_t i;

	o->windows++;
	if (w->nasns > o->max_nasns)
		o->max_nasns = w->nasns;
	for (i = 0; i < w->nasns; i++) {
		o->flows += w->asns[i].c[EP_AC_flows_new];
		if (w->asns[i].asn == EP_ASN_OTHER)
			o->other_flows += w->asns[i].c[EP_AC_flows_new];
	}
	o->overflow = w->stats[EP_ST_asn_overflow];
}

static void test_asn_overflow(void)
{
	static const char *const remotes[] = {"198.51.100.7", "203.0.113.7", "2001:db8:1::7",
					      "192.0.2.77"};
	struct ep_tracker_cfg cfg;
	struct ep_tracker *t;
	struct ovf o = {0};
	int i;

	ep_tracker_cfg_defaults(&cfg);
	cfg.max_asns = 2;
	cfg.asn = map;
	cfg.on_window = on_window_ovf;
	cfg.ctx = &o;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	/* Four ASNs (64501, 64502, 64503, 0), three flows each, over a few windows. */
	for (i = 0; i < 12; i++) {
		const char *r = remotes[i % 4];
		const char *srv = strchr(r, ':') ? "2001:db8:ff::1" : "192.0.2.1";

		send_at(t, (uint64_t)i * 30000,
			(struct seg){r, srv, (uint16_t)(40000 + i), 443, EP_TCP_SYN, 1, 0, 0});
	}
	ep_tracker_finish(t);
	CHECK(o.max_nasns <= 3); /* two ASNs and "other" */
	CHECK_EQ(o.flows, 12);
	CHECK_EQ(o.other_flows, 6);
	CHECK_EQ(o.overflow, 6);
	ep_tracker_free(t);
}

/* A window lists its ASNs in ascending order, however many (the radix sort past 64). */
struct order_acc {
	uint32_t windows, nasns, unordered;
};

static void on_window_order(const struct ep_window *w, void *ctx)
{
	struct order_acc *o = ctx;
	uint32_t i;

	o->windows++;
	o->nasns += w->nasns;
	for (i = 1; i < w->nasns; i++)
		o->unordered += w->asns[i - 1].asn >= w->asns[i].asn;
}

static void test_window_order(void)
{
	char path[] = "/tmp/ep_test_order_XXXXXX";
	const char *files[2] = {path, NULL};
	struct ep_asn_map *m;
	struct ep_tracker_cfg cfg;
	struct ep_tracker *t;
	struct order_acc o = {0};
	char err[256], src[32];
	FILE *fp = fdopen(mkstemp(path), "w");
	uint32_t i;

	/* 300 ASNs whose order is not the address order (two of them above 2^24). */
	for (i = 0; i < 300; i++)
		fprintf(fp, "10.%u.%u.0,10.%u.%u.255,%u,Org %u\n", 1 + i / 200, i % 200, 1 + i / 200, i % 200,
			i % 7 == 0 ? 20000000u + i * 977u : 4000000u - i * 13u, i);
	fclose(fp);
	if (ep_asn_map_load(files, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	unlink(path);
	ep_tracker_cfg_defaults(&cfg);
	cfg.asn = m;
	cfg.on_window = on_window_order;
	cfg.ctx = &o;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	for (i = 0; i < 300; i++) {
		uint32_t j = (i * 37) % 300;

		snprintf(src, sizeof(src), "10.%u.%u.9", 1 + j / 200, j % 200);
		send_at(t, i, (struct seg){src, SRV, 40000, 443, SYN, 1, 0, 0});
	}
	ep_tracker_finish(t);
	CHECK_EQ(o.nasns, 300);
	CHECK_EQ(o.unordered, 0);
	ep_tracker_free(t);
	ep_asn_map_free(m);
}

static void test_ratelimit(void)
{
	struct ep_ratelimit r = {0, 0};

	CHECK_EQ(ep_ratelimit(&r, 0, 1000, 10000), 0);   /* nothing to say */
	CHECK_EQ(ep_ratelimit(&r, 3, 1000, 10000), 3);   /* the first line goes out */
	CHECK_EQ(ep_ratelimit(&r, 5, 2000, 10000), 0);   /* held back ... */
	CHECK_EQ(ep_ratelimit(&r, 7, 10999, 10000), 0);
	CHECK_EQ(ep_ratelimit(&r, 1, 11000, 10000), 13); /* ... and counted in the next line */
	CHECK_EQ(ep_ratelimit(&r, 0, 30000, 10000), 0);
}

/* Windows align to the interval; RST without a flow; idle timeouts (established, one-sided). */
static void test_windows_and_timeouts(void)
{
	struct acc a;
	struct ep_tracker *t = mk(&a, 1, 1024);

	/* Flows heard from both sides are established: the long (300 s) idle timeout. */
	send_at(t, 50000, (struct seg){CLI, SRV, 40010, 443, ACK, 1, 1, 10});
	send_at(t, 50100, (struct seg){SRV, CLI, 443, 40010, ACK, 1, 11, 0});
	/* A flow queued at 0.06 s and used again at 200 s: not idle at 301 s. */
	send_at(t, 60000, (struct seg){CLI, SRV, 40013, 443, ACK, 1, 1, 10});
	send_at(t, 60100, (struct seg){SRV, CLI, 443, 40013, ACK, 1, 11, 0});
	send_at(t, 250000, (struct seg){CLI, SRV, 40011, 443, EP_TCP_RST, 1, 1, 0});
	send_at(t, 200000000, (struct seg){CLI, SRV, 40013, 443, ACK, 11, 1, 10});
	send_at(t, 301000000, (struct seg){CLI, SRV, 40012, 443, ACK, 1, 1, 10});
	send_at(t, 301000100, (struct seg){SRV, CLI, 443, 40012, ACK, 1, 11, 0});
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_timeout], 1);
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_active], 2);
	/* ... and idle by 501 s. */
	send_at(t, 501000000, (struct seg){CLI, SRV, 40012, 443, ACK, 11, 1, 10});
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_timeout], 2);
	/*
	 * A flow heard from one side only (a random ACK, or asymmetric routing) stays
	 * half-open: the short (10 s) timeout, and first in line for eviction.
	 */
	send_at(t, 502000000, (struct seg){CLI, SRV, 40014, 443, ACK, 1, 1, 10});
	send_at(t, 509000000, (struct seg){CLI, SRV, 40014, 443, ACK, 11, 1, 10});
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_timeout], 2);
	send_at(t, 520000000, (struct seg){CLI, SRV, 40015, 443, ACK, 1, 1, 10});
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_timeout], 3);
	CHECK_EQ(ep_tracker_stats(t)[EP_ST_flows_active], 2); /* 40012 and 40015 */
	ep_tracker_finish(t);
	CHECK_EQ(a.windows, 8);
	CHECK_EQ(a.misaligned, 0);
	CHECK_EQ(a.starts[0], base_ns);
	CHECK_EQ(a.starts[1], base_ns + 200000000ull);
	CHECK_EQ(a.last_stats[EP_ST_rst_no_flow], 1);
	CHECK_EQ(a.last_stats[EP_ST_flows_timeout], 3);
	CHECK_EQ(a.last_stats[EP_ST_flows_closed], 5);
	CHECK_EQ(a.last_stats[EP_ST_packets], 12);
	done(&a, t);
}

/* The burst path (prefetching, hints validated) gives exactly what packet-by-packet gives. */
static void test_burst_equals_single(void)
{
	enum { N = 6000 };
	static struct ep_pkt pk[N];
	static uint64_t tm[N];
	struct acc a, b;
	struct ep_tracker *ta = mk(&a, 1, 256), *tb = mk(&b, 1, 256);
	uint32_t x = 7, i, j, k;
	int same = 1;

	for (i = 0; i < N; i++) {
		struct ep_pkt *p = &pk[i];
		uint32_t f = (x = x * 1664525 + 1013904223) >> 24, kind = (x >> 8) % 10;
		int toward = (x >> 4) & 1;

		memset(p, 0, sizeof(*p));
		p->family = 4;
		inet_pton(AF_INET, "192.0.2.1", toward ? p->src : p->dst);
		p->src[0] = toward ? p->src[0] : 198;
		if (!toward) {
			p->src[1] = 51;
			p->src[2] = 100;
			p->src[3] = (uint8_t)(f & 63);
		} else {
			p->dst[0] = 198;
			p->dst[1] = 51;
			p->dst[2] = 100;
			p->dst[3] = (uint8_t)(f & 63);
		}
		p->sport = toward ? 443 : (uint16_t)(40000 + (f & 3));
		p->dport = toward ? (uint16_t)(40000 + (f & 3)) : 443;
		p->flags = kind == 0 ? EP_TCP_SYN : kind == 1 ? (EP_TCP_SYN | EP_TCP_ACK) :
			   kind == 2 ? (EP_TCP_FIN | EP_TCP_ACK) : kind == 3 ? EP_TCP_RST : EP_TCP_ACK;
		if (kind >= 8) { /* spoofed SYNs: a flood forcing evictions in mid-burst */
			p->src[3] = (uint8_t)(x >> 16);
			p->src[2] = (uint8_t)(x >> 8);
			p->sport = (uint16_t)x;
			p->flags = EP_TCP_SYN;
		}
		p->seq = i * 100;
		p->ack = i * 100 - 50;
		p->payload_len = kind >= 4 && kind < 8 && toward ? 100 : 0;
		p->opts = EP_OPT_TS;
		p->tsval = i;
		p->tsecr = i - 3;
		p->win = 100;
		tm[i] = base_ns + (uint64_t)i * 37000;
		if (i % 97 == 1) /* the same flow twice in one burst */
			pk[i] = pk[i - 1];
	}
	for (i = 0; i < N; i++) {
		ep_tracker_count_parse(ta, EP_PARSE_OK);
		ep_tracker_packet(ta, &pk[i], tm[i]);
	}
	for (i = 0; i < N; i += EP_TRACKER_BURST) {
		uint32_t n = N - i < EP_TRACKER_BURST ? N - i : EP_TRACKER_BURST;

		for (j = 0; j < n; j++)
			ep_tracker_count_parse(tb, EP_PARSE_OK);
		ep_tracker_burst(tb, &pk[i], &tm[i], n);
	}
	ep_tracker_finish(ta);
	ep_tracker_finish(tb);
	CHECK_EQ(a.windows, b.windows);
	for (k = 0; k < EP_ST__COUNT; k++)
		same &= a.last_stats[k] == b.last_stats[k];
	for (j = 0; j < NASN; j++) {
		for (k = 0; k < EP_AC__COUNT; k++)
			same &= a.c[j][k] == b.c[j][k];
		for (k = 0; k < EP_AH__COUNT; k++)
			same &= a.h[j][k]->total == b.h[j][k]->total &&
				ep_hist_percentile(a.h[j][k], 90) == ep_hist_percentile(b.h[j][k], 90);
	}
	CHECK(same);
	CHECK(a.last_stats[EP_ST_flows_evicted] > 100);
	CHECK(a.c[1][EP_AC_flows_new] > 10 && a.c[1][EP_AC_segs_out] > 100);
	done(&a, ta);
	done(&b, tb);
}

int main(void)
{
	char path[] = "/tmp/ep_test_asn_XXXXXX";
	const char *files[2] = {path, NULL};
	char err[256];
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fprintf(fp, "198.51.100.0,198.51.100.255,64501,Test One\n"
		    "203.0.113.0,203.0.113.255,64502,\"Test Two, Inc.\"\n"
		    "2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,64503,Test Three\n");
	fclose(fp);
	if (ep_asn_map_load(files, &map, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	unlink(path);
	ep_netset_parse(&local, "192.0.2.0/24,2001:db8:ff::/48", err, sizeof(err));

	test_remote_client(1);
	test_remote_client(0);
	test_remote_server();
	test_synack_karn();
	test_timestamps_and_wrap();
	test_zero_window_probe();
	test_reorder_and_keepalive();
	test_midstream_roles();
	test_flood(0);
	test_flood(1);
	test_syn_admission();
	test_ratelimit();
	test_window_order();
	test_asn_overflow();
	test_windows_and_timeouts();
	test_burst_equals_single();
	ep_asn_map_free(map);
	CHECK_DONE();
}
