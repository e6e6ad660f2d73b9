/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-bpf - the BPF side path's loader: checks privileges and BTF,
 * loads ebpf/edgeprobe.bpf.c (CO-RE skeleton), fills the ASN and local-net
 * LPM tries, attaches TC clsact ingress and egress on --iface, and every
 * window flips the epoch, drains the finished buffer (merging per-CPU
 * values) and exports it with the core's exporter: the same wire protocol
 * and JSON as the other probes.  Detaches on exit; a run killed with SIGKILL
 * leaves its filters, which the next start replaces.  This file is the set-up
 * and the window loop; hooks.c attaches, tries.c fills the LPM tries, drain.c
 * reads a finished epoch.
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
#include "edgeprobe/ep_admit.h"
#include "edgeprobe/ep_bpf.h"
#include "drain.h"
#include "hooks.h"
#include "log.h"
#include "privdrop.h"
#include "wallclock.h"
#include "probe.h"
#include "tries.h"

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

/* ------------------------------------------------------------------------ */
/* Windows                                                                    */
/* ------------------------------------------------------------------------ */

/* Flows in both tables (the kernel's per-map element count), or 0 where it cannot say. */
static uint64_t flows_active(struct edgeprobe_bpf *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ep_flow_count), &opts) < 0 ||
	    (int)opts.retval < 0)
		return 0;
	return opts.retval;
}

/*
 * Wait until no program still writes the epoch before the flip: replacing the
 * fence map's entry returns after an RCU grace period, which every running
 * BPF program ends before.  Where that fails, 2 ms (a program runs for µs).
 */
static void fence(struct edgeprobe_bpf *skel)
{
	uint32_t zero = 0;
	int inner = bpf_map__fd(skel->maps.ep_fence_inner);

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.ep_fence), &zero, &inner, BPF_ANY) < 0) {
		struct timespec ts = {0, 2000000};

		nanosleep(&ts, NULL);
	}
}

static int flip(struct edgeprobe_bpf *skel, struct ep_bpf_cfg *cfg)
{
	uint32_t zero = 0;

	cfg->epoch ^= 1;
	return bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &zero, cfg, BPF_ANY);
}

/* The loader's window state: the drain and what the next admission level needs. */
struct windows {
	struct ep_bpf_drain d;
	uint64_t syn_new;         /* the syn_new counter at the last window's end */
	uint32_t halfopen_room;   /* the new-flow table's size */
	uint64_t windows;
};

/* Flip, let programs in flight finish, drain the finished epoch and export it. */
static void close_window(struct edgeprobe_bpf *skel, struct ep_probe *p, struct ep_bpf_cfg *cfg,
			 struct windows *wn, uint64_t start, uint64_t end, uint64_t *stats, int final)
{
	struct ep_window w;
	uint32_t done = cfg->epoch;
	long ret;

	flip(skel, cfg);
	fence(skel);
	ret = ep_bpf_drain_epoch(&wn->d, done);
	if (ret < 0)
		ep_log_warn("reading the BPF maps of a window: %s",
			    strerror((int)-ret));
	if (ep_bpf_drain_stats(&wn->d, stats) < 0)
		ep_log_warn("reading the BPF counters: %s", strerror(errno));
	/* The SYN admission level for the next window, from this one's new SYNs. */
	cfg->syn_admit_level = ep_admit_level_next((uint32_t)(stats[EP_ST_syn_new] - wn->syn_new),
						   wn->halfopen_room,
						   (uint32_t)((end - start) / 1000000));
	wn->syn_new = stats[EP_ST_syn_new];
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &(uint32_t){0}, cfg, BPF_ANY);
	stats[EP_ST_syn_admit_level] = cfg->syn_admit_level;
	stats[EP_ST_flows_active] = flows_active(skel);
	stats[EP_ST_hist_nomem] += wn->d.agg.hist_nomem + wn->d.hist_err;
	stats[EP_ST_asn_overflow] += wn->d.agg.overflow;
	if (final)
		ep_bpf_drain_end_flows(&wn->d, skel, stats);
	stats[EP_ST_windows] = ++wn->windows;
	memset(&w, 0, sizeof(w));
	w.type = EP_WIN_WINDOW;
	w.start_ns = start;
	w.end_ns = end;
	memcpy(w.stats, stats, sizeof(w.stats));
	w.nasns = ep_asn_agg_view(&wn->d.agg, &w.asns);
	ep_probe_emit(p, &w);
	ep_asn_agg_clear(&wn->d.agg);
}

