/* SPDX-License-Identifier: BSD-3-Clause */
/* run.c - the main lcore while the workers run: signals, export, stop rules, the run's end. */
#include <errno.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "dpdk.h"
#include "log.h"

/*
 * SIGHUP: hand the new table to every worker and wait until each has adopted
 * it (they poll constantly); then the old one may go.
 */
static int adopt(struct ep_asn_map *m, void *ctx, char *err, size_t errlen)
{
	struct exporter_state *x = ctx;
	struct ep_dpdk *dp = x->dp;
	int i, pending;
	uint64_t deadline;

	for (i = 0; i < dp->nworkers; i++)
		__atomic_store_n(&dp->workers[i].asn_new, m, __ATOMIC_RELEASE);
	deadline = rte_rdtsc() + 5 * rte_get_tsc_hz();
	do {
		pending = 0;
		for (i = 0; i < dp->nworkers; i++)
			pending +=
			    __atomic_load_n(&dp->workers[i].asn_new, __ATOMIC_ACQUIRE) != NULL;
		if (pending)
			rte_pause();
	} while (pending && rte_rdtsc() < deadline);
	if (pending) {
		/* A worker did not come round (stuck?): keep both tables, not risk a free. */
		snprintf(err, errlen, "%d workers did not adopt the new ASN table in 5 s", pending);
		return -EBUSY;
	}
	/* Sets closed before the switch name the old table's organisations: merge them first. */
	ep_dpdk_drain(x, UINT64_MAX);
	return 0;
}

/* Whether every worker has polled empty queues for a while, and the newest packet's TSC. */
static int all_idle(const struct ep_dpdk *dp, uint64_t *newest)
{
	int i, idle = 1;

	for (i = 0; i < dp->nworkers; i++) {
		uint64_t t = __atomic_load_n(&dp->workers[i].last_rx_tsc_pub, __ATOMIC_RELAXED);

		*newest = RTE_MAX(*newest, t);
		if (__atomic_load_n(&dp->workers[i].empty_rounds_pub, __ATOMIC_RELAXED) <
		    IDLE_ROUNDS)
			idle = 0;
	}
	return idle;
}

void ep_dpdk_run(struct exporter_state *x, const struct ep_dpdk_run *run)
{
	struct ep_dpdk *dp = x->dp;
	uint64_t started, last_stats, last_rebase, now, newest;
	uint16_t port;
	int i;

	for (i = 0; i < dp->nworkers; i++)
		rte_eal_remote_launch(ep_dpdk_worker_main, &dp->workers[i], dp->workers[i].lcore);
	started = last_stats = last_rebase = rte_rdtsc();
	while (!dp->stop) {
		rte_delay_us_sleep(1000);
		if (run->sig->stop)
			dp->stop = 1;
		ep_probe_poll_signals(x->probe, run->po, run->sig, adopt, x);
		now = rte_rdtsc();
		ep_dpdk_export_ready(x, 0);
		newest = started;
		if (all_idle(dp, &newest) && run->stop_idle_ms &&
		    ep_dpdk_tsc_since_ns(dp, newest, now) / 1000000 >= run->stop_idle_ms)
			dp->stop = 1;
		if (run->run_s &&
		    ep_dpdk_tsc_since_ns(dp, started, now) / 1000000000ull >= run->run_s)
			dp->stop = 1;
		if (run->stats_s && (now - last_stats) / dp->tsc_hz >= run->stats_s) {
			ep_dpdk_log_stats(dp);
			last_stats = now;
		}
		if ((now - last_rebase) / dp->tsc_hz >= DEVCLOCK_REBASE_S) {
			RTE_ETH_FOREACH_DEV(port)
				if (dp->port_clocks[port].mult &&
				    ep_dpdk_devclock_rebase(dp, port, 0) < 0)
					ep_log_warn("port %u: device clock reading failed", port);
			last_rebase = now;
		}
	}
	/* Keep exporting while the workers flush their last windows. */
	for (;;) {
		int done = 1;

		for (i = 0; i < dp->nworkers; i++)
			done &= __atomic_load_n(&dp->workers[i].done_pub, __ATOMIC_ACQUIRE);
		if (done)
			break;
		ep_dpdk_export_ready(x, 0);
		rte_delay_us_sleep(1000);
	}
	rte_eal_mp_wait_lcore();
	ep_dpdk_export_ready(x, 1);
}

int ep_dpdk_finish(struct exporter_state *x, const struct ep_probe_opts *po, int packet_clock)
{
	uint64_t stats[EP_ST__COUNT];
	struct ep_window src;
	int ret;

	ep_dpdk_sum_stats(x, stats);
	ep_dpdk_fill_sources(x, &src);
	ep_exporter_set_sources(x->probe->exporter, src.src, src.nsrc);
	ret = ep_probe_end(x->probe, po, stats) < 0 ? 1 : 0;
	/* A replay (port timestamps) whose packets were mostly unusable has failed. */
	if (packet_clock && stats[EP_ST_time_backwards] * 2 > stats[EP_ST_packets]) {
		ep_log_err("%llu of %llu packets are older than the window they came in "
			   "(timestamps out of order, or a corrupt record's time in the "
			   "future): not measured",
			   (unsigned long long)stats[EP_ST_time_backwards],
			   (unsigned long long)stats[EP_ST_packets]);
		ret = 1;
	}
	if (!(ep_log_max < EP_LOG_INFO))
		ep_dpdk_log_stats(x->dp);
	return ret;
}
