/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf_ftab.c - the established flows' array (ep_bpf.h) through the loaded
 * ingress program (BPF_PROG_TEST_RUN), with the array's mask at 1 so that
 * every flow falls in the same two-way set: two flows fill it, a third goes
 * to the overflow hash (bpf_ftab_overflow); a closed flow's slot is taken
 * only once it has been quiet for EP_BPF_FTAB_CLOSED_S, a live flow's only
 * after EP_BPF_FTAB_IDLE_S (ended then as an idle timeout: flows_timeout,
 * flows_closed); a new connection on a closed tuple empties its slot; the
 * flows_active gauge's part (ftab_used) follows; and the loader's end of run
 * ends every flow left in the array and the hashes exactly once.  Idle time
 * is made by moving a slot's last-seen second back through the map.
 * Usage: bpf_ftab  (root: loads BPF; exit 77 without it)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drain.h"
#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "pktbuild.h"

#define LOCAL 0xc0000201u  /* 192.0.2.1 */
#define REMOTE 0xc6336407u /* 198.51.100.7 */

static int g_fails;

#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "bpf_ftab: line %d: ", __LINE__);                          \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			g_fails++;                                                                 \
		}                                                                                  \
	} while (0)

struct ctx {
	struct edgeprobe_bpf *skel;
	struct ep_bpf_drain d;
	int prog;
	uint64_t stats[EP_ST__COUNT];
};

static void put_frame(struct ctx *c, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
		      uint32_t seq, uint32_t ack, uint8_t flags, uint16_t payload)
{
	struct fb f;
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);

	f.n = 0;
	fb_eth(&f, 0x0800);
	fb_ipv4(&f, src, dst, 0, 0x4000, 6, (uint16_t)(20 + payload));
	fb_tcp(&f, sp, dp, seq, ack, flags, NULL, 0);
	fb_zero(&f, payload);
	o.data_in = f.b;
	o.data_size_in = (uint32_t)f.n;
	if (bpf_prog_test_run_opts(c->prog, &o) < 0) {
		fprintf(stderr, "bpf_ftab: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		exit(1);
	}
}

/* A connection from the remote's port: SYN, SYN-ACK, then the remote's ACK with data. */
static void open_flow(struct ctx *c, uint16_t port)
{
	put_frame(c, REMOTE, LOCAL, port, 443, 1000, 0, 0x02, 0);
	put_frame(c, LOCAL, REMOTE, 443, port, 5000, 1001, 0x12, 0);
	put_frame(c, REMOTE, LOCAL, port, 443, 1001, 5001, 0x10, 100);
}

static void reset_flow(struct ctx *c, uint16_t port)
{
	put_frame(c, REMOTE, LOCAL, port, 443, 1101, 5001, 0x04, 0);
}

static void read_stats(struct ctx *c)
{
	if (ep_bpf_drain_stats(&c->d, c->stats) < 0) {
		fprintf(stderr, "bpf_ftab: reading the counters: %s\n", strerror(errno));
		exit(1);
	}
}

/* The remote port of the flow in slot i, or 0 when the slot is empty. */
static uint16_t slot_port(struct ctx *c, uint32_t i, struct ep_bpf_fslot *sl)
{
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.ep_ftab), &i, sl) < 0) {
		fprintf(stderr, "bpf_ftab: reading slot %u: %s\n", i, strerror(errno));
		exit(1);
	}
	if (!sl->tag)
		return 0;
	/* The key's ports are in canonical order: the remote's is the one not 443. */
	return sl->key.port_a == 443 ? sl->key.port_b : sl->key.port_a;
}

/* The slot holding the remote port's flow (0 or 1), or -1. */
static int slot_of(struct ctx *c, uint16_t port)
{
	struct ep_bpf_fslot sl;
	uint32_t i;

	for (i = 0; i < 2; i++)
		if (slot_port(c, i, &sl) == port)
			return (int)i;
	return -1;
}

/* Make slot i's flow look idle for secs seconds. */
static void age_slot(struct ctx *c, uint32_t i, uint32_t secs)
{
	struct ep_bpf_fslot sl;

	slot_port(c, i, &sl);
	sl.seen -= secs;
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.ep_ftab), &i, &sl, BPF_EXIST) < 0) {
		fprintf(stderr, "bpf_ftab: writing slot %u: %s\n", i, strerror(errno));
		exit(1);
	}
}

