/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe - the DPDK probe: worker lcores poll NIC queues (one RX queue per
 * worker on every port, symmetric RSS so both directions of a flow meet on one
 * worker), parse and track into per-worker state, and hand each closed window
 * to the main lcore, which merges the workers' windows and exports them.
 *
 * Hand-off: a worker copies a closed window into one of its preallocated
 * sets (counters and histograms as sparse bucket runs, struct wset) and
 * enqueues the set's pointer on its own single-producer ring; the main lcore
 * merges the histograms directly and returns the set.  Live, a worker never
 * waits: with no free set the window is dropped and counted.  Replaying a
 * capture (the packet clock), it waits for a slot, as the libpcap probe blocks
 * rather than drops when reading a file: a replay loses nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "edgeprobe/ep_parse.h"
#include "devclock.h"
#include "log.h"
#include "merge.h"
#include "privdrop.h"
#include "wallclock.h"
#include "probe.h"
#include "report.h"
#include "wire.h"

#define EP_MAX_BURST 32
#define EP_PREFETCH_OFFSET 4
#define MAX_WORKERS 16
#define MAX_WORKER_QUEUES 16
#define SLOTS_PER_WORKER 16
#define SET_BINS 65536 /* histogram buckets a hand-off set holds at first (grows) */
#define NB_RXD 4096 /* per queue: ~2 ms of a 10 Mpps burst while a worker is descheduled */
#define IDLE_ROUNDS 256 /* consecutive empty poll rounds that make a worker idle */

/* Symmetric Toeplitz key: the 16-bit pattern repeated makes hash(a,b) == hash(b,a). */
static uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

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
static struct port_clock port_clocks[RTE_MAX_ETHPORTS];

#define DEVCLOCK_REBASE_S 1

static void devclock_publish(struct port_clock *pc, const struct ep_devclock *c)
{
	__atomic_store_n(&pc->seq, pc->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&pc->base_ticks, c->base_ticks, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->base_ns, c->base_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->mult, c->mult, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->seq, pc->seq + 1, __ATOMIC_RELEASE);
}

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
 * Main lcore: a new (device clock, wall clock) reading; from the previous one,
 * the rate over the last interval.  first: the start (readings 100 ms apart).
 * @return 0, or < 0 when the device clock cannot be read or did not advance.
 */
