/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-pcap - the libpcap probe: reads a capture file (trace time) or a
 * live interface (wall time) and feeds the shared tracker.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeprobe/ep_parse.h"
#include "log.h"
#include "privdrop.h"
#include "wallclock.h"
#include "probe.h"
#include "source.h"

#ifndef EP_VERSION
#define EP_VERSION "0.0.0"
#endif

enum { O_READ = 1, O_IFACE, O_FILTER, O_SNAPLEN, O_PROMISC, O_REALTIME, O_LOOP, O_PACE,
       O_HELP, O_VERSION };


static struct src *g_src;

static void on_signal(int sig)
{
	(void)sig;
	if (g_src) {
		g_src->stop = 1;
		if (g_src->pcap)
			pcap_breakloop(g_src->pcap);
	}
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: edgeprobe-pcap (--read FILE | --iface IF) [options]\n"
		"\n"
		"Passive TCP latency per autonomous system, from a capture file or an interface.\n"
		"\n"
		"Source options:\n"
		"  --read FILE            pcap or pcapng file ('-' for stdin); windows on trace time\n"
		"  --iface IF             live capture; windows on wall time\n"
		"  --filter EXPR          BPF filter expression (live or file)\n"
		"  --snaplen N            live capture length (default 256: headers only)\n"
		"  --promisc              put the interface in promiscuous mode\n"
		"  --realtime             replay the file at its own pace on the wall clock (demos)\n"
		"  --loop N               read the file N times (0: until stopped), as new flows\n"
		"  --pace X               replay the file at X times its own pace, keeping its\n"
		"                         timestamps (tests: an old capture, sped up)\n"
		"  --help, --version\n"
		"\n%s",
		ep_probe_usage);
}


struct args {
	const char *file, *iface, *filter;
	uint32_t snaplen, loops;
	int promisc, realtime;
	double pace;
};

static int own_opt(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct args *a = ctx;

	switch (id) {
	case O_READ:
		a->file = arg;
		return 0;
	case O_IFACE:
		a->iface = arg;
		return 0;
	case O_FILTER:
		a->filter = arg;
		return 0;
	case O_SNAPLEN:
		return ep_parse_u32_arg("snaplen", arg, 64, 262144, &a->snaplen, err, errlen);
	case O_PROMISC:
		a->promisc = 1;
		return 0;
	case O_REALTIME:
		a->realtime = 1;
		return 0;
	case O_LOOP:
		return ep_parse_u32_arg("loop", arg, 0, UINT32_MAX, &a->loops, err, errlen);
	case O_PACE: {
		char *end;

		a->pace = strtod(arg, &end);
		if (end == arg || *end || !(a->pace >= 0.01 && a->pace <= 10000)) {
			snprintf(err, errlen, "--pace '%s': a factor from 0.01 to 10000", arg);
			return -1;
		}
		return 0;
	}
	case O_HELP:
		usage(stdout);
		return 1;
	default: /* O_VERSION */
		printf("edgeprobe-pcap %s (%s)\n", EP_VERSION, pcap_lib_version());
		return 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option own[] = {
		{"read", required_argument, NULL, O_READ},
		{"iface", required_argument, NULL, O_IFACE},
		{"filter", required_argument, NULL, O_FILTER},
		{"snaplen", required_argument, NULL, O_SNAPLEN},
		{"promisc", no_argument, NULL, O_PROMISC},
		{"realtime", no_argument, NULL, O_REALTIME},
		{"loop", required_argument, NULL, O_LOOP},
		{"pace", required_argument, NULL, O_PACE},
		{"help", no_argument, NULL, O_HELP},
		{"version", no_argument, NULL, O_VERSION},
	};
	struct args a = {.snaplen = 256, .loops = 1};
	struct ep_probe_opts po;
	char err[512] = "";
	int ret = 1;
	struct src s;

	memset(&s, 0, sizeof(s));
	s.sig = ep_probe_signals_init();
	ep_probe_opts_defaults(&po);
	ret = ep_probe_parse_args(argc, argv, own, sizeof(own) / sizeof(own[0]), own_opt, &a, &po,
				  err, sizeof(err));
	if (ret == 1)
		return 0;
	if (ret < 0)
		goto usage_err;
	ret = 1;
	if (!a.file == !a.iface) {
		snprintf(err, sizeof(err), "give exactly one of --read FILE or --iface IF");
		goto usage_err;
	}
	if (a.iface && (a.realtime || a.loops != 1 || a.pace > 0)) {
		snprintf(err, sizeof(err), "--realtime, --pace and --loop apply to --read only");
		goto usage_err;
	}
	if (a.realtime && a.pace > 0) {
		snprintf(err, sizeof(err), "--realtime and --pace exclude each other");
		goto usage_err;
	}
	if (a.pace > 0 && a.loops != 1) {
		snprintf(err, sizeof(err), "--pace replays the file once (no --loop)");
		goto usage_err;
	}
	if (a.file && !strcmp(a.file, "-") && a.loops != 1) {
		snprintf(err, sizeof(err), "--loop needs a file, not stdin");
		goto usage_err;
	}
	s.realtime = a.realtime;
	s.pace = a.pace;
	if (ep_pcap_open_source(&s, a.file, a.iface, a.snaplen, a.promisc, a.filter) < 0)
		goto cleanup;
	/* A real-time replay is live for the outputs: never block on a slow collector. */
	if (ep_probe_setup(&s.probe, &po, a.file != NULL && !a.realtime,
			   a.iface != NULL || a.realtime, 1, err, sizeof(err)) < 0) {
		ep_log_err("%s", err);
		goto cleanup;
	}
	/* The capture is open and the outputs too: nothing below needs root. */
	if (ep_probe_drop_privileges(&po, NULL, 0) < 0)
		goto cleanup;
	g_src = &s;
	s.po = &po;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (a.iface)
		ep_log_info("capturing on %s (probe %s)", a.iface, s.probe.probe_id);
	if (a.file)
		ret = ep_pcap_run_file(&s, a.file, a.filter, a.loops) < 0 ? 1 : 0;
	else
		ret = ep_pcap_run_live(&s) < 0 ? 1 : 0;
	{
		uint64_t st[EP_ST__COUNT];

		ep_tracker_finish(s.probe.tracker);
		memcpy(st, ep_tracker_stats(s.probe.tracker), sizeof(st));
		if (ep_probe_end(&s.probe, &po, st) < 0)
			ret = 1;
		/* A file replay that lost most of its packets or messages has failed. */
		if (a.file && st[EP_ST_time_backwards] * 2 > st[EP_ST_packets]) {
			ep_log_err("--read %s: %llu of %llu packets are older than the window "
				   "they came in (timestamps out of order, or a corrupt record's "
				   "time in the future): not measured", a.file,
				   (unsigned long long)st[EP_ST_time_backwards],
				   (unsigned long long)st[EP_ST_packets]);
			ret = 1;
		}
		if (a.file && !a.realtime && (st[EP_ST_send_errors] || st[EP_ST_windows_dropped])) {
			ep_log_err("--read %s: %llu messages could not be sent to a collector, "
				   "%llu windows not delivered", a.file,
				   (unsigned long long)st[EP_ST_send_errors],
				   (unsigned long long)st[EP_ST_windows_dropped]);
			ret = 1;
		}
	}
cleanup:
	g_src = NULL;
	ep_probe_teardown(&s.probe);
	ep_pcap_close_source(&s);
	return ret;

usage_err:
	fprintf(stderr, "edgeprobe-pcap: %s\n(see edgeprobe-pcap --help)\n", err);
	return 2;
}