static uint32_t hash_count(int fd)
{
	struct ep_flow_key k, next, *prev = NULL;
	uint32_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

int main(void)
{
	struct ep_bpf_cfg cfg = {0};
	struct ep_bpf_lpm4 local = {32, {192, 0, 2, 1}};
	struct ctx c;
	uint32_t zero = 0, one = 1;
	uint64_t closed, timeouts;
	char err[256];
	int a;

	if (geteuid() != 0) {
		fprintf(stderr, "bpf_ftab: needs root (loads BPF): skipped\n");
		return 77;
	}
	libbpf_set_print(NULL);
	memset(&c, 0, sizeof(c));
	c.skel = edgeprobe_bpf__open();
	if (!c.skel || ep_bpf_slog_size(c.skel, 1024) < 0 || edgeprobe_bpf__load(c.skel) < 0) {
		fprintf(stderr, "bpf_ftab: cannot load the BPF programs\n");
		return 1;
	}
	if (ep_bpf_drain_init(&c.d, c.skel, 64, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "bpf_ftab: %s\n", err);
		return 1;
	}
	ep_hdr_cfg_init(&cfg.hdr, EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
			EP_HIST_DEFAULT_DIGITS);
	cfg.has_local = 1;
	cfg.slog_n = c.d.slog_n;
	cfg.ftab_mask = 1; /* one set: every flow competes for slots 0 and 1 */
	bpf_map_update_elem(bpf_map__fd(c.skel->maps.ep_cfg), &zero, &cfg, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(c.skel->maps.ep_local4), &local, &one, BPF_ANY);
	c.prog = bpf_program__fd(c.skel->progs.ep_tc_ingress);

	/* Two flows fill the set; a third overflows into the hash, tracked there. */
	open_flow(&c, 30001);
	open_flow(&c, 30002);
	read_stats(&c);
	CHECK(slot_of(&c, 30001) >= 0 && slot_of(&c, 30002) >= 0, "A and B not in the array");
	CHECK(c.d.ftab_used == 2, "ftab_used %lld, want 2", (long long)c.d.ftab_used);
	CHECK(c.stats[EP_ST_flows_promoted] == 2 && !c.stats[EP_ST_bpf_ftab_overflow],
	      "promoted %llu overflow %llu, want 2 and 0",
	      (unsigned long long)c.stats[EP_ST_flows_promoted],
	      (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow]);
	open_flow(&c, 30003);
	read_stats(&c);
	CHECK(c.stats[EP_ST_bpf_ftab_overflow] == 1 && slot_of(&c, 30003) < 0 &&
		  hash_count(bpf_map__fd(c.skel->maps.ep_flows)) == 1,
	      "C: overflow %llu, in the array %d, want 1 and not",
	      (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow], slot_of(&c, 30003));
	CHECK(c.stats[EP_ST_flows_promoted] == 3, "promoted %llu, want 3",
	      (unsigned long long)c.stats[EP_ST_flows_promoted]);

	/* A closed flow keeps its slot while it is recent, then gives it up. */
	a = slot_of(&c, 30001);
	reset_flow(&c, 30001);
	open_flow(&c, 30004);
	read_stats(&c);
	closed = c.stats[EP_ST_flows_closed];
	CHECK(c.stats[EP_ST_bpf_ftab_overflow] == 2 && slot_of(&c, 30001) == a,
	      "D beside a recently closed A: overflow %llu, A in slot %d",
	      (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow], slot_of(&c, 30001));
	age_slot(&c, (uint32_t)a, EP_BPF_FTAB_CLOSED_S + 1);
	open_flow(&c, 30005);
	read_stats(&c);
	CHECK(slot_of(&c, 30005) == a && c.d.ftab_used == 2 &&
		  c.stats[EP_ST_bpf_ftab_overflow] == 2 && !c.stats[EP_ST_flows_timeout] &&
		  c.stats[EP_ST_flows_closed] == closed,
	      "E over a quiet closed A: slot %d (want %d), ftab_used %lld, overflow %llu, "
	      "timeouts %llu, closed %llu (want %llu)",
	      slot_of(&c, 30005), a, (long long)c.d.ftab_used,
	      (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow],
	      (unsigned long long)c.stats[EP_ST_flows_timeout],
	      (unsigned long long)c.stats[EP_ST_flows_closed], (unsigned long long)closed);

	/* A live flow gives up its slot only after the idle timeout, ended as one. */
	a = slot_of(&c, 30002);
	age_slot(&c, (uint32_t)a, EP_BPF_FTAB_IDLE_S - 5);
	open_flow(&c, 30006);
	read_stats(&c);
	CHECK(slot_of(&c, 30002) == a && c.stats[EP_ST_bpf_ftab_overflow] == 3,
	      "F beside B idle for less than the timeout: B in slot %d, overflow %llu",
	      slot_of(&c, 30002), (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow]);
	age_slot(&c, (uint32_t)a, 10);
	open_flow(&c, 30007);
	read_stats(&c);
	CHECK(slot_of(&c, 30007) == a && c.stats[EP_ST_flows_timeout] == 1 &&
		  c.stats[EP_ST_flows_closed] == closed + 1,
	      "G over an idle B: slot %d (want %d), timeouts %llu, closed %llu (want %llu)",
	      slot_of(&c, 30007), a, (unsigned long long)c.stats[EP_ST_flows_timeout],
	      (unsigned long long)c.stats[EP_ST_flows_closed], (unsigned long long)closed + 1);

	/* A new connection on a closed tuple in the array: its slot is emptied, then refilled. */
	a = slot_of(&c, 30005);
	reset_flow(&c, 30005);
	put_frame(&c, REMOTE, LOCAL, 30005, 443, 7000, 0, 0x02, 0);
	read_stats(&c);
	CHECK(slot_of(&c, 30005) < 0 && c.d.ftab_used == 1,
	      "SYN on E's closed tuple: E in slot %d, ftab_used %lld (want 1)",
	      slot_of(&c, 30005), (long long)c.d.ftab_used);
	put_frame(&c, LOCAL, REMOTE, 443, 30005, 9000, 7001, 0x12, 0);
	put_frame(&c, REMOTE, LOCAL, 30005, 443, 7001, 9001, 0x10, 100);
	read_stats(&c);
	CHECK(slot_of(&c, 30005) == a && c.d.ftab_used == 2,
	      "E's new connection: slot %d (want %d), ftab_used %lld (want 2)",
	      slot_of(&c, 30005), a, (long long)c.d.ftab_used);

	/*
	 * The end of the run ends every flow not yet ended: G and the new E in the
	 * array, C, D and F in the overflow hash (A, B and the first E have ended).
	 */
	closed = c.stats[EP_ST_flows_closed];
	timeouts = c.stats[EP_ST_flows_timeout];
	a = ep_bpf_drain_end_flows(&c.d, c.skel, c.stats);
	CHECK(a == 0, "ending the flows: %s", strerror(-a));
	CHECK(c.stats[EP_ST_flows_closed] == closed + 5 && c.stats[EP_ST_flows_timeout] == timeouts,
	      "the end: %llu flows closed, want %llu",
	      (unsigned long long)c.stats[EP_ST_flows_closed], (unsigned long long)closed + 5);
	CHECK(!c.stats[EP_ST_bpf_map_full], "%llu map updates failed",
	      (unsigned long long)c.stats[EP_ST_bpf_map_full]);
	printf("{\"promoted\":%llu,\"overflow\":%llu,\"timeouts\":%llu,\"closed\":%llu}\n",
	       (unsigned long long)c.stats[EP_ST_flows_promoted],
	       (unsigned long long)c.stats[EP_ST_bpf_ftab_overflow],
	       (unsigned long long)c.stats[EP_ST_flows_timeout],
	       (unsigned long long)c.stats[EP_ST_flows_closed]);
	ep_bpf_drain_fini(&c.d);
	edgeprobe_bpf__destroy(c.skel);
	if (g_fails)
		printf("FAIL\n");
	return g_fails ? 1 : 0;
}
