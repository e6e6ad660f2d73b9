/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source.h - edgeprobe-pcap's packet source: a capture file (read in blocks, or by
 * libpcap) or a live interface, each record parsed and handed to the tracker.
 */
#ifndef EP_PCAP_SOURCE_H
#define EP_PCAP_SOURCE_H

#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>

#include "pcapfile.h"
#include "probe.h"

struct src {
	struct ep_probe probe;
	int linktype;
	uint64_t ts_mult;       /* 1 when the source gives nanoseconds, 1000 for microseconds */
	volatile sig_atomic_t stop;
	pcap_t *pcap;
	/* A classic pcap file is read in blocks (pcapfile.h); libpcap reads the rest. */
	struct ep_pcapfile pf;
	int use_pf;
	struct bpf_program prog; /* --filter, applied here when reading in blocks */
	int have_prog;
	/* --realtime / --loop: capture time shifted to wall time, paced; ports varied per loop. */
	int realtime;
	double pace;            /* --pace X: X times the capture's pace, timestamps kept (0: off) */
	uint64_t pace_wall0;    /* wall ns of the first packet under --pace */
	int64_t shift;          /* ns added to capture timestamps */
	uint64_t first_ts, last_ts;
	uint16_t port_xor;
	int have_first;
	const struct ep_probe_opts *po;
	struct ep_probe_signals *sig; /* set by the signal handlers */
};

/*
 * Open a file (trace time) or an interface (wall time), with an optional BPF filter.
 * @return 0 or -1 (logged)
 */
int ep_pcap_open_source(struct src *s, const char *file, const char *iface, uint32_t snaplen,
			int promisc, const char *filter);
void ep_pcap_close_source(struct src *s);

/* Capture until s->stop.  @return 0 or -1 (logged) */
int ep_pcap_run_live(struct src *s);

/* Every record of file, loops times (--loop).  @return 0 or -1 (logged) */
int ep_pcap_run_file(struct src *s, const char *file, const char *filter, uint32_t loops);

#endif
