/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_drain.c - the BPF path's per-ASN counting and its drain, exactly and at
 * scale: N ASNs (one /24 each) each open one connection through the loaded
 * ingress program (BPF_PROG_TEST_RUN, all on this CPU, so that the 512-slot
 * per-CPU counter cache overflows into its hash), then the loader's drain
 * (probe/bpf/drain.c) reads the epoch.  Three windows (epochs 0, 1, 0); checked per ASN:
 * flows_new 1, segs_in and segs_out as sent, one handshake sample; the cache
 * must have spilled (bpf_acache_spill > 0) and the second window must not
 * see the first's counts.  The sample log has room for a third of the
 * handshakes (the test stays on one CPU): the rest must go to the bucket hash,
 * counted as bpf_slog_full, exactly N - N/3 per window (so a new window
 * starts an empty log), and still reach their ASN.  Prints the drain's time as JSON.
 * Usage: bpf_drain [N]  (root: loads BPF; exit 77 without it)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "country.h"
#include "drain.h"
#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "pktbuild.h"

#define LOCAL 0xc0000201u /* 192.0.2.1 */
#define ASN0 100000u

static void frame(struct fb *f, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t seq,
		  uint32_t ack, uint8_t flags, uint16_t payload)
{
	f->n = 0;
	fb_eth(f, 0x0800);
	fb_ipv4(f, src, dst, 0, 0x4000, 6, (uint16_t)(20 + payload));
	fb_tcp(f, sp, dp, seq, ack, flags, NULL, 0);
	fb_zero(f, payload);
}

static int run(int fd, const struct fb *f)
{
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
			    .repeat = 1);

	return bpf_prog_test_run_opts(fd, &o);
}

static uint32_t remote_of(uint32_t i)
{
	return 0x0a000007u | (i & 0xffffu) << 8; /* 10.x.y.7 */
}

/* Window w: every ASN's connection (new source port per window), data segments 1 + i % 4. */
static int send_window(int fd, uint32_t n, int w)
{
	struct fb f;
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		uint32_t r = remote_of(i);
		uint16_t sp = (uint16_t)(20000 + w);

		frame(&f, r, LOCAL, sp, 443, 1000, 0, 0x02, 0);
		if (run(fd, &f) < 0)
			return -errno;
		frame(&f, LOCAL, r, 443, sp, 5000, 1001, 0x12, 0);
		if (run(fd, &f) < 0)
			return -errno;
		for (k = 0; k < 1 + i % 4; k++) {
			frame(&f, r, LOCAL, sp, 443, 1001 + k * 100, 5001, 0x10, 100);
			if (run(fd, &f) < 0)
				return -errno;
		}
	}
	return 0;
}

