/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - a DPDK worker lcore: poll its RX queues, parse and track each
 * burst, and hand every closed window to the main lcore by pointer (a set of
 * sparse histogram runs on its single-producer ring).  No syscall, lock or
 * allocation on this path (a set grows only for a window larger than any before).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dpdk.h"
#include "edgeprobe/ep_parse.h"

#define EP_MAX_BURST 32
#define EP_PREFETCH_OFFSET 4

/* The TSC as wall-clock nanoseconds (for ports without RX timestamps). */
static inline uint64_t tsc_ns(const struct ep_dpdk *dp, uint64_t tsc)
{
	return dp->wall_base_ns +
	       (uint64_t)((double)(tsc - dp->tsc_base) * 1e9 / (double)dp->tsc_hz);
}

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
void ep_dpdk_worker_window(const struct ep_window *win, void *ctx)
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
		r->cc = a->cc;
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

static inline uint64_t pkt_time(const struct ep_dpdk *dp, const struct rte_mbuf *m,
				const struct rxq *q, const struct ep_devclock *dc, uint64_t now_ns)
{
	if (!(m->ol_flags & dp->ts_dynflag))
		return now_ns;
	if (q->ts_mult)
		return *RTE_MBUF_DYNFIELD(m, dp->ts_dynoff, uint64_t *) * q->ts_mult;
	if (q->devclock)
		return ep_devclock_ns(dc, *RTE_MBUF_DYNFIELD(m, dp->ts_dynoff, uint64_t *));
	return now_ns;
}

int ep_dpdk_worker_main(void *arg)
{
	struct worker *w = arg;
	const struct ep_dpdk *dp = w->dp;
	struct rte_mbuf *pk[EP_MAX_BURST];
	uint64_t packets = 0, cycles = 0, last_rx = rte_rdtsc(), empty = 0;
	uint64_t flush_rounds = 0, flush_cycles = 0, rounds = 0, round_cycles = 0;
	struct ep_pkt pkts[EP_MAX_BURST];
	uint64_t times[EP_MAX_BURST];

	while (!dp->stop) {
		uint64_t tsc = rte_rdtsc(), now = tsc_ns(dp, tsc), got = 0;
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
			struct ep_devclock dc = {0, 0, 0};

			if (n == 0)
				continue;
			if (q->devclock)
				devclock_read(&dp->port_clocks[q->port], &dc);
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
					times[ntcp++] = pkt_time(dp, pk[j], q, &dc, now);
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
