/* SPDX-License-Identifier: BSD-3-Clause */
/* lcores.c - the probe's context: lcores, mbufs, the workers' trackers, rings, sets and queues. */
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "dpdk.h"
#include "log.h"
#include "wallclock.h"

struct rte_mempool *ep_dpdk_init(struct ep_dpdk *dp, uint32_t mbufs, int *packet_clock)
{
	struct rte_mempool *pool;
	uint16_t port;

	dp->nworkers = (int)rte_lcore_count() - 1;
	if (dp->nworkers < 1 || dp->nworkers > MAX_WORKERS) {
		ep_log_err("need 2 to %d lcores (-l 0,1 ...): the main lcore exports, the others "
			   "poll; got %u",
			   MAX_WORKERS + 1, rte_lcore_count());
		return NULL;
	}
	if (rte_eth_dev_count_avail() == 0) {
		ep_log_err("no ports: give a device (-a PCI) or a virtual one (--vdev net_pcap0,"
			   "rx_pcap=FILE)");
		return NULL;
	}
	if (rte_mbuf_dyn_rx_timestamp_register(&dp->ts_dynoff, &dp->ts_dynflag) < 0) {
		ep_log_err("cannot register the mbuf RX timestamp field");
		return NULL;
	}
	dp->tsc_hz = rte_get_tsc_hz();
	dp->tsc_base = rte_rdtsc();
	dp->wall_base_ns = ep_wall_ns();
	if (!mbufs)
		mbufs = 8191 * (unsigned int)dp->nworkers + 4095;
	pool = rte_pktmbuf_pool_create("ep_mbufs", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (!pool) {
		ep_log_err("mbuf pool: %s (try -m 512 with --no-huge)", rte_strerror(rte_errno));
		return NULL;
	}
	/* A replay (every port is a capture file) delivers to the collectors without loss. */
	*packet_clock = 1;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0 || strcmp(info.driver_name, "net_pcap"))
			*packet_clock = 0;
	}
	return pool;
}

/* One worker's sets: preallocated, all on its free ring. @return 0 or -1 (out of memory). */
static int worker_sets(struct worker *w, uint32_t cap)
{
	int s;

	for (s = 0; s < SLOTS_PER_WORKER; s++) {
		w->slots[s] =
		    calloc(1, sizeof(*w->slots[s]) + (size_t)cap * sizeof(w->slots[s]->asns[0]));
		if (!w->slots[s])
			return -1;
		w->slots[s]->cap = cap;
		w->slots[s]->bins_cap = SET_BINS;
		w->slots[s]->bins = malloc(SET_BINS * sizeof(*w->slots[s]->bins));
		if (!w->slots[s]->bins)
			return -1;
		rte_ring_sp_enqueue(w->free, w->slots[s]);
	}
	return 0;
}

int ep_dpdk_workers_setup(struct ep_dpdk *dp, struct ep_probe *probe,
			  const struct ep_probe_opts *po, int packet_clock)
{
	unsigned int lcore;
	int i = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *w = &dp->workers[i];
		struct ep_tracker_cfg cfg;
		char name[32];

		w->dp = dp;
		w->lcore = lcore;
		w->packet_clock = packet_clock;
		w->last_rx_tsc_pub = rte_rdtsc();
		/* live: every worker emits every window; a replay: windows as its packets say */
		ep_probe_tracker_cfg(probe, po, !packet_clock, &cfg);
		cfg.on_window = ep_dpdk_worker_window;
		cfg.ctx = w;
		if (ep_tracker_new(&cfg, &w->tracker) < 0) {
			ep_log_err("worker %d: tracker for %u flows: out of memory", i,
				   po->max_flows);
			return -1;
		}
		snprintf(name, sizeof(name), "ep_full%d", i);
		w->full = rte_ring_create(name, SLOTS_PER_WORKER * 2, rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ep_free%d", i);
		w->free = rte_ring_create(name, SLOTS_PER_WORKER * 2, rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->full || !w->free) {
			ep_log_err("worker %d: rings: %s", i, rte_strerror(rte_errno));
			return -1;
		}
		/* the tracker's slots: its ASNs and "other" */
		if (worker_sets(w, po->max_asns + 1) < 0) {
			ep_log_err("worker %d: window sets: out of memory", i);
			return -1;
		}
		i++;
	}
	return 0;
}

int ep_dpdk_queues_assign(struct ep_dpdk *dp, struct rte_mempool *pool)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		int nq, q;
		uint16_t ts_mult;
		uint8_t devclock;

		if (ep_dpdk_port_setup(dp, port, pool, &nq, &ts_mult, &devclock) < 0)
			return -1;
		for (q = 0; q < nq; q++) {
			struct worker *w = &dp->workers[q % dp->nworkers];

			if (w->nq == MAX_WORKER_QUEUES) {
				ep_log_err("worker %d: more than %d queues", q % dp->nworkers,
					   MAX_WORKER_QUEUES);
				return -1;
			}
			w->q[w->nq].port = port;
			w->q[w->nq].queue = (uint16_t)q;
			w->q[w->nq].ts_mult = ts_mult;
			w->q[w->nq].devclock = devclock;
			w->nq++;
		}
	}
	return 0;
}

void ep_dpdk_workers_free(struct ep_dpdk *dp)
{
	uint16_t port;
	int i, s;

	RTE_ETH_FOREACH_DEV(port) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	for (i = 0; i < dp->nworkers; i++) {
		struct worker *w = &dp->workers[i];

		ep_tracker_free(w->tracker);
		for (s = 0; s < SLOTS_PER_WORKER; s++) {
			if (w->slots[s])
				free(w->slots[s]->bins);
			free(w->slots[s]);
		}
		rte_ring_free(w->full);
		rte_ring_free(w->free);
	}
}
