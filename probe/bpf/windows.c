/* SPDX-License-Identifier: BSD-3-Clause */
/* windows.c - edgeprobe-bpf's window loop: flip the epoch, fence, drain, export; reloads. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edgeprobe.skel.h"
#include "edgeprobe/ep_admit.h"
#include "hooks.h"
#include "log.h"
#include "tries.h"
#include "wallclock.h"
#include "windows.h"

/* Flows in the hash tables (the kernel's per-map element count), or 0 where it cannot say. */
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

int ep_bpf_flip(struct ep_bpf_windows *wn)
{
	uint32_t zero = 0;

	wn->cfg.epoch ^= 1;
	wn->cfg.gen++;
	return bpf_map_update_elem(bpf_map__fd(wn->skel->maps.ep_cfg), &zero, &wn->cfg, BPF_ANY) < 0
		       ? -errno
		       : 0;
}

/* Flip, let programs in flight finish, drain the finished epoch and export it. */
static void close_window(struct ep_bpf_windows *wn, struct ep_probe *p, uint64_t start,
			 uint64_t end, uint64_t *stats, int final)
{
	struct edgeprobe_bpf *skel = wn->skel;
	struct ep_window w;
	uint32_t done = wn->cfg.epoch, gen = wn->cfg.gen;
	long ret;

	ep_bpf_flip(wn);
	fence(skel);
	ret = ep_bpf_drain_epoch(&wn->d, done, gen);
	if (ret < 0)
		ep_log_warn("reading the BPF maps of a window: %s", strerror((int)-ret));
	if (ep_bpf_drain_stats(&wn->d, stats) < 0)
		ep_log_warn("reading the BPF counters: %s", strerror(errno));
	/* The SYN admission level for the next window, from this one's new SYNs. */
	wn->cfg.syn_admit_level =
	    ep_admit_level_next((uint32_t)(stats[EP_ST_syn_new] - wn->syn_new), wn->halfopen_room,
				(uint32_t)((end - start) / 1000000));
	wn->syn_new = stats[EP_ST_syn_new];
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &(uint32_t){0}, &wn->cfg, BPF_ANY);
	stats[EP_ST_syn_admit_level] = wn->cfg.syn_admit_level;
	stats[EP_ST_flows_active] =
	    flows_active(skel) + (wn->d.ftab_used > 0 ? (uint64_t)wn->d.ftab_used : 0);
	stats[EP_ST_hist_nomem] += wn->d.agg.hist_nomem + wn->d.hist_err;
	stats[EP_ST_asn_overflow] += wn->d.agg.overflow;
	if (final && (ret = ep_bpf_drain_end_flows(&wn->d, skel, stats)) < 0)
		ep_log_warn("reading the flows at the end: %s", strerror((int)-ret));
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

/*
 * SIGHUP: fill the tries not in use with the new data and flip to them
 * (programs read the choice once per packet); a table that does not fit is
 * refused and the current tries kept.
 */
static int adopt(struct ep_asn_map *m, void *ctx, char *err, size_t errlen)
{
	struct ep_bpf_windows *wn = ctx;
	struct edgeprobe_bpf *skel = wn->skel;
	struct ep_bpf_fill f = {.ids = &wn->d.ids};
	uint32_t zero = 0, next = wn->cfg.asn_set ^ 1;

	f.fd4 = bpf_map__fd(next ? skel->maps.ep_asn4b : skel->maps.ep_asn4);
	f.fd6 = bpf_map__fd(next ? skel->maps.ep_asn6b : skel->maps.ep_asn6);
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
	wn->cfg.asn_set = next;
	bpf_map_update_elem(bpf_map__fd(skel->maps.ep_cfg), &zero, &wn->cfg, BPF_ANY);
	/* Organisation names of the windows come from the new table from now on. */
	ep_bpf_drain_set_asn_map(&wn->d, m);
	ep_bpf_clear_trie(bpf_map__fd(next ? skel->maps.ep_asn4 : skel->maps.ep_asn4b));
	ep_bpf_clear_trie(bpf_map__fd(next ? skel->maps.ep_asn6 : skel->maps.ep_asn6b));
	return 0;
}

void ep_bpf_run(struct ep_bpf_windows *wn, struct ep_probe *p, const struct ep_probe_opts *po,
		struct ep_probe_signals *sig, struct ep_bpf_hooks *hooks, uint64_t *stats)
{
	uint64_t interval = (uint64_t)po->interval_ms * 1000000ull, start = ep_wall_ns();

	start -= start % interval;
	while (!sig->stop) {
		uint64_t now = ep_wall_ns(), end = start + interval;

		ep_probe_poll_signals(p, po, sig, adopt, wn);
		if (now < end) {
			uint64_t left = end - now;
			struct timespec ts = {(time_t)(left / 1000000000ull),
					      (long)(left % 1000000000ull)};

			if (left > 20000000ull)
				ts = (struct timespec){0, 20000000};
			nanosleep(&ts, NULL);
			continue;
		}
		close_window(wn, p, start, end, stats, 0);
		start = end;
		if (ep_wall_ns() - start > interval) /* we fell behind: skip to now */
			start = ep_wall_ns() - ep_wall_ns() % interval;
	}
	/* Detach, then the open window (with every flow still open ended). */
	ep_bpf_detach(hooks);
	close_window(wn, p, start, ep_wall_ns(), stats, 1);
}
