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

/* Per-ASN counters, in the order of the core's EP_ASN_COUNTERS. */
enum { EP_BPF_AC_FLOWS_NEW, EP_BPF_AC_FLOWS_CLOSED, EP_BPF_AC_SEGS_OUT, EP_BPF_AC_SEGS_IN,
       EP_BPF_AC_RETX_OUT, EP_BPF_AC_RETX_IN, EP_BPF_AC__COUNT };
/* Histograms, in the order of the core's enum ep_asn_hist. */
enum { EP_BPF_H_RTT_HS, EP_BPF_H_RTT_DATA, EP_BPF_H_RETX_PPM, EP_BPF_H__COUNT };

/* The counters array: enum ep_stat (the BPF path's own are at its tail). */
#define EP_BPF_NSTATS EP_ST__COUNT

struct ep_bpf_cfg {
	uint32_t epoch;          /* 0 or 1: the buffer programs write now */
	uint32_t has_local;      /* --local-net given: roles from the local tries */
	uint32_t asn_set;        /* 0 or 1: the ASN tries in use (SIGHUP fills the other, flips) */
	uint32_t pad;
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

struct ep_bpf_counters {
	uint64_t c[EP_BPF_AC__COUNT];
};

/* Flow state bits. */
#define EP_BF_SYN 0x01        /* handshake SYN seen */
#define EP_BF_SYNACK 0x02     /* SYN-ACK seen */
#define EP_BF_HS_DONE 0x04    /* rtt_hs taken or given up */
#define EP_BF_HS_KARN 0x08    /* a handshake segment was retransmitted */
#define EP_BF_MAIN 0x10       /* lives in the established table */
#define EP_BF_FIN_A 0x20
#define EP_BF_FIN_B 0x40
#define EP_BF_TS_A 0x100      /* side A sent timestamps */
#define EP_BF_TS_B 0x200
#define EP_BF_SEEN_A 0x400    /* side A sent data: snd_max[0] valid */
#define EP_BF_SEEN_B 0x800
#define EP_BF_TSV 0x1000      /* last_tsval valid */
#define EP_BF_ENDED 0x2000    /* closed (both FINs or a RST): kept to absorb the last ACKs */
#define EP_BF_FROM_A 0x4000   /* side A sent a packet */
#define EP_BF_FROM_B 0x8000

/* Pending in-flow sample kinds. */
#define EP_BP_NONE 0
#define EP_BP_TSVAL 1
#define EP_BP_SEQ 2

#define EP_BPF_PEND 3 /* outstanding in-flow samples per flow, as the userspace tracker */

struct ep_bpf_flow {
	uint64_t hs_ns;          /* SYN (remote server) or SYN-ACK (remote client) time */
	uint64_t pend_ns[EP_BPF_PEND]; /* times of the outstanding in-flow samples */
	uint32_t pend_val[EP_BPF_PEND]; /* TSval or sequence end awaited */
	uint32_t asn;
	uint32_t flags;          /* EP_BF_* */
	uint32_t hs_seq;         /* sequence number of the handshake segment awaited */
	uint32_t snd_max[2];     /* per side: highest sequence end sent */
	uint32_t last_tsval;     /* last TSval towards the remote */
	uint32_t data_out, retx_out; /* for retx_ppm */
	uint8_t remote;          /* 0: side A is the remote, 1: side B */
	uint8_t pend_kind;       /* EP_BP_* */
	uint8_t pend_mask;       /* slots in use */
	uint8_t pad;
};

#endif
