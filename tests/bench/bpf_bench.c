/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_bench.c - cost of the BPF programs per packet, with BPF_PROG_TEST_RUN
 * (the kernel runs the loaded program on a given frame and times it):
 *  - repeat mode: one frame run 200,000 times (SYN, data with timestamps, ACK,
 *    unknown flow); a repeated frame takes the same path each time after the
 *    first (a repeated SYN or data segment is a retransmission);
 *  - sequence mode: 20,000 connections opened (SYN), then one connection's
 *    20,000 data segments and 20,000 ACKs in order, each frame run once, with
 *    a window flip every 1,000 (the sample log's regions are not drained here);
 *  - cold mode (argument "cold"): more of that connection's data segments and
 *    ACKs, each run after this CPU's caches are overwritten (8 MiB written),
 *    as a live packet finds them after the rest of the stack has run; beside
 *    each, the same after a warm-up frame that shares part of what it touches:
 *    an RST for an untracked tuple (the parser, the flow look-up, the clock
 *    and the configuration) or another connection's frame of the same kind
 *    (all the code and shared maps: only this flow's entry and the frame
 *    itself stay cold).  Medians of 1,000 of each, interleaved; beside them,
 *    a bulk flow's frames on cold caches: another connection with 64
 *    segments in flight, a TSval tick every 8 segments and a delayed ACK for
 *    every 2, where most frames start or end no sample (the in-flow sampler
 *    takes a few per round trip) and the step adapts as it does live.
 * Prints ns per packet as JSON.  Needs root (loads BPF).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drain.h"
#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "pktbuild.h"

#define LOCAL 0xc0000201u  /* 192.0.2.1 */
#define REMOTE 0xc6336407u /* 198.51.100.7 */

static void frame(struct fb *f, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t seq,
		  uint32_t ack, uint8_t flags, uint32_t tsval, uint32_t tsecr, uint16_t payload)
{
	uint8_t opts[12] = {1, 1, 8, 10};

	opts[4] = (uint8_t)(tsval >> 24), opts[5] = (uint8_t)(tsval >> 16);
	opts[6] = (uint8_t)(tsval >> 8), opts[7] = (uint8_t)tsval;
	opts[8] = (uint8_t)(tsecr >> 24), opts[9] = (uint8_t)(tsecr >> 16);
	opts[10] = (uint8_t)(tsecr >> 8), opts[11] = (uint8_t)tsecr;
	f->n = 0;
	fb_eth(f, 0x0800);
	fb_ipv4(f, src, dst, 0, 0x4000, 6, (uint16_t)(32 + payload));
	fb_tcp(f, sp, dp, seq, ack, flags, opts, sizeof(opts));
	fb_zero(f, payload);
}

static double run(int fd, const struct fb *f, int repeat)
{
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
			    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0) {
		perror("BPF_PROG_TEST_RUN");
		exit(1);
	}
	return (double)o.duration;
}

/* Overwrite this CPU's caches: a live packet's program finds them so (docs/performance.md). */
static void evict(uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 64)
		((volatile uint8_t *)buf)[i]++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * A window flip as the loader makes it (probe/bpf/windows.c), without the
 * drain: the sample log's next region starts empty, so samples keep taking
 * the log, as live, rather than the bucket hash behind a full region.
 */
static void flip(int cfg_fd, struct ep_bpf_cfg *cfg)
{
	uint32_t zero = 0;

	cfg->epoch ^= 1;
	cfg->gen++;
	bpf_map_update_elem(cfg_fd, &zero, cfg, BPF_ANY);
}

/* Connection port's i-th data segment (towards the remote), and the ACK of it. */
static void data_frame(struct fb *f, uint16_t port, uint32_t i)
{
	frame(f, LOCAL, REMOTE, 443, port, 9001 + i * 1400, 5001, 0x10, 201 + i, 101 + i, 1400);
}

static void ack_frame(struct fb *f, uint16_t port, uint32_t i)
{
	frame(f, REMOTE, LOCAL, port, 443, 5001, 9001 + (i + 1) * 1400, 0x10, 102 + i, 201 + i, 0);
}