static int devclock_rebase(uint16_t port, int first)
{
	struct port_clock *pc = &port_clocks[port];
	struct ep_devclock c;
	uint64_t ticks;
	int ret;

	if (first) {
		if ((ret = rte_eth_read_clock(port, &pc->last_ticks)) != 0)
			return ret;
		pc->last_ns = ep_wall_ns();
		rte_delay_us_sleep(100000);
	}
	if ((ret = rte_eth_read_clock(port, &ticks)) != 0)
		return ret;
	ret = ep_devclock_calibrate(&c, pc->last_ticks, pc->last_ns, ticks, ep_wall_ns());
	if (ret < 0)
		return ret;
	pc->last_ticks = c.base_ticks;
	pc->last_ns = c.base_ns;
	devclock_publish(pc, &c);
	return 0;
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

/* Per worker lcore: written by its worker; the *_pub fields are read by main. */
struct worker {
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

static struct worker workers[MAX_WORKERS];
static int nworkers;
static volatile int stop_flag;
static uint64_t ts_dynflag;
static int ts_dynoff = -1;
static uint64_t tsc_hz, tsc_base, wall_base_ns;

/* Nanoseconds from TSC value then to now; 0 when then is later (another core's read). */
static inline uint64_t tsc_since_ns(uint64_t then, uint64_t now)
{
	return now > then ? (now - then) * 1000000000ull / tsc_hz : 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static volatile sig_atomic_t reload_flag;

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

/* The TSC as wall-clock nanoseconds (for ports without RX timestamps). */
static inline uint64_t tsc_ns(uint64_t tsc)
{
	return wall_base_ns + (uint64_t)((double)(tsc - tsc_base) * 1e9 / (double)tsc_hz);
}

/* ------------------------------------------------------------------------ */
/* Worker                                                                     */
/* ------------------------------------------------------------------------ */

/* The histogram's non-zero buckets appended to the set. @return 0, -ENOMEM */
static int set_put_hist(struct wset *set, const struct ep_hist *h)
{
	uint32_t need = (uint32_t)(h->max_idx - h->min_idx + 1);
	int32_t i;

	if (set->nbins + need > set->bins_cap) {
		/* Rare: a window with more buckets than any before; the set keeps the room. */
		uint32_t cap = set->bins_cap * 2;
		struct ep_hbin *b;

		while (cap < set->nbins + need)
			cap *= 2;
		b = realloc(set->bins, (size_t)cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		set->bins = b;
		set->bins_cap = cap;
	}
	for (i = h->min_idx; i <= h->max_idx; i++)
		if (h->counts[i])
			set->bins[set->nbins++] = (struct ep_hbin){i, h->counts[i]};
	return 0;
}

/* Tracker callback on the worker: the window goes to main in a set, by pointer. */
static void worker_window(const struct ep_window *win, void *ctx)
{
	struct worker *w = ctx;
	struct wset *set;
	uint32_t i, k, n;
	void *p;

	if (w->spare) {
		p = w->spare;
		w->spare = NULL;
	} else {
		while (rte_ring_sc_dequeue(w->free, &p) != 0) {
			if (!w->packet_clock) {
				__atomic_add_fetch(&w->windows_dropped_pub, 1, __ATOMIC_RELAXED);
				return;
			}
			rte_pause(); /* replay: wait for the exporter */
		}
	}
	set = p;
	set->start_ns = win->start_ns;
	set->end_ns = win->end_ns;
	memcpy(set->stats, win->stats, sizeof(set->stats));
	set->nbins = 0;
	n = win->nasns < set->cap ? win->nasns : set->cap; /* cap: the tracker's ASN slots */
	for (i = 0; i < n; i++) {
		const struct ep_window_asn *a = &win->asns[i];
		struct ep_sparse_asn *r = &set->asns[i];

		r->asn = a->asn;
		r->org = a->org;
		memcpy(r->c, a->c, sizeof(r->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			uint32_t off = set->nbins;

			r->nbins[k] = 0;
			r->clamped[k] = 0;
			r->bins[k] = NULL;
			if (!a->h[k] || !a->h[k]->total)
				continue;
			if (set_put_hist(set, a->h[k]) < 0) {
				__atomic_add_fetch(&w->windows_dropped_pub, 1, __ATOMIC_RELAXED);
				w->spare = set; /* only main may put it back on the free ring */
				return;
			}
			set->cfg = a->h[k]->cfg;
			r->nbins[k] = set->nbins - off;
			r->clamped[k] = a->h[k]->clamped;
			r->bins[k] = (const struct ep_hbin *)(uintptr_t)off; /* an offset until bins stops moving */
		}
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			if (set->asns[i].nbins[k])
				set->asns[i].bins[k] = set->bins + (uintptr_t)set->asns[i].bins[k];
	set->n = n;
	w->flushed = 1;
	rte_ring_sp_enqueue(w->full, set);
	/* Moved past this window: published after the enqueue (see export_ready). */
	__atomic_store_n(&w->win_start_pub, win->end_ns, __ATOMIC_RELEASE);
}

static inline uint64_t pkt_time(const struct rte_mbuf *m, const struct rxq *q,
				const struct ep_devclock *dc, uint64_t now_ns)
{
	if (!(m->ol_flags & ts_dynflag))
		return now_ns;
	if (q->ts_mult)
		return *RTE_MBUF_DYNFIELD(m, ts_dynoff, uint64_t *) * q->ts_mult;
	if (q->devclock)
		return ep_devclock_ns(dc, *RTE_MBUF_DYNFIELD(m, ts_dynoff, uint64_t *));
	return now_ns;
}

static int worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pk[EP_MAX_BURST];
	uint64_t packets = 0, cycles = 0, last_rx = rte_rdtsc(), empty = 0;
	uint64_t flush_rounds = 0, flush_cycles = 0, rounds = 0, round_cycles = 0;
	struct ep_pkt pkts[EP_MAX_BURST];
	uint64_t times[EP_MAX_BURST];

	while (!stop_flag) {
		uint64_t tsc = rte_rdtsc(), now = tsc_ns(tsc), got = 0;
		const struct ep_asn_map *m;
		int qi;

		/* A reloaded ASN table (SIGHUP): one relaxed load per round, adopted between bursts. */
		if (unlikely((m = __atomic_load_n(&w->asn_new, __ATOMIC_ACQUIRE)) != NULL)) {
			ep_tracker_set_asn_map(w->tracker, m);
			__atomic_store_n(&w->asn_new, NULL, __ATOMIC_RELEASE);
		}

		for (qi = 0; qi < w->nq; qi++) {
			const struct rxq *q = &w->q[qi];
			uint16_t n = rte_eth_rx_burst(q->port, q->queue, pk, EP_MAX_BURST), j, ntcp = 0;
			struct ep_devclock dc;

			if (n == 0)
				continue;
			if (q->devclock)
				devclock_read(&port_clocks[q->port], &dc);
			for (j = 0; j < n && j < EP_PREFETCH_OFFSET; j++)
				rte_prefetch0(rte_pktmbuf_mtod(pk[j], void *));
			/* Parse the burst, then track it: the tracker prefetches the flows. */
			for (j = 0; j < n; j++) {
				const uint8_t *data = rte_pktmbuf_mtod(pk[j], const uint8_t *);
				enum ep_parse_res res;

				if (j + EP_PREFETCH_OFFSET < n)
					rte_prefetch0(rte_pktmbuf_mtod(pk[j + EP_PREFETCH_OFFSET], void *));
				res = ep_parse_eth(data, data + rte_pktmbuf_data_len(pk[j]), &pkts[ntcp]);
				ep_tracker_count_parse(w->tracker, res);
				if (EP_LIKELY(res == EP_PARSE_OK))
					times[ntcp++] = pkt_time(pk[j], q, &dc, now);
			}
			rte_pktmbuf_free_bulk(pk, n);
			if (ntcp)
				ep_tracker_burst(w->tracker, pkts, times, ntcp);
			got += n;
		}
		/* Idle means polled and found nothing, not merely "not heard from". */
		empty = got ? 0 : empty + 1;
		if (!w->packet_clock)
			ep_tracker_advance(w->tracker, now); /* live: windows close on the wall clock */
		if (w->flushed || got) {
			uint64_t spent = rte_rdtsc() - tsc;

			if (w->flushed) {
				flush_rounds++;
				flush_cycles += spent;
			} else {
				rounds++;
				round_cycles += spent;
			}
			w->flushed = 0;
			if (got) {
				packets += got;
				cycles += spent;
				last_rx = tsc;
			}
		}
		if (!got && w->packet_clock) {
			uint64_t to = __atomic_load_n(&w->advance_to, __ATOMIC_ACQUIRE);

			if (to > ep_tracker_window_start(w->tracker) && ep_tracker_window_start(w->tracker))
				ep_tracker_advance(w->tracker, to); /* replay: follow the others */
		}
		__atomic_store_n(&w->win_start_pub, ep_tracker_window_start(w->tracker),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&w->last_rx_tsc_pub, last_rx, __ATOMIC_RELAXED);
		__atomic_store_n(&w->empty_rounds_pub, empty, __ATOMIC_RELAXED);
		__atomic_store_n(&w->packets_pub, packets, __ATOMIC_RELAXED);
		__atomic_store_n(&w->cycles_pub, cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&w->flush_rounds_pub, flush_rounds, __ATOMIC_RELAXED);
		__atomic_store_n(&w->flush_cycles_pub, flush_cycles, __ATOMIC_RELAXED);
		__atomic_store_n(&w->rounds_pub, rounds, __ATOMIC_RELAXED);
		__atomic_store_n(&w->round_cycles_pub, round_cycles, __ATOMIC_RELAXED);
	}
	ep_tracker_finish(w->tracker);
	__atomic_store_n(&w->done_pub, 1, __ATOMIC_RELEASE);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Ports                                                                      */
/* ------------------------------------------------------------------------ */

static int port_setup(uint16_t port, struct rte_mempool *pool, int *nq_out, uint16_t *ts_mult,
		      uint8_t *devclock)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nq, q, nb_rxd = NB_RXD, nb_txd = 0;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret < 0) {
		ep_log_err("port %u: info: %s", port, rte_strerror(-ret));
		return ret;
	}
	nq = (uint16_t)RTE_MIN((unsigned int)nworkers, info.max_rx_queues);
	if (nq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
		ep_log_info("port %u (%s): %u RX queues, symmetric RSS", port, info.driver_name, nq);
	} else if (nq > 1) {
		ep_log_info("port %u (%s): %u RX queues without RSS (the device splits the "
			    "traffic itself)",
			    port, info.driver_name, nq);
	} else if (nworkers > 1) {
		ep_log_warn("port %u (%s): one RX queue only: one worker polls it", port,
			    info.driver_name);
	}
	/*
	 * RX timestamps: net_pcap writes the capture time in microseconds.  NICs
	 * count ticks of their own clock: with rte_eth_read_clock() these are
	 * calibrated against the wall clock after the start (and every second).
	 * Without either, packets carry the TSC at polling.
	 */
	*ts_mult = 1000;
	*devclock = 0;
	if (strcmp(info.driver_name, "net_pcap") != 0) {
		*ts_mult = 0;
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
			*devclock = 1;
		}
	}
	ret = rte_eth_dev_configure(port, nq, info.max_tx_queues ? 1 : 0, &conf);
	if (ret < 0) {
		ep_log_err("port %u: configure: %s", port, rte_strerror(-ret));
		return ret;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	for (q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd, rte_eth_dev_socket_id(port), NULL, pool);
		if (ret < 0) {
			ep_log_err("port %u: rx queue %u setup: %s", port, q, rte_strerror(-ret));
			return ret;
		}
	}
	if (info.max_tx_queues) {
		ret = rte_eth_tx_queue_setup(port, 0, nb_txd ? nb_txd : 512,
					     rte_eth_dev_socket_id(port), NULL);
		if (ret < 0) {
			ep_log_err("port %u: tx queue setup: %s", port, rte_strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(port);
	if (ret < 0) {
		ep_log_err("port %u: start: %s", port, rte_strerror(-ret));
		return ret;
	}
	rte_eth_promiscuous_enable(port);
	if (*devclock) {
		ret = devclock_rebase(port, 1);
		if (ret < 0) {
			*devclock = 0;
			ep_log_warn("port %u (%s): RX timestamps offered but the device clock cannot "
				    "be calibrated (%s): packets carry the TSC at polling",
				    port, info.driver_name, rte_strerror(-ret));
		} else {
			ep_log_info("port %u (%s): RX timestamps from the device clock, %.3f MHz",
				    port, info.driver_name,
				    1e3 / ((double)port_clocks[port].mult / (double)(1ull << EP_DEVCLOCK_SHIFT)));
		}
	}
	*nq_out = nq;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Main lcore: merge and export                                               */
/* ------------------------------------------------------------------------ */

struct exporter_state {
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
static void fill_sources(struct exporter_state *x, struct ep_window *w)
{
	struct rte_eth_stats ps;
	uint16_t port;
	int i;

	w->nsrc = 0;
	RTE_ETH_FOREACH_DEV(port) {
		if (w->nsrc == EP_WINDOW_MAX_SOURCES || rte_eth_stats_get(port, &ps) != 0)
			continue;
		w->src[w->nsrc++] = (struct ep_source_stats){
			EP_SRC_PORT, port, {ps.ipackets, ps.imissed, ps.rx_nombuf, ps.ierrors}};
	}
	for (i = 0; i < nworkers && w->nsrc < EP_WINDOW_MAX_SOURCES; i++) {
		uint64_t pk = __atomic_load_n(&workers[i].packets_pub, __ATOMIC_RELAXED);
		uint64_t cy = __atomic_load_n(&workers[i].cycles_pub, __ATOMIC_RELAXED);

		w->src[w->nsrc++] = (struct ep_source_stats){
			EP_SRC_WORKER, (uint16_t)i,
			{pk, x->stats[i][EP_ST_flows_active], x->stats[i][EP_ST_flows_evicted],
			 pk ? cy / pk : 0}};
	}
}

static void sum_stats(struct exporter_state *x, uint64_t *out)
{
	struct rte_eth_stats ps;
	uint16_t port;
	int i, k;

	memset(out, 0, EP_ST__COUNT * sizeof(*out));
	for (i = 0; i < nworkers; i++)
		for (k = 0; k < EP_ST__COUNT; k++)
			out[k] += x->stats[i][k];
	RTE_ETH_FOREACH_DEV(port) {
		if (rte_eth_stats_get(port, &ps) == 0) {
			out[EP_ST_src_drops] += ps.imissed + ps.rx_nombuf;
			out[EP_ST_src_ifdrops] += ps.ierrors;
		}
	}
	out[EP_ST_windows] = x->windows;
}

/*
 * Merge the windows the workers handed over: at most one ring's worth per
 * worker, since slots go back at once and a replaying worker refills them
 * immediately -- an unbounded drain would outrun the watermark read before it.
 * Replaying, a worker more than AHEAD_WINDOWS past the watermark is not
 * drained: it waits for slots until the slowest worker catches up, so the
 * merge never holds more windows than it can.
 */
#define AHEAD_WINDOWS (EP_MERGE_MAX_OPEN / 2)
static void drain(struct exporter_state *x, uint64_t watermark)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		void *p;
		int n;

		if (workers[i].packet_clock && watermark != UINT64_MAX &&
		    x->last_start[i] >= watermark + AHEAD_WINDOWS * x->interval_ns)
			continue;
		for (n = 0; n < SLOTS_PER_WORKER && rte_ring_sc_dequeue(workers[i].full, &p) == 0;
		     n++) {
			struct wset *s = p;

			memcpy(x->stats[i], s->stats, sizeof(s->stats));
			x->last_start[i] = s->start_ns;
			if (ep_merge_add_sparse(x->merge, s->start_ns, s->end_ns, &s->cfg, s->asns,
						s->n) < 0)
				x->merge_errors++;
			rte_ring_sp_enqueue(workers[i].free, p);
		}
	}
}

/*
 * Export merged windows every worker has moved past.  The watermarks are read
 * before the rings are drained: a worker enqueues a window before it publishes
 * that it has moved on, so every window below the watermark is in hand.
 */
static void export_ready(struct exporter_state *x, int final)
{
	uint64_t watermark = UINT64_MAX, active_min = UINT64_MAX;
	struct ep_window w;
	int i;

	for (i = 0; i < nworkers; i++) {
		struct worker *wk = &workers[i];
		uint64_t start = __atomic_load_n(&wk->win_start_pub, __ATOMIC_ACQUIRE);
		int idle = __atomic_load_n(&wk->empty_rounds_pub, __ATOMIC_RELAXED) >= IDLE_ROUNDS;

		if (__atomic_load_n(&wk->done_pub, __ATOMIC_ACQUIRE))
			continue;
		if (start == 0) {
			/* No packet yet: wait for it, unless its queues have stayed empty. */
			if (!idle)
				watermark = 0;
			continue;
		}
		if (start < watermark)
			watermark = start;
		if (!idle && start < active_min)
			active_min = start;
	}
	/* Replay: idle workers close their windows up to where the active ones are. */
	for (i = 0; i < nworkers; i++)
		if (workers[i].packet_clock && active_min != UINT64_MAX)
			__atomic_store_n(&workers[i].advance_to, active_min, __ATOMIC_RELEASE);
	if (final)
		watermark = UINT64_MAX;
	drain(x, watermark);
	{
		uint64_t dropped = ep_merge_dropped(x->merge);

		for (i = 0; i < nworkers; i++)
			dropped += __atomic_load_n(&workers[i].windows_dropped_pub, __ATOMIC_RELAXED);
		ep_exporter_count_dropped(x->probe->exporter, dropped - x->dropped_seen);
		x->dropped_seen = dropped;
	}
	while (ep_merge_pop(x->merge, watermark, &w)) {
		x->windows++;
		sum_stats(x, w.stats);
		fill_sources(x, &w);
		ep_exporter_window(&w, x->probe->exporter);
		ep_exporter_patch_stats(x->probe->exporter, w.stats);
		ep_probe_watch(x->probe, w.stats);
		if (x->delay_ms)
			rte_delay_us_sleep(x->delay_ms * 1000u);
	}
}

static void log_stats(void)
{
	int i;

	for (i = 0; i < nworkers; i++) {
		uint64_t pk = __atomic_load_n(&workers[i].packets_pub, __ATOMIC_RELAXED);
		uint64_t cy = __atomic_load_n(&workers[i].cycles_pub, __ATOMIC_RELAXED);

		uint64_t fr = __atomic_load_n(&workers[i].flush_rounds_pub, __ATOMIC_RELAXED);
		uint64_t fc = __atomic_load_n(&workers[i].flush_cycles_pub, __ATOMIC_RELAXED);
		uint64_t r = __atomic_load_n(&workers[i].rounds_pub, __ATOMIC_RELAXED);
		uint64_t rc = __atomic_load_n(&workers[i].round_cycles_pub, __ATOMIC_RELAXED);

		ep_log_info("worker %d (lcore %u): %llu packets, %.0f cycles/packet, %u flows; "
			    "rounds closing a window %.0f cycles (%llu), others %.0f cycles (%llu)", i,
			    workers[i].lcore, (unsigned long long)pk, pk ? (double)cy / (double)pk : 0.0,
			    (unsigned int)ep_tracker_stats(workers[i].tracker)[EP_ST_flows_active],
			    fr ? (double)fc / (double)fr : 0.0, (unsigned long long)fr,
			    r ? (double)rc / (double)r : 0.0, (unsigned long long)r);
	}
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                      */
/* ------------------------------------------------------------------------ */

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: edgeprobe [EAL options] -- [options]\n"
		"\n"
		"The DPDK probe: worker lcores poll every port's RX queues (one per worker,\n"
		"symmetric RSS); the main lcore merges and exports 100 ms windows.\n"
		"Example: edgeprobe -l 0,1 --no-huge --no-pci --vdev net_pcap0,rx_pcap=trace.pcap \\\n"
		"             -- --stop-after-idle 500 --json-out -\n"
		"\n"
		"Probe options:\n"
		"  --stop-after-idle MS   flush and exit after MS without packets (replays, tests)\n"
		"  --run-seconds S        flush and exit after S seconds\n"
		"  --mbufs N              mbuf pool size (default 8191 per worker + 4095)\n"
		"  --test-export-delay-ms MS  (tests) sleep MS after exporting each window\n"
		"  --stats-interval S     log per-worker counters every S seconds (default 10, 0: off)\n"
		"\n%s",
		ep_probe_usage);
}

enum { O_IDLE = 1, O_STATS, O_HELP, O_RUN, O_DELAY, O_MBUFS };

struct args {
	uint32_t stop_idle_ms, stats_s, run_s, delay_ms, mbufs;
};

static int own_opt(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct args *a = ctx;

	switch (id) {
	case O_IDLE:
		return ep_parse_u32_arg("stop-after-idle", arg, 1, 86400000, &a->stop_idle_ms, err,
					errlen);
	case O_RUN:
		return ep_parse_u32_arg("run-seconds", arg, 1, 31536000, &a->run_s, err, errlen);
	case O_MBUFS:
		return ep_parse_u32_arg("mbufs", arg, 1024, 1u << 26, &a->mbufs, err, errlen);
	case O_DELAY:
		return ep_parse_u32_arg("test-export-delay-ms", arg, 0, 10000, &a->delay_ms, err,
					errlen);
	case O_STATS:
		return ep_parse_u32_arg("stats-interval", arg, 0, 86400, &a->stats_s, err, errlen);
	default: /* O_HELP */
		usage(stdout);
		return 1;
	}
}

/*
 * SIGHUP: load the ASN data again; hand the new table to every worker, wait
 * until each has adopted it (they poll constantly), then free the old one.
 * A bad file is refused and the current table kept.
 */
static void reload_asn(struct ep_probe *p, const struct ep_probe_opts *po, struct exporter_state *x)
{
	struct ep_asn_map *m;
	char err[512];
	int i, pending;
	uint64_t deadline;

	if (ep_probe_load_asn(po, &m, err, sizeof(err)) < 0) {
		ep_log_err("SIGHUP: ASN data not reloaded, keeping the current table: %s", err);
		return;
	}
	for (i = 0; i < nworkers; i++)
		__atomic_store_n(&workers[i].asn_new, m, __ATOMIC_RELEASE);
	deadline = rte_rdtsc() + 5 * rte_get_tsc_hz();
	do {
		pending = 0;
		for (i = 0; i < nworkers; i++)
			pending += __atomic_load_n(&workers[i].asn_new, __ATOMIC_ACQUIRE) != NULL;
		if (pending)
			rte_pause();
	} while (pending && rte_rdtsc() < deadline);
	if (pending) {
		/* A worker did not come round (stuck?): keep both tables rather than risk a free. */
		ep_log_err("SIGHUP: %d workers did not adopt the new ASN table in 5 s", pending);
		return;
	}
	/* Sets closed before the switch name organisations of the old table: merge (copy) them first. */
	drain(x, UINT64_MAX);
	ep_asn_map_free(p->asn);
	p->asn = m;
	ep_log_info("SIGHUP: ASN data reloaded");
}

int main(int argc, char **argv)
{
	static const struct option own[] = {
		{"stop-after-idle", required_argument, NULL, O_IDLE},
		{"run-seconds", required_argument, NULL, O_RUN},
		{"mbufs", required_argument, NULL, O_MBUFS},
		{"test-export-delay-ms", required_argument, NULL, O_DELAY},
		{"stats-interval", required_argument, NULL, O_STATS},
		{"help", no_argument, NULL, O_HELP},
	};
	struct args args = {.stats_s = 10};
	struct ep_probe_opts po;
	struct ep_probe probe;
	struct exporter_state x;
	struct rte_mempool *pool = NULL;
	int ret, i, packet_clock = 1;
	unsigned int lcore;
	uint16_t port;
	char err[512] = "";
	uint64_t last_stats, started, last_rebase;

	memset(&x, 0, sizeof(x));
	memset(&probe, 0, sizeof(probe));
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "edgeprobe: EAL initialisation failed: %s (check the EAL options "
				"before '--'; without hugepages use --no-huge)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	rte_log_set_global_level(RTE_LOG_WARNING);

	ep_probe_opts_defaults(&po);
	ret = ep_probe_parse_args(argc, argv, own, sizeof(own) / sizeof(own[0]), own_opt, &args, &po,
				  err, sizeof(err));
	if (ret == 1) {
		ret = 0;
		goto cleanup;
	}
	if (ret < 0)
		goto usage_err;

	nworkers = (int)rte_lcore_count() - 1;
	if (nworkers < 1 || nworkers > MAX_WORKERS) {
		ep_log_err("need 2 to %d lcores (-l 0,1 ...): the main lcore exports, the others "
			   "poll; got %u",
			   MAX_WORKERS + 1, rte_lcore_count());
		goto fail;
	}
	if (rte_eth_dev_count_avail() == 0) {
		ep_log_err("no ports: give a device (-a PCI) or a virtual one (--vdev net_pcap0,"
			   "rx_pcap=FILE)");
		goto fail;
	}
	if (rte_mbuf_dyn_rx_timestamp_register(&ts_dynoff, &ts_dynflag) < 0) {
		ep_log_err("cannot register the mbuf RX timestamp field");
		goto fail;
	}
	tsc_hz = rte_get_tsc_hz();
	tsc_base = rte_rdtsc();
	wall_base_ns = ep_wall_ns();

	if (!args.mbufs)
		args.mbufs = 8191 * (unsigned int)nworkers + 4095;
	pool = rte_pktmbuf_pool_create("ep_mbufs", args.mbufs, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!pool) {
		ep_log_err("mbuf pool: %s (try -m 512 with --no-huge)", rte_strerror(rte_errno));
		goto fail;
	}
	/* A replay (every port is a capture file) delivers to the collectors without loss. */
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0 || strcmp(info.driver_name, "net_pcap"))
			packet_clock = 0;
	}
	ret = ep_probe_setup(&probe, &po, packet_clock, 0, 0, err, sizeof(err));
	if (ret < 0) {
		ep_log_err("%s", err);
		goto fail;
	}
	if (ep_merge_new(&x.merge) < 0)
		goto fail;
	x.probe = &probe;
	x.delay_ms = args.delay_ms;
	x.interval_ns = (uint64_t)po.interval_ms * 1000000ull;

	/* Workers: a tracker, rings and slots each. */
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *w = &workers[i];
		struct ep_tracker_cfg cfg;
		char name[32];
		int s;

		w->lcore = lcore;
		ep_probe_tracker_cfg(&probe, &po, 0, &cfg);
		cfg.on_window = worker_window;
		cfg.ctx = w;
		if (ep_tracker_new(&cfg, &w->tracker) < 0) {
			ep_log_err("worker %d: tracker for %u flows: out of memory", i, po.max_flows);
			goto fail;
		}
		snprintf(name, sizeof(name), "ep_full%d", i);
		w->full = rte_ring_create(name, SLOTS_PER_WORKER * 2, rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ep_free%d", i);
		w->free = rte_ring_create(name, SLOTS_PER_WORKER * 2, rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->full || !w->free) {
			ep_log_err("worker %d: rings: %s", i, rte_strerror(rte_errno));
			goto fail;
		}
		for (s = 0; s < SLOTS_PER_WORKER; s++) {
			uint32_t cap = po.max_asns + 1; /* the tracker's slots: its ASNs and "other" */

			w->slots[s] = calloc(1, sizeof(*w->slots[s]) +
						       (size_t)cap * sizeof(w->slots[s]->asns[0]));
			if (!w->slots[s])
				goto fail;
			w->slots[s]->cap = cap;
			w->slots[s]->bins_cap = SET_BINS;
			w->slots[s]->bins = malloc(SET_BINS * sizeof(*w->slots[s]->bins));
			if (!w->slots[s]->bins)
				goto fail;
			rte_ring_sp_enqueue(w->free, w->slots[s]);
		}
		i++;
	}

	/* Ports: queue q of every port goes to worker q. */
	RTE_ETH_FOREACH_DEV(port) {
		int nq, q;
		uint16_t ts_mult;
		uint8_t devclock;

		if (port_setup(port, pool, &nq, &ts_mult, &devclock) < 0)
			goto fail;
		for (q = 0; q < nq; q++) {
			struct worker *w = &workers[q % nworkers];

			if (w->nq == MAX_WORKER_QUEUES) {
				ep_log_err("worker %d: more than %d queues", q % nworkers,
					   MAX_WORKER_QUEUES);
				goto fail;
			}
			w->q[w->nq].port = port;
			w->q[w->nq].queue = (uint16_t)q;
			w->q[w->nq].ts_mult = ts_mult;
			w->q[w->nq].devclock = devclock;
			w->nq++;
		}
	}
	ep_log_info("%d workers; windows on the %s clock", nworkers,
		    packet_clock ? "ports' RX timestamp" : "TSC (wall)");
	for (i = 0; i < nworkers; i++) {
		workers[i].packet_clock = packet_clock;
		workers[i].last_rx_tsc_pub = rte_rdtsc();
		if (!packet_clock) /* live: every worker emits every window */
			ep_tracker_free(workers[i].tracker), workers[i].tracker = NULL;
	}
	if (!packet_clock) {
		for (i = 0; i < nworkers; i++) {
			struct ep_tracker_cfg cfg;

			ep_probe_tracker_cfg(&probe, &po, 1, &cfg);
			cfg.on_window = worker_window;
			cfg.ctx = &workers[i];
			if (ep_tracker_new(&cfg, &workers[i].tracker) < 0)
				goto fail;
		}
	}

	/* EAL, ports, memory and outputs are set up: nothing below needs root. */
	if (ep_probe_drop_privileges(&po, NULL, 0) < 0)
		goto fail;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);
	for (i = 0; i < nworkers; i++)
		rte_eal_remote_launch(worker_main, &workers[i], workers[i].lcore);

	started = last_stats = last_rebase = rte_rdtsc();
	while (!stop_flag) {
		uint64_t now, newest = 0;
		int all_idle = 1;

		rte_delay_us_sleep(1000);
		if (reload_flag) {
			reload_flag = 0;
			reload_asn(&probe, &po, &x);
		}
		now = rte_rdtsc();
		export_ready(&x, 0);
		for (i = 0; i < nworkers; i++) {
			uint64_t t = __atomic_load_n(&workers[i].last_rx_tsc_pub, __ATOMIC_RELAXED);

			newest = RTE_MAX(newest, t);
			if (__atomic_load_n(&workers[i].empty_rounds_pub, __ATOMIC_RELAXED) < IDLE_ROUNDS)
				all_idle = 0;
		}
		newest = RTE_MAX(newest, started);
		if (args.stop_idle_ms && all_idle &&
		    tsc_since_ns(newest, now) / 1000000 >= args.stop_idle_ms)
			stop_flag = 1;
		if (args.run_s && tsc_since_ns(started, now) / 1000000000ull >= args.run_s)
			stop_flag = 1;
		if (args.stats_s && (now - last_stats) / tsc_hz >= args.stats_s) {
			log_stats();
			last_stats = now;
		}
		if ((now - last_rebase) / tsc_hz >= DEVCLOCK_REBASE_S) {
			RTE_ETH_FOREACH_DEV(port)
				if (port_clocks[port].mult && devclock_rebase(port, 0) < 0)
					ep_log_warn("port %u: device clock reading failed", port);
			last_rebase = now;
		}
	}
	/* Keep exporting while the workers flush their last windows. */
	for (;;) {
		int done = 1;

		for (i = 0; i < nworkers; i++)
			done &= __atomic_load_n(&workers[i].done_pub, __ATOMIC_ACQUIRE);
		if (done)
			break;
		export_ready(&x, 0);
		rte_delay_us_sleep(1000);
	}
	rte_eal_mp_wait_lcore();
	export_ready(&x, 1);
	{
		uint64_t stats[EP_ST__COUNT];

		struct ep_window src;

		sum_stats(&x, stats);
		ep_exporter_patch_stats(probe.exporter, stats);
		fill_sources(&x, &src);
		ep_exporter_set_sources(probe.exporter, src.src, src.nsrc);
		ret = 0;
		if (ep_exporter_finish(probe.exporter, stats) < 0) {
			ep_log_err("--json-out: write error");
			ret = 1;
		}
		/* A replay (port timestamps) whose packets were mostly unusable has failed. */
		if (packet_clock && stats[EP_ST_time_backwards] * 2 > stats[EP_ST_packets]) {
			ep_log_err("%llu of %llu packets are older than the window they came in "
				   "(timestamps out of order, or a corrupt record's time in the "
				   "future): not measured",
				   (unsigned long long)stats[EP_ST_time_backwards],
				   (unsigned long long)stats[EP_ST_packets]);
			ret = 1;
		}
	}
	if (po.report)
		ep_report_print(stdout, probe.exporter);
	if (!(ep_log_max < EP_LOG_INFO))
		log_stats();
	goto cleanup;

usage_err:
	fprintf(stderr, "edgeprobe: %s\n(see edgeprobe --help)\n", err);
	ret = 2;
	goto cleanup;
fail:
	ret = 1;
cleanup:
	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	for (i = 0; i < nworkers; i++) {
		int s;

		ep_tracker_free(workers[i].tracker);
		for (s = 0; s < SLOTS_PER_WORKER; s++) {
			if (workers[i].slots[s])
				free(workers[i].slots[s]->bins);
			free(workers[i].slots[s]);
		}
		rte_ring_free(workers[i].full);
		rte_ring_free(workers[i].free);
	}
	ep_merge_free(x.merge);
	ep_probe_teardown(&probe);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