struct reload {
	struct edgeprobe_bpf *skel;
	struct ep_bpf_cfg *cfg;
	struct ep_bpf_drain *d;
};

/*
 * SIGHUP: fill the tries not in use with the new data and flip to them
 * (programs read the choice once per packet); a table that does not fit is
 * refused and the current tries kept.
 */
static int adopt(struct ep_asn_map *m, void *ctx, char *err, size_t errlen)
{
	struct reload *r = ctx;
	struct ep_bpf_fill f = {.ids = &r->d->ids};
	uint32_t zero = 0, next = r->cfg->asn_set ^ 1;

	f.fd4 = bpf_map__fd(next ? r->skel->maps.ep_asn4b : r->skel->maps.ep_asn4);
	f.fd6 = bpf_map__fd(next ? r->skel->maps.ep_asn6b : r->skel->maps.ep_asn6);
	ep_bpf_clear_trie(f.fd4);
	ep_bpf_clear_trie(f.fd6);
	f.family = 4;
	ep_asn_map_prefixes(m, 4, ep_bpf_put_prefix, &f);
	f.family = 6;
	ep_asn_map_prefixes(m, 6, ep_bpf_put_prefix, &f);
	if (f.errors) {
		snprintf(err, errlen, "%zu of %zu prefixes did not fit in the tries (restart to "
			 "resize them)", f.errors, f.n);
		ep_bpf_clear_trie(f.fd4);
		ep_bpf_clear_trie(f.fd6);
		return -ENOSPC;
	}
	r->cfg->asn_set = next;
	bpf_map_update_elem(bpf_map__fd(r->skel->maps.ep_cfg), &zero, r->cfg, BPF_ANY);
	/* Organisation names of the windows come from the new table from now on. */
	ep_bpf_drain_set_asn_map(r->d, m);
	ep_bpf_clear_trie(bpf_map__fd(next ? r->skel->maps.ep_asn4 : r->skel->maps.ep_asn4b));
	ep_bpf_clear_trie(bpf_map__fd(next ? r->skel->maps.ep_asn6 : r->skel->maps.ep_asn6b));
	return 0;
}

