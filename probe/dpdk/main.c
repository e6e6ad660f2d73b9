/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe - the DPDK probe: worker lcores poll NIC queues (one RX queue per
 * worker on every port, symmetric RSS so both directions of a flow meet on one
 * worker), parse and track into per-worker state, and hand each closed window
 * to the main lcore, which merges the workers' windows and exports them.
 * This file reads the options; lcores.c sets up the context, ports.c the ports, worker.c
 * polls, export.c merges and exports, run.c is the main lcore's loop (dpdk.h).
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

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include "dpdk.h"
#include "log.h"

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

/* The options of this probe alone (the run's stop rules, and the pool and a test knob). */
struct args {
	struct ep_dpdk_run *run;
	uint32_t delay_ms, mbufs;
};

static int own_opt(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct args *a = ctx;

	switch (id) {
	case O_IDLE:
		return ep_parse_u32_arg("stop-after-idle", arg, 1, 86400000, &a->run->stop_idle_ms,
					err, errlen);
	case O_RUN:
		return ep_parse_u32_arg("run-seconds", arg, 1, 31536000, &a->run->run_s, err,
					errlen);
	case O_MBUFS:
		return ep_parse_u32_arg("mbufs", arg, 1024, 1u << 26, &a->mbufs, err, errlen);
	case O_DELAY:
		return ep_parse_u32_arg("test-export-delay-ms", arg, 0, 10000, &a->delay_ms, err,
					errlen);
	case O_STATS:
		return ep_parse_u32_arg("stats-interval", arg, 0, 86400, &a->run->stats_s, err,
					errlen);
	default: /* O_HELP */
		usage(stdout);
		return 1;
	}
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
	struct ep_dpdk_run run = {.stats_s = 10};
	struct args args = {.run = &run};
	struct ep_probe_opts po;
	struct ep_probe probe;
	static struct ep_dpdk dp; /* large (per-port clocks, cache-aligned workers) */
	struct exporter_state x;
	struct rte_mempool *pool = NULL;
	int ret, i, packet_clock = 1;
	char err[512] = "";

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
	ret = ep_probe_parse_args(argc, argv, own, sizeof(own) / sizeof(own[0]), own_opt, &args,
				  &po, err, sizeof(err));
	if (ret == 1) {
		ret = 0;
		goto cleanup;
	}
	if (ret < 0)
		goto usage_err;

	pool = ep_dpdk_init(&dp, args.mbufs, &packet_clock);
	if (!pool)
		goto fail;
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

	if (ep_dpdk_workers_setup(&dp, &probe, &po, packet_clock) < 0 ||
	    ep_dpdk_queues_assign(&dp, pool) < 0)
		goto fail;
	if (ep_dpdk_xsk_find(&dp) > 0)
		ep_log_info("%d AF_XDP sockets: RX-ring-full drops counted in src_drops", dp.nxsk);
	ep_log_info("%d workers; windows on the %s clock", dp.nworkers,
		    packet_clock ? "ports' RX timestamp" : "TSC (wall)");

	/* EAL, ports, memory and outputs are set up: nothing below needs root. */
	if (ep_probe_drop_privileges(&po, NULL, 0) < 0)
		goto fail;
	ep_probe_signals_stop();
	run.sig = sig;
	run.po = &po;
	ep_dpdk_run(&x, &run);
	ret = ep_dpdk_finish(&x, &po, packet_clock);
	goto cleanup;

usage_err:
	fprintf(stderr, "edgeprobe: %s\n(see edgeprobe --help)\n", err);
	ret = 2;
	goto cleanup;
fail:
	ret = 1;
cleanup:
	ep_dpdk_workers_free(&dp);
	ep_merge_free(x.merge);
	ep_probe_teardown(&probe);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
