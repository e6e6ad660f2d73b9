/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_core.c - micro-benchmarks of the shared core, reported in TSC cycles (and ns):
 * ASN map load and lookups, histogram record, parse, and the tracker's per-packet cost
 * with 10k and 1M concurrent flows (packets prepared in memory, so only the core runs),
 * and the cost of one window flush with 10k active ASNs.
 * Usage: bench_core ASN_DIR
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "asn_map.h"
#include "edgeprobe/ep_parse.h"
#include "exporter.h"
#include "hist.h"
#include "merge.h"
#include "tracker.h"
#include "xorshift.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xs = 88172645463325252ull;
/* TSC ticks per ns, measured against the monotonic clock. */
static double tsc_per_ns(void)
{
	double t0 = now_s();
	uint64_t c0 = __rdtsc();

	while (now_s() - t0 < 0.2)
		;
	return (double)(__rdtsc() - c0) / ((now_s() - t0) * 1e9);
}

struct win_count {
	uint64_t windows, asns; /* windows closed, ASN records in them */
};

static void on_window(const struct ep_window *w, void *ctx)
{
	struct win_count *c = ctx;

	c->windows++;
	c->asns += w->nasns;
}

/* One IPv4 address per distinct ASN, from the map's own prefixes. */
#define PICK_SET (1u << 16)
struct pick {
	uint32_t n, cap;
	uint8_t (*addr)[4];
	uint32_t set[PICK_SET]; /* ASNs taken (open addressing; cap is well below PICK_SET) */
};

static int pick_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc)
{
	struct pick *p = ctx;
	uint32_t h = (asn * 2654435761u) & (PICK_SET - 1);

	(void)len;
	(void)cc;
	if (p->n == p->cap)
		return 1;
	if (asn == 0)
		return 0;
	while (p->set[h] && p->set[h] != asn)
		h = (h + 1) & (PICK_SET - 1);
	if (p->set[h])
		return 0;
	p->set[h] = asn;
	memcpy(p->addr[p->n], addr, 4);
	p->addr[p->n][3] |= 1;
	p->n++;
	return 0;
}

/* Segment of flow f: data towards the remote client (toward) or the client's ACK. */
static void make_pkt(struct ep_pkt *p, uint32_t f, int toward, uint32_t *seq,
		     const struct pick *pick)
{
	uint32_t cli = (f * 2654435761u) | 0x01000000u;
	uint16_t port = (uint16_t)(1024 + f % 60000);

	if (pick) {
		memcpy(&cli, pick->addr[f % pick->n], 4);
		port = (uint16_t)(1024 + (f / pick->n) % 60000);
	}
	memset(p, 0, sizeof(*p));
	p->family = 4;
	memcpy(toward ? p->dst : p->src, &cli, 4);
	p->src[0] = toward ? 192 : p->src[0];
	if (toward) {
		p->src[1] = 0;
		p->src[2] = 2;
		p->src[3] = 1;
	} else {
		p->dst[0] = 192;
		p->dst[2] = 2;
		p->dst[3] = 1;
	}
	p->sport = toward ? 443 : port;
	p->dport = toward ? port : 443;
	p->flags = EP_TCP_ACK;
	p->opts = EP_OPT_TS;
	if (toward) {
		p->seq = seq[f];
		seq[f] += 1448;
		p->payload_len = 1448;
		p->tsval = seq[f] >> 10;
	} else {
		p->ack = seq[f];
		p->tsecr = seq[f] >> 10;
	}
	p->win = 1000;
}

/*
 * Tracker cost with nflows concurrent flows picked up midstream (created first,
 * untimed, and two windows of traffic untimed), then data and ACKs with timestamps in random flow order.  The remote clients are spread over the
 * IPv4 space (pk NULL: the ASNs active per window grow with the flows) or over the
 * nasns ASNs of pk (the same ASN population whatever the number of flows).
 */