/* ------------------------------------------------------------------------ */

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
	struct args a = {0};
	struct ep_probe_opts po;
	struct ep_probe p;
	struct edgeprobe_bpf *skel = NULL;
	struct ep_bpf_cfg cfg;
	struct ep_bpf_hooks hooks = {0};
	struct windows wn;
	struct ep_bpf_fill fill = {0};
	struct reload rl;
	uint64_t stats[EP_ST__COUNT] = {0}, interval, start;
	char err[512] = "";
	int ret;

	struct ep_probe_signals *sig = ep_probe_signals_init();

	memset(&p, 0, sizeof(p));
	memset(&wn, 0, sizeof(wn));
	ep_probe_opts_defaults(&po);
	po.max_flows = 262144; /* kernel memory: the default is smaller than the userspace probes' */
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
	if (ep_probe_setup(&p, &po, 0, 1, 0, err, sizeof(err)) < 0) {
		ep_log_err("%s", err);
		goto out;
	}
	skel = edgeprobe_bpf__open();
	if (!skel) {
		ep_log_err("opening the BPF object: %s", strerror(errno));
		goto out;
	}
	/* Size the maps: flows from --max-flows, the ASN tries from the data. */
	/* Room for the data to grow by half before a reload no longer fits (counted then). */
	fill.family = 4;
	ep_asn_map_prefixes(p.asn, 4, ep_bpf_count_prefix, &fill);
	bpf_map__set_max_entries(skel->maps.ep_asn4, (uint32_t)(fill.n * 3 / 2 + 1024));
	bpf_map__set_max_entries(skel->maps.ep_asn4b, (uint32_t)(fill.n * 3 / 2 + 1024));
	fill.n = 0;
	ep_asn_map_prefixes(p.asn, 6, ep_bpf_count_prefix, &fill);
	bpf_map__set_max_entries(skel->maps.ep_asn6, (uint32_t)(fill.n * 3 / 2 + 1024));
	bpf_map__set_max_entries(skel->maps.ep_asn6b, (uint32_t)(fill.n * 3 / 2 + 1024));
	bpf_map__set_max_entries(skel->maps.ep_flows, po.max_flows);
	bpf_map__set_max_entries(skel->maps.ep_flows_new, po.max_flows / 4 > 1024 ? po.max_flows / 4 : 1024);
	wn.halfopen_room = bpf_map__max_entries(skel->maps.ep_flows_new);
	bpf_map__set_max_entries(skel->maps.ep_actr0, po.max_asns + 1);
	bpf_map__set_max_entries(skel->maps.ep_actr1, po.max_asns + 1);
	ret = edgeprobe_bpf__load(skel);
	if (ret < 0) {
		ep_log_err("loading the BPF programs: %s (the verifier's log is above with --debug "
			   "levels of libbpf)", strerror(-ret));
		ret = 1;
		goto out;
	}
	ret = 1;
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, skel->obj) {
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
				ep_log_info("loaded %s: %u instructions, %u processed by the verifier",
					    bpf_program__name(prog), info.xlated_prog_len / 8,
					    info.verified_insns);
		}
	}
	if ((ret = ep_bpf_drain_init(&wn.d, skel, po.max_asns, p.asn, err, sizeof(err))) < 0) {
		ep_log_err("%s", err);
		ret = 1;
		goto out;
	}
	ret = 1;
	memset(&cfg, 0, sizeof(cfg));
	ep_hdr_cfg_init(&cfg.hdr, EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
			EP_HIST_DEFAULT_DIGITS);
	if (po.local_net[0]) {
		/* ep_probe_setup() parsed --local-net into p.local. */
		if ((ret = ep_bpf_fill_local(skel, &p.local)) < 0) {
			ep_log_err("--local-net: loading the local networks into the BPF map: %s",
				   strerror(-ret));
			ret = 1;
			goto out;
		}
		cfg.has_local = 1;
	}
	fill.fd4 = bpf_map__fd(skel->maps.ep_asn4);
	fill.fd6 = bpf_map__fd(skel->maps.ep_asn6);
	fill.ids = &wn.d.ids;
	fill.n = 0;
	fill.family = 4;
	ep_asn_map_prefixes(p.asn, 4, ep_bpf_put_prefix, &fill);
	fill.family = 6;
	ep_asn_map_prefixes(p.asn, 6, ep_bpf_put_prefix, &fill);
	if (fill.errors) {
		ep_log_err("loading the ASN tries: %zu of %zu prefixes failed", fill.errors, fill.n);
		goto out;
	}
	ep_log_info("ASN tries: %zu prefixes", fill.n);
	cfg.epoch = 1;
	flip(skel, &cfg); /* epoch 0 */
	if ((a.xdp && ep_bpf_attach_xdp(&hooks, (int)if_nametoindex(a.iface),
				 bpf_program__fd(skel->progs.ep_xdp_ingress), err, sizeof(err)) < 0) ||
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
	{
		static const int keep[] = {CAP_NET_ADMIN};

		if (ep_probe_drop_privileges(&po, keep, 1) < 0) {
			ep_bpf_detach(&hooks);
			goto out;
		}
	}
	ep_probe_signals_stop();
	rl = (struct reload){.skel = skel, .cfg = &cfg, .d = &wn.d};
	interval = (uint64_t)po.interval_ms * 1000000ull;
	start = ep_wall_ns();
	start -= start % interval;
	while (!sig->stop) {
		uint64_t now = ep_wall_ns(), end = start + interval;

		ep_probe_poll_signals(&p, &po, sig, adopt, &rl);
		if (now < end) {
			uint64_t left = end - now;
			struct timespec ts = {(time_t)(left / 1000000000ull),
					      (long)(left % 1000000000ull)};

			if (left > 20000000ull)
				ts = (struct timespec){0, 20000000};
			nanosleep(&ts, NULL);
			continue;
		}
		close_window(skel, &p, &cfg, &wn, start, end, stats, 0);
		start = end;
		if (ep_wall_ns() - start > interval) /* we fell behind: skip to now */
			start = ep_wall_ns() - ep_wall_ns() % interval;
	}
	/* Detach, then the open window (with every flow still open ended), then the summary. */
	ep_bpf_detach(&hooks);
	close_window(skel, &p, &cfg, &wn, start, ep_wall_ns(), stats, 1);
	ret = ep_probe_end(&p, &po, stats) < 0 ? 1 : 0;
out:
	edgeprobe_bpf__destroy(skel);
	ep_bpf_drain_fini(&wn.d);
	ep_probe_teardown(&p);
	return ret;
}
