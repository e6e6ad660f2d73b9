/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export.c - the DPDK probe's main lcore: take the workers' closed windows off
 * their rings, merge them (ep_merge), and export each merged window once every
 * worker has moved past it, with the ports' and workers' counters.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dpdk.h"
#include "log.h"

/* Per-port and per-worker counters for the window's stats record. */
void ep_dpdk_fill_sources(struct exporter_state *x, struct ep_window *w)
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
	for (i = 0; i < x->dp->nworkers && w->nsrc < EP_WINDOW_MAX_SOURCES; i++) {
		uint64_t pk = __atomic_load_n(&x->dp->workers[i].packets_pub, __ATOMIC_RELAXED);
		uint64_t cy = __atomic_load_n(&x->dp->workers[i].cycles_pub, __ATOMIC_RELAXED);

		w->src[w->nsrc++] = (struct ep_source_stats){
			EP_SRC_WORKER, (uint16_t)i,
			{pk, x->stats[i][EP_ST_flows_active], x->stats[i][EP_ST_flows_evicted],
			 pk ? cy / pk : 0}};
	}
}

void ep_dpdk_sum_stats(struct exporter_state *x, uint64_t *out)
{
	struct rte_eth_stats ps;
	uint16_t port;
	int i, k;

	memset(out, 0, EP_ST__COUNT * sizeof(*out));
	for (i = 0; i < x->dp->nworkers; i++)
		for (k = 0; k < EP_ST__COUNT; k++)
			out[k] += x->stats[i][k];
	RTE_ETH_FOREACH_DEV(port) {
		if (rte_eth_stats_get(port, &ps) == 0) {
			out[EP_ST_src_drops] += ps.imissed + ps.rx_nombuf;
			out[EP_ST_src_ifdrops] += ps.ierrors;
		}
	}
	if (x->dp->nxsk) /* not in the af_xdp PMD's imissed (DPDK 22.11) */
		out[EP_ST_src_drops] += ep_dpdk_xsk_ring_full(x->dp);
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
void ep_dpdk_drain(struct exporter_state *x, uint64_t watermark)
{
	int i;

	for (i = 0; i < x->dp->nworkers; i++) {
		void *p;
		int n;

		if (x->dp->workers[i].packet_clock && watermark != UINT64_MAX &&
		    x->last_start[i] >= watermark + AHEAD_WINDOWS * x->interval_ns)
			continue;
		for (n = 0; n < SLOTS_PER_WORKER && rte_ring_sc_dequeue(x->dp->workers[i].full, &p) == 0;
		     n++) {
			struct wset *s = p;

			memcpy(x->stats[i], s->stats, sizeof(s->stats));
			x->last_start[i] = s->start_ns;
			if (ep_merge_add_sparse(x->merge, s->start_ns, s->end_ns, &s->cfg, s->asns,
						s->n) < 0)
				x->merge_errors++;
			rte_ring_sp_enqueue(x->dp->workers[i].free, p);
		}
	}
}

/*
 * Export merged windows every worker has moved past.  The watermarks are read
 * before the rings are drained: a worker enqueues a window before it publishes
 * that it has moved on, so every window below the watermark is in hand.
 */
void ep_dpdk_export_ready(struct exporter_state *x, int final)
{
	uint64_t watermark = UINT64_MAX, active_min = UINT64_MAX;
	struct ep_window w;
	int i;

	for (i = 0; i < x->dp->nworkers; i++) {
		struct worker *wk = &x->dp->workers[i];
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
	for (i = 0; i < x->dp->nworkers; i++)
		if (x->dp->workers[i].packet_clock && active_min != UINT64_MAX)
			__atomic_store_n(&x->dp->workers[i].advance_to, active_min, __ATOMIC_RELEASE);
	if (final)
		watermark = UINT64_MAX;
	ep_dpdk_drain(x, watermark);
	{
		uint64_t dropped = ep_merge_dropped(x->merge);

		for (i = 0; i < x->dp->nworkers; i++)
			dropped += __atomic_load_n(&x->dp->workers[i].windows_dropped_pub, __ATOMIC_RELAXED);
		ep_exporter_count_dropped(x->probe->exporter, dropped - x->dropped_seen);
		x->dropped_seen = dropped;
	}
	while (ep_merge_pop(x->merge, watermark, &w)) {
		x->windows++;
		ep_dpdk_sum_stats(x, w.stats);
		ep_dpdk_fill_sources(x, &w);
		ep_probe_emit(x->probe, &w);
		if (x->delay_ms)
			rte_delay_us_sleep(x->delay_ms * 1000u);
	}
}

void ep_dpdk_log_stats(const struct ep_dpdk *dp)
{
	int i;

	for (i = 0; i < dp->nworkers; i++) {
		uint64_t pk = __atomic_load_n(&dp->workers[i].packets_pub, __ATOMIC_RELAXED);
		uint64_t cy = __atomic_load_n(&dp->workers[i].cycles_pub, __ATOMIC_RELAXED);

		uint64_t fr = __atomic_load_n(&dp->workers[i].flush_rounds_pub, __ATOMIC_RELAXED);
		uint64_t fc = __atomic_load_n(&dp->workers[i].flush_cycles_pub, __ATOMIC_RELAXED);
		uint64_t r = __atomic_load_n(&dp->workers[i].rounds_pub, __ATOMIC_RELAXED);
		uint64_t rc = __atomic_load_n(&dp->workers[i].round_cycles_pub, __ATOMIC_RELAXED);

		ep_log_info("worker %d (lcore %u): %llu packets, %.0f cycles/packet, %u flows; "
			    "rounds closing a window %.0f cycles (%llu), others %.0f cycles (%llu)", i,
			    dp->workers[i].lcore, (unsigned long long)pk, pk ? (double)cy / (double)pk : 0.0,
			    (unsigned int)ep_tracker_stats(dp->workers[i].tracker)[EP_ST_flows_active],
			    fr ? (double)fc / (double)fr : 0.0, (unsigned long long)fr,
			    r ? (double)rc / (double)r : 0.0, (unsigned long long)r);
	}
}
