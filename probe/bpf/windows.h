/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * windows.h - edgeprobe-bpf's windows: every interval flip the programs'
 * epoch, wait out the programs still writing the old one, drain it and
 * export it; the SYN admission level for the next window.
 */
#ifndef EP_BPF_WINDOWS_H
#define EP_BPF_WINDOWS_H

#include <stdint.h>

#include "drain.h"
#include "edgeprobe/ep_bpf.h"
#include "probe.h"

struct edgeprobe_bpf;
struct ep_bpf_hooks;

/* The loader's window state: the drain and what the next admission level needs. */
struct ep_bpf_windows {
	struct ep_bpf_drain d;
	struct edgeprobe_bpf *skel;
	struct ep_bpf_cfg cfg;    /* what the programs read (epoch, tries in use, admission) */
	uint64_t syn_new;         /* the syn_new counter at the last window's end */
	uint32_t halfopen_room;   /* the new-flow table's size */
	uint64_t windows;
};

/* Switch the programs to the other epoch's buffers. @return 0 or -errno */
int ep_bpf_flip(struct ep_bpf_windows *wn);

/*
 * Until a stop signal: a window every --interval on the wall clock (SIGHUP
 * and SIGUSR1 between them), then detach and the open window with every flow
 * ended.  stats: the cumulative counters, for the summary.
 */
void ep_bpf_run(struct ep_bpf_windows *wn, struct ep_probe *p, const struct ep_probe_opts *po,
		struct ep_probe_signals *sig, struct ep_bpf_hooks *hooks, uint64_t *stats);

#endif