static void bench_tracker(const struct ep_asn_map *map, uint32_t nflows, uint64_t npkts, double tpn,
			  int burst, const struct pick *pick)
{
	struct ep_tracker_cfg cfg;
	struct ep_tracker *t;
	struct ep_pkt *pk;
	uint32_t *seq;
	struct win_count wc = {0};
	uint64_t i, c0, c1, base = 1000000000000ull;
	uint32_t f;
	const uint32_t batch = 1 << 16;
	/*
	 * Not timed either: the first tenth of the packets (two 100 ms windows), in
	 * which the ASN aggregates allocate the histograms that later windows reuse.
	 */
	const uint64_t warm = npkts / 10 / batch * batch;
	double cycles = 0;

	ep_tracker_cfg_defaults(&cfg);
	cfg.max_flows = nflows + nflows / 8;
	cfg.asn = map;
	cfg.on_window = on_window;
	cfg.ctx = &wc;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	pk = calloc(batch, sizeof(*pk));
	seq = calloc(nflows, sizeof(*seq));
	/* Untimed: every flow created and heard both ways, so that the run measures steady state. */
	for (f = 0; f < nflows; f++) {
		make_pkt(&pk[0], f, 1, seq, pick);
		make_pkt(&pk[1], f, 0, seq, pick);
		ep_tracker_packet(t, &pk[0], base);
		ep_tracker_packet(t, &pk[1], base);
	}
	base += 1000000;
	for (i = 0; i < npkts; i += batch) {
		uint32_t j, n = (uint32_t)(npkts - i < batch ? npkts - i : batch);

		for (j = 0; j < n; j++)
			make_pkt(&pk[j], (uint32_t)(xorshift64(&xs) % nflows), (int)((i + j) & 1), seq, pick);
		c0 = __rdtsc();
		if (burst) {
			static uint64_t tm[EP_TRACKER_BURST];
			uint32_t b, k;

			for (b = 0; b < n; b += EP_TRACKER_BURST) {
				uint32_t m = n - b < EP_TRACKER_BURST ? n - b : EP_TRACKER_BURST;

				for (k = 0; k < m; k++)
					tm[k] = base + (i + b + k) * 100;
				ep_tracker_burst(t, &pk[b], tm, m);
			}
		} else {
			for (j = 0; j < n; j++)
				ep_tracker_packet(t, &pk[j], base + (i + j) * 100);
		}
		c1 = __rdtsc();
		if (i >= warm)
			cycles += (double)(c1 - c0);
	}
	npkts -= warm;
	printf("tracker%s: %u concurrent flows, %s, %.0f ASNs per window: %.0f cycles/packet (%.1f ns), "
	       "%.1f Mpps on one core; %.1f MiB flow table (%zu bytes/flow incl. index)\n",
	       burst ? " (bursts of 32, prefetched)" : " (packet by packet)", nflows,
	       pick ? "clients in a fixed set of ASNs" : "clients spread over IPv4",
	       wc.windows ? (double)wc.asns / (double)wc.windows : 0.0,
	       cycles / (double)npkts, cycles / (double)npkts / tpn,
	       (double)npkts / (cycles / tpn / 1e9) / 1e6,
	       (double)ep_tracker_flow_bytes(t) / 1048576.0,
	       ep_tracker_flow_bytes(t) / cfg.max_flows);
	ep_tracker_free(t);
	free(pk);
	free(seq);
}

/* nasns IPv4 addresses of distinct ASNs, or NULL when the data has fewer. */
static struct pick *pick_asns(const struct ep_asn_map *map, uint32_t nasns)
{
	struct pick *pk = calloc(1, sizeof(*pk));

	if (!pk || !(pk->addr = calloc(nasns, 4)))
		abort();
	pk->cap = nasns;
	ep_asn_map_prefixes(map, 4, pick_prefix, pk);
	if (pk->n < nasns) {
		printf("only %u distinct ASNs in the data, not %u\n", pk->n, nasns);
		free(pk->addr);
		free(pk);
		return NULL;
	}
	return pk;
}

static void pick_free(struct pick *pk)
{
	if (pk) {
		free(pk->addr);
		free(pk);
	}
}

/* Windows of bench_flush not timed: the first ones allocate what later ones reuse. */
#define WARM_WINDOWS 3

struct flush_ctx {
	struct ep_exporter *exp; /* NULL: the worker's side only */
	struct ep_merge *merge;  /* also merge the window as two workers' parts (DPDK's main lcore) */
	struct ep_window_asn *a, *b;
	int timed;               /* past the first windows (histogram pools filled, memory touched) */
	uint64_t windows, asns, merge_cycles;
};