/*
 * Connection 50002's i-th data segment, in a window of 64 in flight: a TSval
 * tick every 8 segments (a 1 ms clock at 8 segments per ms).  Its delayed ACK
 * covers segments i - 1 and i and echoes segment i's TSval.
 */
#define WIN 64

static void wdata_frame(struct fb *f, uint32_t i)
{
	frame(f, LOCAL, REMOTE, 443, 50002, 9001 + i * 1400, 5001, 0x10, 201 + i / 8, 101, 1400);
}

static void wack_frame(struct fb *f, uint32_t i)
{
	frame(f, REMOTE, LOCAL, 50002, 443, 5001, 9001 + (i + 1) * 1400, 0x10, 102, 201 + i / 8, 0);
}

/* Connection port's handshake, timestamps on. */
static void handshake(int fd, struct fb *f, uint16_t port)
{
	frame(f, REMOTE, LOCAL, port, 443, 5000, 0, 0x02, 100, 0, 0);
	run(fd, f, 1);
	frame(f, LOCAL, REMOTE, 443, port, 9000, 5001, 0x12, 200, 100, 0);
	run(fd, f, 1);
	frame(f, REMOTE, LOCAL, port, 443, 5001, 9001, 0x10, 101, 200, 0);
	run(fd, f, 1);
}

#define COLD_N 1000
#define COLD_BYTES (8u << 20)

/*
 * Cold mode, after sequence mode has left connection 50000 at segment 20,000:
 * per frame kind (data, ACK) and warm-up (none, an RST for no flow, connection
 * 50001's frame of the same kind), the median ns per packet; in med[3], the
 * bulk flow's (connection 50002) data segments and ACKs.
 */
static void cold(int fd, int cfg_fd, struct ep_bpf_cfg *cfg, double med[4][2])
{
	static double t[3][2][COLD_N], wd[2 * COLD_N], wa[COLD_N];
	uint8_t *buf = calloc(1, COLD_BYTES);
	cpu_set_t one;
	struct fb f;
	uint32_t i, j = 20000, o = 0, d = WIN;
	int w, k;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (!buf || sched_setaffinity(0, sizeof(one), &one) < 0) {
		perror("bpf_bench: cold mode");
		exit(1);
	}
	handshake(fd, &f, 50001);
	handshake(fd, &f, 50002);
	for (i = 0; i < WIN; i++) { /* d: connection 50002's next data segment */
		wdata_frame(&f, i);
		run(fd, &f, 1);
	}
	for (i = 0; i < COLD_N; i++, o++) { /* o: connection 50001's (warm-up 2) */
		if (i % 100 == 0)
			flip(cfg_fd, cfg);
		for (w = 0; w < 3; w++, j++)
			for (k = 0; k < 2; k++) {
				evict(buf, COLD_BYTES);
				if (w == 1)
					frame(&f, REMOTE, LOCAL, 61000, 443, 77, 88, 0x04, 1, 1, 0);
				else if (w == 2)
					(k ? ack_frame : data_frame)(&f, 50001, o);
				if (w)
					run(fd, &f, 1);
				(k ? ack_frame : data_frame)(&f, 50000, j);
				t[w][k][i] = run(fd, &f, 1);
			}
		for (k = 0; k < 2; k++, d++) { /* two data segments, then the ACK of both */
			evict(buf, COLD_BYTES);
			wdata_frame(&f, d);
			wd[i * 2 + k] = run(fd, &f, 1);
		}
		evict(buf, COLD_BYTES);
		wack_frame(&f, d - 1 - WIN);
		wa[i] = run(fd, &f, 1);
	}
	for (w = 0; w < 3; w++)
		for (k = 0; k < 2; k++)
			med[w][k] = median(t[w][k], COLD_N);
	med[3][0] = median(wd, 2 * COLD_N);
	med[3][1] = median(wa, COLD_N);
	free(buf);
}

