/* SPDX-License-Identifier: BSD-3-Clause */
/* ports.c - the DPDK probe's ports: queues, symmetric RSS, RX timestamps and device clocks. */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dpdk.h"
#include "log.h"
#include "wallclock.h"

/* Symmetric Toeplitz key: the 16-bit pattern repeated makes hash(a,b) == hash(b,a). */
static uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static void devclock_publish(struct port_clock *pc, const struct ep_devclock *c)
{
	__atomic_store_n(&pc->seq, pc->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&pc->base_ticks, c->base_ticks, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->base_ns, c->base_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->mult, c->mult, __ATOMIC_RELAXED);
	__atomic_store_n(&pc->seq, pc->seq + 1, __ATOMIC_RELEASE);
}

/*
 * Main lcore: a new (device clock, wall clock) reading; from the previous one,
 * the rate over the last interval.  first: the start (readings 100 ms apart).
 * @return 0, or < 0 when the device clock cannot be read or did not advance.
 */
int ep_dpdk_devclock_rebase(struct ep_dpdk *dp, uint16_t port, int first)
{
	struct port_clock *pc = &dp->port_clocks[port];
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

int ep_dpdk_port_setup(struct ep_dpdk *dp, uint16_t port, struct rte_mempool *pool, int *nq_out,
		       uint16_t *ts_mult, uint8_t *devclock)
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
	nq = (uint16_t)RTE_MIN((unsigned int)dp->nworkers, info.max_rx_queues);
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
	} else if (dp->nworkers > 1) {
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
		ret = ep_dpdk_devclock_rebase(dp, port, 1);
		if (ret < 0) {
			*devclock = 0;
			ep_log_warn("port %u (%s): RX timestamps offered but the device clock cannot "
				    "be calibrated (%s): packets carry the TSC at polling",
				    port, info.driver_name, rte_strerror(-ret));
		} else {
			ep_log_info("port %u (%s): RX timestamps from the device clock, %.3f MHz",
				    port, info.driver_name,
				    1e3 / ((double)dp->port_clocks[port].mult / (double)(1ull << EP_DEVCLOCK_SHIFT)));
		}
	}
	*nq_out = nq;
	return 0;
}