static int check_window(struct ep_bpf_drain *d, uint32_t n, int w)
{
	struct ep_window_asn *a;
	uint32_t m = ep_asn_agg_view(&d->agg, &a), i, bad = 0;

	if (m != n) {
		fprintf(stderr, "window %d: %u ASNs drained, %u sent\n", w, m, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint64_t want_in = 1 + 1 + i % 4;

		/* Odd ASNs are in a country: the trie's id carries it through. */
		if (a[i].asn != ASN0 + i || a[i].cc != (i & 1 ? ep_cc_parse("DE", 2) : 0) ||
		    a[i].c[EP_AC_flows_new] != 1 ||
		    a[i].c[EP_AC_segs_in] != want_in || a[i].c[EP_AC_segs_out] != 1 ||
		    !a[i].h[EP_AH_RTT_HS] || a[i].h[EP_AH_RTT_HS]->total != 1) {
			if (bad++ < 5)
				fprintf(stderr,
					"window %d: AS%u: flows_new %llu segs_in %llu (want %llu) "
					"segs_out %llu rtt_hs %lld\n",
					w, a[i].asn, (unsigned long long)a[i].c[EP_AC_flows_new],
					(unsigned long long)a[i].c[EP_AC_segs_in],
					(unsigned long long)want_in,
					(unsigned long long)a[i].c[EP_AC_segs_out],
					a[i].h[EP_AH_RTT_HS] ? (long long)a[i].h[EP_AH_RTT_HS]->total : -1);
		}
	}
	if (bad)
		fprintf(stderr, "window %d: %u of %u ASNs wrong\n", w, bad, n);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 3000, zero = 0, one = 1, i;
	uint32_t log_n; /* the sample log's room per CPU and window: a third of the handshakes */
	struct edgeprobe_bpf *skel;
	struct ep_bpf_cfg cfg = {0};
	struct ep_bpf_lpm4 k = {32, {192, 0, 2, 1}};
	struct ep_bpf_drain d;
	cpu_set_t one_cpu;
	uint64_t stats[EP_ST__COUNT];
	double ms[3];
	long entries[3];
	char err[256];
	int fd, w, fails = 0;

	if (n < 1 || n > 65536) {
		fprintf(stderr, "bpf_drain: N in 1..65536\n");
		return 2;
	}
	log_n = n / 3 ? n / 3 : 1;
	if (geteuid() != 0) {
		fprintf(stderr, "bpf_drain: needs root (loads BPF): skipped\n");
		return 77;
	}
	libbpf_set_print(NULL);
	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu(), &one_cpu);
	if (sched_setaffinity(0, sizeof(one_cpu), &one_cpu) < 0) {
		fprintf(stderr, "bpf_drain: staying on one CPU: %s\n", strerror(errno));
		return 1;
	}
	skel = edgeprobe_bpf__open();
	if (!skel || ep_bpf_slog_size(skel, log_n) < 0 || edgeprobe_bpf__load(skel) < 0) {
		fprintf(stderr, "bpf_drain: cannot load the BPF programs\n");
		return 1;
	}
	if (ep_bpf_drain_init(&d, skel, n + 16, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bpf_drain: %s\n", err);
		return 1;
	}
	ep_hdr_cfg_init(&cfg.hdr, EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
			EP_HIST_DEFAULT_DIGITS);
	cfg.has_local = 1;
	cfg.slog_n = d.slog_n;
	cfg.ftab_mask = bpf_map__max_entries(skel->maps.ep_ftab) - 1;
	if (d.slog_n != log_n) {
		fprintf(stderr, "bpf_drain: sample log of %u per CPU, sized for %u\n", d.slog_n,
			log_n);
		return 1;
	}
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_local4), &k, &one, BPF_ANY);
	for (i = 0; i < n; i++) {
		struct ep_bpf_lpm4 p = {24, {10, (uint8_t)(i >> 8), (uint8_t)i, 0}};
		uint32_t id;

		if (ep_bpf_ids_get(&d.ids, ASN0 + i, i & 1 ? ep_cc_parse("DE", 2) : 0, &id) < 0 ||
		    bpf_map_update_elem(bpf_map__fd(skel->maps.ep_asn4), &p, &id, BPF_ANY) < 0) {
			fprintf(stderr, "bpf_drain: filling the ASN trie: %s\n", strerror(errno));
			return 1;
		}
	}
	fd = bpf_program__fd(skel->progs.ep_tc_ingress);
	for (w = 0; w < 3; w++) {
		cfg.epoch = (uint32_t)w & 1;
		cfg.gen = (uint32_t)w + 1;
		bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &zero, &cfg, BPF_ANY);
		if (send_window(fd, n, w) < 0) {
			fprintf(stderr, "bpf_drain: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 1;
		}
		cfg.epoch = (uint32_t)(w & 1) ^ 1; /* flip: nothing writes this epoch any more */
		bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &zero, &cfg, BPF_ANY);
		entries[w] = ep_bpf_drain_epoch(&d, (uint32_t)w & 1, (uint32_t)w + 1);
		ms[w] = (double)d.last_ns / 1e6;
		if (entries[w] < 0) {
			fprintf(stderr, "bpf_drain: drain: %s\n", strerror((int)-entries[w]));
			return 1;
		}
		if (check_window(&d, n, w) < 0)
			fails++;
		ep_asn_agg_clear(&d.agg);
	}
	if (ep_bpf_drain_stats(&d, stats) < 0) {
		fprintf(stderr, "bpf_drain: reading the counters failed\n");
		return 1;
	}
	if (n > EP_BPF_ACACHE && !stats[EP_ST_bpf_acache_spill]) {
		fprintf(stderr, "bpf_drain: %u ASNs in %u cache slots and no spill counted\n", n,
			EP_BPF_ACACHE);
		fails++;
	}
	if (stats[EP_ST_bpf_slog_full] != 3ull * (n - d.slog_n)) {
		fprintf(stderr, "bpf_drain: %llu samples past the sample log, want %llu\n",
			(unsigned long long)stats[EP_ST_bpf_slog_full], 3ull * (n - d.slog_n));
		fails++;
	}
	if (stats[EP_ST_bpf_map_full]) {
		fprintf(stderr, "bpf_drain: %llu map updates failed\n",
			(unsigned long long)stats[EP_ST_bpf_map_full]);
		fails++;
	}
	printf("{\"asns\":%u,\"drain_ms\":[%.2f,%.2f,%.2f],\"entries\":[%ld,%ld,%ld],"
	       "\"acache_spill\":%llu,\"slog_full\":%llu,\"us_per_asn\":%.2f}\n",
	       n, ms[0], ms[1], ms[2], entries[0], entries[1], entries[2],
	       (unsigned long long)stats[EP_ST_bpf_acache_spill],
	       (unsigned long long)stats[EP_ST_bpf_slog_full], (ms[0] + ms[1] + ms[2]) * 1000.0 / 3 / n);
	ep_bpf_drain_fini(&d);
	edgeprobe_bpf__destroy(skel);
	if (fails)
		printf("FAIL\n");
	return fails ? 1 : 0;
}
