/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_bench.c - cost of the BPF programs per packet, with BPF_PROG_TEST_RUN
 * (the kernel runs the loaded program on a given frame and times it):
 *  - repeat mode: one frame run 200,000 times (SYN, data with timestamps, ACK,
 *    unknown flow); a repeated frame takes the same path each time after the
 *    first (a repeated SYN or data segment is a retransmission);
 *  - sequence mode: 20,000 connections opened (SYN), then one connection's
 *    20,000 data segments and 20,000 ACKs in order, each frame run once.
 * Prints ns per packet as JSON.  Needs root (loads BPF).
 */
#include <arpa/inet.h>
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

int main(void)
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
	frame(&f, REMOTE, LOCAL, 50000, 443, 5000, 0, 0x02, 100, 0, 0);
	run(fd, &f, 1);
	frame(&f, LOCAL, REMOTE, 443, 50000, 9000, 5001, 0x12, 200, 100, 0);
	run(fd, &f, 1);
	frame(&f, REMOTE, LOCAL, 50000, 443, 5001, 9001, 0x10, 101, 200, 0);
	run(fd, &f, 1);
	for (i = 0; i < 20000; i++) {
		frame(&f, LOCAL, REMOTE, 443, 50000, 9001 + i * 1400, 5001, 0x10, 201 + i, 101 + i, 1400);
		data_s += run(fd, &f, 1);
		frame(&f, REMOTE, LOCAL, 50000, 443, 5001, 9001 + (i + 1) * 1400, 0x10, 102 + i, 201 + i, 0);
		ack_s += run(fd, &f, 1);
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
