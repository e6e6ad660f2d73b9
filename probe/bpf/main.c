/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-bpf - the BPF side path's loader: checks privileges and BTF,
 * loads ebpf/edgeprobe.bpf.c (CO-RE skeleton), fills the ASN and local-net
 * LPM tries, attaches TC clsact ingress and egress on --iface, and every
 * window flips the epoch, drains the finished buffer (merging per-CPU
 * values) and exports it with the core's exporter: the same wire protocol
 * and JSON as the other probes.  Detaches on exit; a run killed with SIGKILL
 * leaves its filters, which the next start replaces.  This file is the set-up;
 * load.c loads, hooks.c attaches, tries.c fills the LPM tries, windows.c runs
 * the window loop, drain.c reads a finished epoch.
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "drain.h"
#include "hooks.h"
#include "load.h"
#include "log.h"
#include "probe.h"
#include "tries.h"
#include "windows.h"

#ifndef EP_VERSION
#define EP_VERSION "0.0.0"
#endif

enum { O_IFACE = 1, O_XDP, O_HELP, O_VERSION };

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: edgeprobe-bpf --iface IF [options]\n"
		"\n"
		"Passive TCP latency per autonomous system from BPF programs on TC ingress and\n"
		"egress of IF (hosts without a DPDK NIC).  Needs root, or CAP_BPF + CAP_NET_ADMIN +\n"
		"CAP_PERFMON, and a kernel with BTF (/sys/kernel/btf/vmlinux).\n"
		"\n"
		"Source options:\n"
		"  --iface IF             the interface to attach to (both directions)\n"
		"  --xdp                  ingress with XDP (native where the driver has it, else\n"
		"                         generic) instead of TC; egress stays on TC\n"
		"  --help, --version\n"
		"\n%s",
		ep_probe_usage);
}

struct args {
	const char *iface;
	int xdp;
};

static int own_opt(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct args *a = ctx;

	(void)err;
	(void)errlen;
	switch (id) {
	case O_IFACE:
		a->iface = arg;
		return 0;
	case O_XDP:
		a->xdp = 1;
		return 0;
	case O_HELP:
		usage(stdout);
		return 1;
	default:
		printf("edgeprobe-bpf %s (libbpf %s)\n", EP_VERSION, libbpf_version_string());
		return 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option own[] = {
		{"iface", required_argument, NULL, O_IFACE},
		{"xdp", no_argument, NULL, O_XDP},
		{"help", no_argument, NULL, O_HELP},
		{"version", no_argument, NULL, O_VERSION},
	};
	static const int keep[] = {CAP_NET_ADMIN}; /* to detach at exit */
	struct args a = {0};
	struct ep_probe_opts po;
	struct ep_probe p;
	struct ep_bpf_hooks hooks = {0};
	struct ep_bpf_windows wn;
	struct edgeprobe_bpf *skel;
	uint64_t stats[EP_ST__COUNT] = {0};
	char err[512] = "";
	int ret;

	struct ep_probe_signals *sig = ep_probe_signals_init();

	memset(&p, 0, sizeof(p));
	memset(&wn, 0, sizeof(wn));
	ep_probe_opts_defaults(&po);
	/* kernel memory: the default is smaller than the userspace probes' */
	po.max_flows = 262144;
	ret = ep_probe_parse_args(argc, argv, own, sizeof(own) / sizeof(own[0]), own_opt, &a, &po,
				  err, sizeof(err));
	if (ret == 1)
		return 0;
	if (ret < 0 || !a.iface) {
		fprintf(stderr, "edgeprobe-bpf: %s\n(see edgeprobe-bpf --help)\n",
			ret < 0 ? err : "--iface IF is required");
		return 2;
	}
	if (ep_bpf_preflight(a.iface, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-bpf: %s\n", err);
		return 1;
	}
	libbpf_set_print(ep_bpf_libbpf_log);
	ret = 1;
	if (ep_probe_setup(&p, &po, 0, 1, 0, err, sizeof(err)) < 0 ||
	    !(wn.skel = skel = ep_bpf_load(&p, &po, err, sizeof(err))) ||
	    ep_bpf_drain_init(&wn.d, skel, po.max_asns, p.asn, err, sizeof(err)) < 0) {
		ep_log_err("%s", err);
		goto out;
	}
	wn.halfopen_room = bpf_map__max_entries(skel->maps.ep_flows_new);
	wn.cfg.slog_n = wn.d.slog_n;
	wn.cfg.ftab_mask = bpf_map__max_entries(skel->maps.ep_ftab) - 1;
	ep_hdr_cfg_init(&wn.cfg.hdr, EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
			EP_HIST_DEFAULT_DIGITS);
	if (po.local_net[0]) {
		/* ep_probe_setup() parsed --local-net into p.local. */
		if ((ret = ep_bpf_fill_local(skel, &p.local)) < 0) {
			ep_log_err("--local-net: loading the local networks into the BPF map: %s",
				   strerror(-ret));
			ret = 1;
			goto out;
		}
		wn.cfg.has_local = 1;
	}
	if (ep_bpf_fill_asn(skel, p.asn, &wn.d.ids, err, sizeof(err)) < 0) {
		ep_log_err("%s", err);
		goto out;
	}
	wn.cfg.epoch = 1;
	ep_bpf_flip(&wn); /* epoch 0 */
	if ((a.xdp && ep_bpf_attach_xdp(&hooks, (int)if_nametoindex(a.iface),
					bpf_program__fd(skel->progs.ep_xdp_ingress), err,
					sizeof(err)) < 0) ||
	    ep_bpf_attach_tc(&hooks, (int)if_nametoindex(a.iface),
			     a.xdp ? -1 : bpf_program__fd(skel->progs.ep_tc_ingress),
			     bpf_program__fd(skel->progs.ep_tc_egress), err, sizeof(err)) < 0) {
		ep_log_err("--iface %s: %s", a.iface, err);
		ep_bpf_detach(&hooks);
		goto out;
	}
	ep_log_info("attached to %s (%s ingress, TC egress, probe %s)", a.iface,
		    a.xdp ? "XDP" : "TC", p.probe_id);
	/*
	 * Loaded and attached: reading, deleting and flipping map entries works on the fds
	 * we hold without privilege; detaching at exit needs CAP_NET_ADMIN, kept alone.
	 */
	if (ep_probe_drop_privileges(&po, keep, 1) < 0) {
		ep_bpf_detach(&hooks);
		goto out;
	}
	ep_probe_signals_stop();
	ep_bpf_run(&wn, &p, &po, sig, &hooks, stats);
	ret = ep_probe_end(&p, &po, stats) < 0 ? 1 : 0;
out:
	edgeprobe_bpf__destroy(wn.skel);
	ep_bpf_drain_fini(&wn.d);
	ep_probe_teardown(&p);
	return ret;
}
