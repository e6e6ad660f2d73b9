/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk.h - what the DPDK probe's parts share: the context (struct ep_dpdk:
 * workers, clocks, the stop flag), a worker's state and its hand-off set.
 * ports.c sets up ports and RSS and keeps the device clocks; worker.c runs
 * on the worker lcores; export.c merges and exports on the main lcore;
 * main.c sets it all up.
 */
#ifndef EP_DPDK_H
#define EP_DPDK_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "devclock.h"
#include "merge.h"
#include "probe.h"
#include "tracker.h"

#define MAX_WORKERS 16
#define MAX_WORKER_QUEUES 16
#define SLOTS_PER_WORKER 16
#define MAX_XSK 64 /* AF_XDP sockets whose ring-full drops are counted */
#define SET_BINS 65536 /* histogram buckets a hand-off set holds at first (grows) */
#define NB_RXD 4096 /* per queue: ~2 ms of a 10 Mpps burst while a worker is descheduled */
#define IDLE_ROUNDS 256 /* consecutive empty poll rounds that make a worker idle */

struct rxq {
	uint16_t port;
	uint16_t queue;
	uint16_t ts_mult; /* RX timestamp dynfield to ns (net_pcap: microseconds); 0: see devclock */
	uint8_t devclock; /* RX timestamps in device clock ticks, converted by port_clocks[port] */
};

/*
 * Ports whose RX timestamps count device clock ticks: the conversion to wall
 * time, calibrated at start and re-based by the main lcore every second
 * (published under a sequence count; a worker copies it once per burst).
 */
struct port_clock {
	uint32_t seq;                 /* odd while main writes */
	uint64_t base_ticks, base_ns, mult;
	uint64_t last_ticks, last_ns; /* main's latest reading */
};