int main(int argc, char **argv)
{
	struct edgeprobe_bpf *skel = edgeprobe_bpf__open();
	struct ep_bpf_cfg cfg = {0};
	struct ep_bpf_lpm4 k = {24, {192, 0, 2, 0}};
	struct fb f;
	uint32_t zero = 0, one = 1, asn = 64501, i;
	double syn_r, data_r, ack_r, unk_r, syn_s = 0, data_s = 0, ack_s = 0;
	int fd;

	/* The sample log as edgeprobe-bpf sizes it (the ACKs' samples go there). */
	if (!skel || ep_bpf_slog_size(skel, EP_BPF_SLOG_DEFAULT) < 0 ||
	    edgeprobe_bpf__load(skel) < 0) {
		fprintf(stderr, "bpf_bench: cannot load the BPF programs (root?)\n");
		return 1;
	}
	ep_hdr_cfg_init(&cfg.hdr, 1, 60000000, 2);
	cfg.has_local = 1;
	cfg.slog_n = EP_BPF_SLOG_DEFAULT;
	cfg.ftab_mask = bpf_map__max_entries(skel->maps.ep_ftab) - 1;
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &zero, &cfg, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_local4), &k, &one, BPF_ANY);
	k.addr[0] = 198, k.addr[1] = 51, k.addr[2] = 100;
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_asn4), &k, &asn, BPF_ANY);
	fd = bpf_program__fd(skel->progs.ep_tc_ingress);

	/* Sequence mode. */
	for (i = 0; i < 20000; i++) {
		frame(&f, REMOTE, LOCAL, (uint16_t)(20000 + i), 443, 1000, 0, 0x02, 1, 0, 0);
		syn_s += run(fd, &f, 1);
	}
	handshake(fd, &f, 50000);
	for (i = 0; i < 20000; i++) {
		if (i % 1000 == 0)
			flip(bpf_map__fd(skel->maps.ep_cfg), &cfg);
		data_frame(&f, 50000, i);
		data_s += run(fd, &f, 1);
		ack_frame(&f, 50000, i);
		ack_s += run(fd, &f, 1);
	}
	if (argc > 1 && strcmp(argv[1], "cold") == 0) {
		double m[4][2];

		cold(fd, bpf_map__fd(skel->maps.ep_cfg), &cfg, m);
		printf("{\"cold\":{\"data_ts\":%.0f,\"ack\":%.0f},"
		       "\"after_rst\":{\"data_ts\":%.0f,\"ack\":%.0f},"
		       "\"after_other_flow\":{\"data_ts\":%.0f,\"ack\":%.0f},"
		       "\"bulk_window\":{\"data_ts\":%.0f,\"ack\":%.0f}}\n",
		       m[0][0], m[0][1], m[1][0], m[1][1], m[2][0], m[2][1], m[3][0], m[3][1]);
		edgeprobe_bpf__destroy(skel);
		return 0;
	}
	/* Repeat mode. */
	frame(&f, REMOTE, LOCAL, 60000, 443, 1000, 0, 0x02, 1, 0, 0);
	syn_r = run(fd, &f, 200000);
	frame(&f, LOCAL, REMOTE, 443, 50000, 9001 + 20000 * 1400, 5001, 0x10, 30000, 30000, 1400);
	data_r = run(fd, &f, 200000);
	frame(&f, REMOTE, LOCAL, 50000, 443, 5001, 9001 + 20001 * 1400, 0x10, 30001, 30000, 0);
	ack_r = run(fd, &f, 200000);
	frame(&f, REMOTE, LOCAL, 61000, 443, 77, 88, 0x04, 1, 1, 0); /* RST, untracked */
	unk_r = run(fd, &f, 200000);
	printf("{\"repeat\":{\"syn\":%.0f,\"data_ts\":%.0f,\"ack\":%.0f,\"unknown_flow\":%.0f},"
	       "\"sequence\":{\"syn_new_flow\":%.0f,\"data_ts\":%.0f,\"ack\":%.0f}}\n",
	       syn_r, data_r, ack_r, unk_r, syn_s / 20000, data_s / 20000, ack_s / 20000);
	edgeprobe_bpf__destroy(skel);
	return 0;
}