static void on_window_flush(const struct ep_window *w, void *ctx)
{
	struct flush_ctx *f = ctx;

	f->windows++;
	f->asns += w->nasns;
	if (f->merge) {
		struct ep_window mw;
		uint64_t c0;

		uint32_t i, na = 0, nb = 0;

		/* Two workers' windows: two thirds of the ASNs each, interleaved, a third in both. */
		for (i = 0; i < w->nasns; i++) {
			if (i % 3 != 0)
				f->a[na++] = w->asns[i];
			if (i % 3 != 1)
				f->b[nb++] = w->asns[i];
		}
		c0 = __rdtsc();
		if (ep_merge_add(f->merge, w->start_ns, w->end_ns, f->a, na) < 0 ||
		    ep_merge_add(f->merge, w->start_ns, w->end_ns, f->b, nb) < 0 ||
		    !ep_merge_pop(f->merge, UINT64_MAX, &mw))
			abort();
		if (f->timed)
			f->merge_cycles += __rdtsc() - c0;
	}
	if (f->exp)
		ep_exporter_window(w, f->exp);
}

/*
 * A window with nasns active ASNs (a handshake sample and an in-flow sample each), then
 * the cost of closing it: the worker's flush (walk the changed ASNs, hand them over) and,
 * with exp, also the exporter's (encode every histogram, build the wire messages).
 */
static void bench_flush(const struct ep_asn_map *map, uint32_t nasns, double tpn, int with_exporter)
{
	struct pick *pk = pick_asns(map, nasns);
	struct flush_ctx fc = {0};
	struct ep_tracker_cfg cfg;
	struct ep_exporter_cfg ecfg;
	struct ep_tracker *t;
	uint64_t cycles = 0, base = 1000000000000ull;
	uint32_t i, w, rounds = 20;

	if (!pk)
		return;
	memset(&ecfg, 0, sizeof(ecfg));
	ecfg.probe = "bench";
	ecfg.max_payload = 1400;
	ep_hdr_cfg_init(&ecfg.hist, 1, EP_HIST_DEFAULT_HIGHEST, EP_HIST_DEFAULT_DIGITS);
	if (with_exporter && ep_exporter_new(&ecfg, &fc.exp) < 0)
		abort();
	if (with_exporter == 2 && (ep_merge_new(&fc.merge) < 0 ||
				   !(fc.a = calloc(nasns + 16, sizeof(*fc.a))) ||
				   !(fc.b = calloc(nasns + 16, sizeof(*fc.b)))))
		abort();
	ep_tracker_cfg_defaults(&cfg);
	cfg.max_flows = nasns * (rounds + 1); /* no evictions */
	cfg.max_asns = nasns + 16;
	cfg.asn = map;
	cfg.on_window = on_window_flush;
	cfg.ctx = &fc;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	for (w = 0; w < rounds; w++) {
		uint64_t t0 = base + (uint64_t)w * 100000000ull, c0;

		for (i = 0; i < nasns; i++) {
			struct ep_pkt p;
			uint16_t port = (uint16_t)(1024 + w);

			memset(&p, 0, sizeof(p));
			p.family = 4;
			memcpy(p.src, pk->addr[i], 4);
			p.dst[0] = 192, p.dst[1] = 0, p.dst[2] = 2, p.dst[3] = 1;
			p.sport = port;
			p.dport = 443;
			p.flags = EP_TCP_SYN;
			p.seq = 100;
			ep_tracker_packet(t, &p, t0 + i);
			memcpy(p.dst, pk->addr[i], 4);
			memset(p.src, 0, 16);
			p.src[0] = 192, p.src[1] = 0, p.src[2] = 2, p.src[3] = 1;
			p.sport = 443;
			p.dport = port;
			p.flags = EP_TCP_SYN | EP_TCP_ACK;
			p.seq = 5000;
			p.ack = 101;
			ep_tracker_packet(t, &p, t0 + 20000000 + i * 100);
			memcpy(p.src, pk->addr[i], 4);
			memset(p.dst, 0, 16);
			p.dst[0] = 192, p.dst[1] = 0, p.dst[2] = 2, p.dst[3] = 1;
			p.sport = port;
			p.dport = 443;
			p.flags = EP_TCP_ACK;
			p.seq = 101;
			p.ack = 5001;
			ep_tracker_packet(t, &p, t0 + 60000000 + i * 100);
		}
		c0 = __rdtsc();
		fc.timed = w >= WARM_WINDOWS;
		ep_tracker_advance(t, t0 + 100000000ull);
		if (fc.timed)
			cycles += __rdtsc() - c0;
	}
	rounds -= WARM_WINDOWS;
	if (fc.merge) {
		printf("window merge with %llu active ASNs from two workers, a third in both (DPDK's main "
		       "lcore): %.2f ms "
		       "of CPU per window (%.0f cycles per ASN)\n",
		       (unsigned long long)(fc.asns / (fc.windows ? fc.windows : 1)),
		       (double)fc.merge_cycles / rounds / tpn / 1e6,
		       (double)fc.merge_cycles / rounds / (double)(fc.asns / (fc.windows ? fc.windows : 1)));
		ep_merge_free(fc.merge);
		free(fc.a);
		free(fc.b);
	} else {
		printf("window flush with %llu active ASNs (handshake samples), %s: %.2f ms of CPU per "
		       "window (%.0f cycles per ASN)\n",
		       (unsigned long long)(fc.asns / (fc.windows ? fc.windows : 1)),
		       with_exporter ? "worker + exporter (encode, wire messages)" : "the worker's side",
		       (double)cycles / rounds / tpn / 1e6, (double)cycles / rounds / (double)(fc.asns / (fc.windows ? fc.windows : 1)));
	}
	ep_tracker_free(t);
	ep_exporter_free(fc.exp);
	pick_free(pk);
}

