/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe - the DPDK probe: worker lcores poll NIC queues (one RX queue per
 * worker on every port, symmetric RSS so both directions of a flow meet on one
 * worker), parse and track into per-worker state, and hand each closed window
 * to the main lcore, which merges the workers' windows and exports them.
 * This file sets it up; ports.c, worker.c and export.c do the work (dpdk.h).
 *
 * Hand-off: a worker copies a closed window into one of its preallocated
 * sets (counters and histograms as sparse bucket runs, struct wset) and
 * enqueues the set's pointer on its own single-producer ring; the main lcore
 * merges the histograms directly and returns the set.  Live, a worker never
 * waits: with no free set the window is dropped and counted.  Replaying a
 * capture (the packet clock), it waits for a set, as the libpcap probe blocks
 * rather than drops when reading a file: a replay loses nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_version.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "dpdk.h"
#include "log.h"
#include "privdrop.h"
#include "wallclock.h"

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
		"  --version              print the version and DPDK's, and exit\n"
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

struct reload {
	struct ep_dpdk *dp;
	struct exporter_state *x;
};

/*
 * SIGHUP: hand the new table to every worker and wait until each has adopted
 * it (they poll constantly); then the old one may go.
 */
static int adopt(struct ep_asn_map *m, void *ctx, char *err, size_t errlen)
{
	struct reload *r = ctx;
	int i, pending;
	uint64_t deadline;

	for (i = 0; i < r->dp->nworkers; i++)
		__atomic_store_n(&r->dp->workers[i].asn_new, m, __ATOMIC_RELEASE);
	deadline = rte_rdtsc() + 5 * rte_get_tsc_hz();
	do {
		pending = 0;
		for (i = 0; i < r->dp->nworkers; i++)
			pending += __atomic_load_n(&r->dp->workers[i].asn_new, __ATOMIC_ACQUIRE) != NULL;
		if (pending)
			rte_pause();
	} while (pending && rte_rdtsc() < deadline);
	if (pending) {
		/* A worker did not come round (stuck?): keep both tables rather than risk a free. */
		snprintf(err, errlen, "%d workers did not adopt the new ASN table in 5 s", pending);
		return -EBUSY;
	}
	/* Sets closed before the switch name organisations of the old table: merge (copy) them first. */
	ep_dpdk_drain(r->x, UINT64_MAX);
	return 0;
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
	static struct ep_dpdk dp; /* large (per-port clocks, cache-aligned workers) */
	struct exporter_state x;
	struct reload rl = {.dp = &dp, .x = &x};
	struct rte_mempool *pool = NULL;
	int ret, i, packet_clock = 1;
	unsigned int lcore;
	uint16_t port;
	char err[512] = "";
	uint64_t last_stats, started, last_rebase;

	struct ep_probe_signals *sig = ep_probe_signals_init();

	memset(&x, 0, sizeof(x));
	memset(&probe, 0, sizeof(probe));
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("edgeprobe %s (%s)\n", EP_VERSION, rte_version());
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

	dp.nworkers = (int)rte_lcore_count() - 1;
	if (dp.nworkers < 1 || dp.nworkers > MAX_WORKERS) {
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
	if (rte_mbuf_dyn_rx_timestamp_register(&dp.ts_dynoff, &dp.ts_dynflag) < 0) {
		ep_log_err("cannot register the mbuf RX timestamp field");
		goto fail;
	}
	dp.tsc_hz = rte_get_tsc_hz();
	dp.tsc_base = rte_rdtsc();
	dp.wall_base_ns = ep_wall_ns();

	if (!args.mbufs)
		args.mbufs = 8191 * (unsigned int)dp.nworkers + 4095;
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
	x.dp = &dp;
	x.probe = &probe;
	x.delay_ms = args.delay_ms;
	x.interval_ns = (uint64_t)po.interval_ms * 1000000ull;

	/* Workers: a tracker, rings and slots each. */
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *w = &dp.workers[i];
		struct ep_tracker_cfg cfg;
		char name[32];
		int s;

		w->dp = &dp;
		w->lcore = lcore;
		ep_probe_tracker_cfg(&probe, &po, 0, &cfg);
		cfg.on_window = ep_dpdk_worker_window;
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

		if (ep_dpdk_port_setup(&dp, port, pool, &nq, &ts_mult, &devclock) < 0)
			goto fail;
		for (q = 0; q < nq; q++) {
			struct worker *w = &dp.workers[q % dp.nworkers];

			if (w->nq == MAX_WORKER_QUEUES) {
				ep_log_err("worker %d: more than %d queues", q % dp.nworkers,
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
	if (ep_dpdk_xsk_find(&dp) > 0)
		ep_log_info("%d AF_XDP sockets: RX-ring-full drops counted in src_drops", dp.nxsk);
	ep_log_info("%d workers; windows on the %s clock", dp.nworkers,
		    packet_clock ? "ports' RX timestamp" : "TSC (wall)");
	for (i = 0; i < dp.nworkers; i++) {
		dp.workers[i].packet_clock = packet_clock;
		dp.workers[i].last_rx_tsc_pub = rte_rdtsc();
		if (!packet_clock) /* live: every worker emits every window */
			ep_tracker_free(dp.workers[i].tracker), dp.workers[i].tracker = NULL;
	}
	if (!packet_clock) {
		for (i = 0; i < dp.nworkers; i++) {
			struct ep_tracker_cfg cfg;

			ep_probe_tracker_cfg(&probe, &po, 1, &cfg);
			cfg.on_window = ep_dpdk_worker_window;
			cfg.ctx = &dp.workers[i];
			if (ep_tracker_new(&cfg, &dp.workers[i].tracker) < 0)
				goto fail;
		}
	}

	/* EAL, ports, memory and outputs are set up: nothing below needs root. */
	if (ep_probe_drop_privileges(&po, NULL, 0) < 0)
		goto fail;
	ep_probe_signals_stop();
	for (i = 0; i < dp.nworkers; i++)
		rte_eal_remote_launch(ep_dpdk_worker_main, &dp.workers[i], dp.workers[i].lcore);

	started = last_stats = last_rebase = rte_rdtsc();
	while (!dp.stop) {
		uint64_t now, newest = 0;
		int all_idle = 1;

		rte_delay_us_sleep(1000);
		if (sig->stop)
			dp.stop = 1;
		ep_probe_poll_signals(&probe, &po, sig, adopt, &rl);
		now = rte_rdtsc();
		ep_dpdk_export_ready(&x, 0);
		for (i = 0; i < dp.nworkers; i++) {
			uint64_t t = __atomic_load_n(&dp.workers[i].last_rx_tsc_pub, __ATOMIC_RELAXED);

			newest = RTE_MAX(newest, t);
			if (__atomic_load_n(&dp.workers[i].empty_rounds_pub, __ATOMIC_RELAXED) < IDLE_ROUNDS)
				all_idle = 0;
		}
		newest = RTE_MAX(newest, started);
		if (args.stop_idle_ms && all_idle &&
		    ep_dpdk_tsc_since_ns(&dp, newest, now) / 1000000 >= args.stop_idle_ms)
			dp.stop = 1;
		if (args.run_s && ep_dpdk_tsc_since_ns(&dp, started, now) / 1000000000ull >= args.run_s)
			dp.stop = 1;
		if (args.stats_s && (now - last_stats) / dp.tsc_hz >= args.stats_s) {
			ep_dpdk_log_stats(&dp);
			last_stats = now;
		}
		if ((now - last_rebase) / dp.tsc_hz >= DEVCLOCK_REBASE_S) {
			RTE_ETH_FOREACH_DEV(port)
				if (dp.port_clocks[port].mult && ep_dpdk_devclock_rebase(&dp, port, 0) < 0)
					ep_log_warn("port %u: device clock reading failed", port);
			last_rebase = now;
		}
	}
	/* Keep exporting while the workers flush their last windows. */
	for (;;) {
		int done = 1;

		for (i = 0; i < dp.nworkers; i++)
			done &= __atomic_load_n(&dp.workers[i].done_pub, __ATOMIC_ACQUIRE);
		if (done)
			break;
		ep_dpdk_export_ready(&x, 0);
		rte_delay_us_sleep(1000);
	}
	rte_eal_mp_wait_lcore();
	ep_dpdk_export_ready(&x, 1);
	{
		uint64_t stats[EP_ST__COUNT];

		struct ep_window src;

		ep_dpdk_sum_stats(&x, stats);
		ep_dpdk_fill_sources(&x, &src);
		ep_exporter_set_sources(probe.exporter, src.src, src.nsrc);
		ret = ep_probe_end(&probe, &po, stats) < 0 ? 1 : 0;
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
	if (!(ep_log_max < EP_LOG_INFO))
		ep_dpdk_log_stats(&dp);
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
	for (i = 0; i < dp.nworkers; i++) {
		int s;

		ep_tracker_free(dp.workers[i].tracker);
		for (s = 0; s < SLOTS_PER_WORKER; s++) {
			if (dp.workers[i].slots[s])
				free(dp.workers[i].slots[s]->bins);
			free(dp.workers[i].slots[s]);
		}
		rte_ring_free(dp.workers[i].full);
		rte_ring_free(dp.workers[i].free);
	}
	ep_merge_free(x.merge);
	ep_probe_teardown(&probe);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