static inline void devclock_read(const struct port_clock *pc, struct ep_devclock *c)
{
	uint32_t s0, s1;

	do {
		s0 = __atomic_load_n(&pc->seq, __ATOMIC_ACQUIRE);
		c->base_ticks = __atomic_load_n(&pc->base_ticks, __ATOMIC_RELAXED);
		c->base_ns = __atomic_load_n(&pc->base_ns, __ATOMIC_RELAXED);
		c->mult = __atomic_load_n(&pc->mult, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s1 = __atomic_load_n(&pc->seq, __ATOMIC_RELAXED);
	} while (s0 != s1 || (s0 & 1));
}

/*
 * A closed window on its way from a worker to the main lcore, by pointer: the
 * ASN records with their histograms as runs of non-zero (index, count)
 * buckets -- what the worker scans anyway before it resets them, without
 * encoding or compression.  Main merges them (ep_merge_add_sparse) and sends
 * the set back on the free ring.  Dense histograms were tried: a histogram of
 * 10 samples spread over 5-205 ms touches ~1,000 buckets, and moving those
 * across cores twice made a 3,000-ASN window 2-5x slower than encoding it.
 */
struct wset {
	uint64_t start_ns, end_ns;
	uint64_t stats[EP_ST__COUNT];
	struct ep_hdr_cfg cfg;           /* of every histogram in bins */
	struct ep_hbin *bins;
	uint32_t nbins, bins_cap;
	uint32_t n, cap;
	struct ep_sparse_asn asns[];
};

struct ep_dpdk;

/* Per worker lcore: written by its worker; the *_pub fields are read by main. */
struct worker {
	const struct ep_dpdk *dp;        /* the probe's context (read only here) */
	unsigned int lcore;
	struct ep_tracker *tracker;
	struct rxq q[MAX_WORKER_QUEUES];
	int nq;
	struct rte_ring *full, *free;
	struct wset *slots[SLOTS_PER_WORKER];
	struct wset *spare;              /* a set kept back (its window dropped) for the next one */
	int flushed;                     /* a window closed in this round */
	int packet_clock;                /* timestamps from the port: replay */
	uint64_t windows_dropped_pub;    /* windows lost for want of a free slot */
	/* published */
	uint64_t win_start_pub;          /* start of the worker's open window */
	uint64_t last_rx_tsc_pub;
	uint64_t empty_rounds_pub;       /* consecutive polls of all its queues that found nothing */
	uint64_t packets_pub, cycles_pub;
	uint64_t flush_rounds_pub, flush_cycles_pub; /* rounds that closed a window, their cycles */
	uint64_t rounds_pub, round_cycles_pub;       /* rounds with packets and no window closed */
	int done_pub;
	/* set by main */
	uint64_t advance_to;             /* replay: close windows up to here when idle */
	const struct ep_asn_map *asn_new; /* SIGHUP: adopt this map, then clear (release/acquire) */
} __rte_cache_aligned;


/* The probe's context: one per process, set up by main, its pointer given to every part. */
struct ep_dpdk {
	struct worker workers[MAX_WORKERS];
	int nworkers;
	volatile int stop;               /* set by main: workers flush and return */
	uint64_t ts_dynflag;             /* the mbuf RX timestamp flag and field */
	int ts_dynoff;
	uint64_t tsc_hz, tsc_base, wall_base_ns;
	struct port_clock port_clocks[RTE_MAX_ETHPORTS];
	int xsk_fds[MAX_XSK];            /* the af_xdp PMD's sockets (xsk.c) */
	int nxsk;
};

/* Nanoseconds from TSC value then to now; 0 when then is later (another core's read). */
static inline uint64_t ep_dpdk_tsc_since_ns(const struct ep_dpdk *dp, uint64_t then, uint64_t now)
{
	return now > then ? (now - then) * 1000000000ull / dp->tsc_hz : 0;
}

/* ports.c */
#define DEVCLOCK_REBASE_S 1
/*
 * Configure, start and calibrate a port: RX queues for the workers (symmetric
 * RSS when there are several), RX timestamps when the device offers them.
 * @return 0 with the queue count and timestamp kind set, or < 0 (logged).
 */
int ep_dpdk_port_setup(struct ep_dpdk *dp, uint16_t port, struct rte_mempool *pool, int *nq_out,
		       uint16_t *ts_mult, uint8_t *devclock);
/* A new device clock reading (main lcore, every second). @return 0 or < 0. */
int ep_dpdk_devclock_rebase(struct ep_dpdk *dp, uint16_t port, int first);

/* xsk.c */
/* Find the AF_XDP sockets the af_xdp PMD opened.  @return how many, or -errno. */
int ep_dpdk_xsk_find(struct ep_dpdk *dp);
/* Packets dropped so far because their sockets' RX rings were full (not in imissed). */
uint64_t ep_dpdk_xsk_ring_full(const struct ep_dpdk *dp);

/* worker.c */
/* The tracker's window callback (ctx: the worker). */
void ep_dpdk_worker_window(const struct ep_window *win, void *ctx);
/* A worker lcore's loop (arg: the worker). */
int ep_dpdk_worker_main(void *arg);

/* export.c: the main lcore's merge and export. */
struct exporter_state {
	struct ep_dpdk *dp;
	struct ep_probe *probe;
	uint32_t delay_ms;           /* test knob: a slow exporter, per exported window */
	struct ep_merge *merge;
	uint64_t stats[MAX_WORKERS][EP_ST__COUNT]; /* latest cumulative counters per worker */
	uint64_t windows, merge_errors;
	uint64_t dropped_seen;       /* worker and merge drops already given to the exporter */
	uint64_t interval_ns;
	uint64_t last_start[MAX_WORKERS]; /* start of the newest window taken from each worker */
};

/* Per-port and per-worker counters for the window's stats record. */
void ep_dpdk_fill_sources(struct exporter_state *x, struct ep_window *w);
/* The probe counters summed over workers and ports. */
void ep_dpdk_sum_stats(struct exporter_state *x, uint64_t *out);
/* Merge what the workers handed over, up to the watermark (see export.c). */
void ep_dpdk_drain(struct exporter_state *x, uint64_t watermark);
/* Export the merged windows every worker has moved past (final: all). */
void ep_dpdk_export_ready(struct exporter_state *x, int final);
/* Log each worker's counters. */
void ep_dpdk_log_stats(const struct ep_dpdk *dp);

/* lcores.c */
/*
 * The context's lcores (main exports, at least one worker), RX timestamp field,
 * clocks, and an mbuf pool (mbufs, 0: 8191 per worker + 4095); *packet_clock 1
 * when every port is a capture file (a replay, on the packets' clock).
 * @return the pool, or NULL (logged)
 */
struct rte_mempool *ep_dpdk_init(struct ep_dpdk *dp, uint32_t mbufs, int *packet_clock);
/*
 * Every worker lcore's tracker (live: every worker emits every window; a
 * replay: windows as its packets' timestamps say), rings and preallocated
 * sets.  @return 0, or -1 (logged)
 */
int ep_dpdk_workers_setup(struct ep_dpdk *dp, struct ep_probe *probe,
			  const struct ep_probe_opts *po, int packet_clock);
/* Set up every port; queue q of every port goes to worker q. @return 0, or -1 (logged) */
int ep_dpdk_queues_assign(struct ep_dpdk *dp, struct rte_mempool *pool);
/* Stop and close the ports, free what the workers held. */
void ep_dpdk_workers_free(struct ep_dpdk *dp);

/* run.c: the main lcore from the workers' launch to the run's end. */
struct ep_dpdk_run {
	uint32_t stop_idle_ms, run_s, stats_s; /* stop rules (0: none), stats log period */
	struct ep_probe_signals *sig;
	const struct ep_probe_opts *po;
};
/*
 * Launch the workers; until a signal or a stop rule: SIGHUP/SIGUSR1, export,
 * per-worker stats, device clock readings; then export what the workers
 * flush and wait for them.
 */
void ep_dpdk_run(struct exporter_state *x, const struct ep_dpdk_run *run);
/* The summary record, --report, the last log line. @return the exit code (0 or 1) */
int ep_dpdk_finish(struct exporter_state *x, const struct ep_probe_opts *po, int packet_clock);

#endif