int main(int argc, char **argv)
{
	char v4[512], v6[512], c4[512], c6[512];
	const char *files[5] = {v4, v6, NULL, NULL, NULL};
	struct ep_asn_map *map;
	struct ep_asn_map_info info;
	struct ep_hist *h;
	char err[256];
	double t0, tpn = tsc_per_ns(), el;
	uint64_t i, c0, sum = 0;
	const uint64_t N = 10000000;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_core ASN_DIR [tracker FLOWS burst|single [NASNS] | flush "
				"| flush-cc]\n");
		return 2;
	}
	snprintf(v4, sizeof(v4), "%s/asn-ipv4.csv", argv[1]);
	snprintf(v6, sizeof(v6), "%s/asn-ipv6.csv", argv[1]);
	if (argc >= 3 && !strcmp(argv[2], "flush-cc")) {
		/* The same flush with the country files: aggregates keyed by (ASN, country). */
		snprintf(c4, sizeof(c4), "%s/asn-country-ipv4.csv", argv[1]);
		snprintf(c6, sizeof(c6), "%s/asn-country-ipv6.csv", argv[1]);
		files[2] = c4;
		files[3] = c6;
	}
	printf("TSC: %.3f ticks/ns\n", tpn);

	t0 = now_s();
	if (ep_asn_map_load(files, &map, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_core: %s\n", err);
		return 1;
	}
	el = now_s() - t0;
	if (argc >= 3 && (!strcmp(argv[2], "flush") || !strcmp(argv[2], "flush-cc"))) {
		/* The three window flush runs alone. */
		bench_flush(map, 10000, tpn, 0);
		bench_flush(map, 10000, tpn, 1);
		bench_flush(map, 10000, tpn, 2);
		ep_asn_map_free(map);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[2], "tracker")) {
		/* One tracker run alone, e.g. under a profiler. */
		struct pick *pk = argc == 6 ? pick_asns(map, (uint32_t)strtoul(argv[5], NULL, 10)) : NULL;

		bench_tracker(map, (uint32_t)strtoul(argv[3], NULL, 10), 20000000, tpn,
			      !strcmp(argv[4], "burst"), pk);
		pick_free(pk);
		ep_asn_map_free(map);
		return 0;
	}
	ep_asn_map_info(map, &info);
	printf("asn load: %zu ranges in %.0f ms = %.0f ms per 100k ranges (%zu v4 + %zu v6 prefixes, "
	       "%zu + %zu intervals, %zu ASNs, %.1f MiB)\n",
	       info.lines, el * 1e3, el * 1e3 / ((double)info.lines / 1e5), info.prefixes4,
	       info.prefixes6, info.intervals4, info.intervals6, info.asns,
	       (double)info.bytes / 1048576.0);

	c0 = __rdtsc();
	for (i = 0; i < N; i++) {
		uint32_t a = (uint32_t)xorshift64(&xs);

		sum += ep_asn_map_lookup(map, 4, (uint8_t *)&a, NULL);
	}
	el = (double)(__rdtsc() - c0) / tpn / 1e9;
	printf("asn lookup v4: %.0f ns/lookup, %.1f M lookups/s (random addresses)\n",
	       el * 1e9 / (double)N, (double)N / el / 1e6);
	c0 = __rdtsc();
	for (i = 0; i < N / 4; i++) {
		uint8_t a[16];
		uint64_t r1 = xorshift64(&xs), r2 = xorshift64(&xs);

		memcpy(a, &r1, 8);
		memcpy(a + 8, &r2, 8);
		a[0] = 0x20;
		a[1] = (uint8_t)(r1 >> 56) & 0x0f;
		sum += ep_asn_map_lookup(map, 6, a, NULL);
	}
	el = (double)(__rdtsc() - c0) / tpn / 1e9;
	printf("asn lookup v6: %.0f ns/lookup, %.1f M lookups/s (random 2000::/12 addresses)\n",
	       el * 1e9 / (double)(N / 4), (double)(N / 4) / el / 1e6);

	ep_hist_new(1, 60000000, 2, &h);
	c0 = __rdtsc();
	for (i = 0; i < 10 * N; i++)
		ep_hist_record(h, (int64_t)((i * 2654435761u) & 0xfffff));
	printf("hist record: %.1f cycles/value (%.2f ns)\n",
	       (double)(__rdtsc() - c0) / (double)(10 * N),
	       (double)(__rdtsc() - c0) / (double)(10 * N) / tpn);
	ep_hist_free(h);

	{
		static const uint8_t frame[] = {
			0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0x05, 0xdc, 0,
			0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7, 1, 187, 0x9c, 0x40, 0, 0,
			0, 1, 0, 0, 0, 1, 0x80, 0x10, 0xff, 0xff, 0, 0, 0, 0, 1, 1, 8, 10, 0, 0, 0, 1, 0,
			0, 0, 2};
		struct ep_pkt p = {0};
		uint64_t ok = 0;
		uint8_t buf[128]; /* larger than the frame: GCC's -Warray-bounds cannot follow the option walk */
		volatile uint8_t *vb = buf;

		memcpy(buf, frame, sizeof(frame));
		c0 = __rdtsc();
		for (i = 0; i < N; i++) {
			vb[41] = (uint8_t)i; /* the sequence number changes: nothing to hoist */
			ok += ep_parse_eth(buf, buf + sizeof(frame), &p) == EP_PARSE_OK;
			sum += p.seq;
		}
		if (ok != N) {
			fprintf(stderr, "bench_core: the parse benchmark frame does not parse\n");
			return 1;
		}
		printf("parse (Ethernet/IPv4/TCP with timestamps): %.1f cycles/packet\n",
		       (double)(__rdtsc() - c0) / (double)N);
	}
	bench_tracker(map, 10000, 20000000, tpn, 0, NULL);
	bench_tracker(map, 1000000, 20000000, tpn, 0, NULL);
	bench_tracker(map, 10000, 20000000, tpn, 1, NULL);
	bench_tracker(map, 1000000, 20000000, tpn, 1, NULL);
	{
		/* The flow table's scaling alone: the same 2,000 ASNs at 10k and at 1M flows. */
		struct pick *pk = pick_asns(map, 2000);

		if (pk) {
			bench_tracker(map, 10000, 20000000, tpn, 1, pk);
			bench_tracker(map, 1000000, 20000000, tpn, 1, pk);
			pick_free(pk);
		}
	}
	bench_flush(map, 10000, tpn, 0);
	bench_flush(map, 10000, tpn, 1);
	bench_flush(map, 10000, tpn, 2);
	ep_asn_map_free(map);
	printf("flow record: %zu bytes\n", sizeof(struct ep_flow));
	return sum == 42; /* keep the loops */
}
