/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_bpf.h - what the BPF programs (ebpf/) and their loader (probe/bpf/) share:
 * map keys and values, the configuration, and the counter layout.  The
 * counters are the probe's own (enum ep_stat, the same wire ids) followed by
 * the BPF path's extra ones.
 */
#ifndef EP_BPF_H
#define EP_BPF_H

#include "ep_hdr.h"
#include "ep_stats.h"
#include "ep_tcp.h"

/* The counters array: enum ep_stat (the BPF path's own are at its tail). */
#define EP_BPF_NSTATS EP_ST__COUNT

struct ep_bpf_cfg {
	uint32_t epoch;          /* 0 or 1: the buffer programs write now */
	uint32_t has_local;      /* --local-net given: roles from the local tries */
	uint32_t asn_set;        /* 0 or 1: the ASN tries in use (SIGHUP fills the other, flips) */
	uint32_t syn_admit_level; /* new half-open flows admitted at 2^-level (ep_admit.h) */
	struct ep_hdr_cfg hdr;   /* histogram bucket math, precomputed by the loader */
};

struct ep_bpf_lpm4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

struct ep_bpf_lpm6 {
	uint32_t prefixlen;
	uint8_t addr[16];
};

/* Histogram buckets: (epoch, asn, histogram, counts index) -> per-CPU count. */
struct ep_bpf_hkey {
	uint32_t epoch;
	uint32_t asn;
	uint32_t hist;
	int32_t idx;
};

struct ep_bpf_ckey {
	uint32_t epoch;
	uint32_t asn;
};

/* Per-ASN counters, indexed by enum ep_asn_counter. */
struct ep_bpf_counters {
	uint64_t c[EP_AC__COUNT];
};

/* A flow: the shared protocol state and the remote side's ASN (72 bytes). */
struct ep_bpf_flow {
	struct ep_tcp tcp;
	uint32_t asn;
};

#endif
