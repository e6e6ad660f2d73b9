/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_bpf.h - what the BPF programs (ebpf/) and their loader (probe/bpf/) share:
 * map keys and values, the configuration, and the counter layout.  What the
 * programs call an "asn" is the value of the ASN tries: the id of an (ASN,
 * country) pair that the loader assigned (probe/bpf/tries.h).  The
 * counters are the probe's own (enum ep_stat, the same wire ids) followed by
 * the BPF path's extra ones.
 */
#ifndef EP_BPF_H
#define EP_BPF_H

#include "ep_flow_key.h"
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
	uint32_t slog_n;         /* samples per CPU and epoch in the sample log (0: no log) */
	uint32_t gen;            /* the window generation: +1 at every flip */
	uint32_t ftab_mask;      /* the flow array's slots - 1 (a power of 2, at least 2) */
	uint32_t spare;
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

/*
 * The probe counters: one per-CPU element, looked up once per packet; its
 * first line also holds the sample log's fill counts per generation parity,
 * valid for the window generation beside them.
 */
struct ep_bpf_stats {
	uint32_t slog_pos[2];
	uint32_t slog_gen[2];
	int64_t ftab_used; /* this CPU's fills less empties of flow array slots (sum: the gauge) */
	uint64_t c[EP_BPF_NSTATS];
};

/*
 * Per-ASN counters, first into a small per-CPU direct-mapped cache per epoch
 * (an array element, so a packet's count is an indexed add with no hashing
 * and no map insertion); an ASN that finds its cache slot taken by another
 * moves the other's counts into the epoch's per-CPU hash (struct
 * ep_bpf_counters by ASN).  The loader drains both.  Slots count in 32 bits:
 * one about to pass 2^31 is moved to the hash first.
 */
#define EP_BPF_ACACHE 512 /* slots per CPU and epoch: 20 KiB */
#define EP_BPF_ASLOT_N 8  /* counters a slot has room for (a power of 2 >= EP_AC__COUNT) */

struct ep_bpf_aslot {
	uint32_t asn;
	uint32_t live; /* 1: asn and c are this epoch's */
	uint32_t c[EP_BPF_ASLOT_N];
};

struct ep_bpf_acache {
	struct ep_bpf_aslot s[EP_BPF_ACACHE];
};

static inline uint32_t ep_bpf_acache_slot(uint32_t asn)
{
	return (asn * 0x9e3779b1u) >> 23; /* the top 9 bits: EP_BPF_ACACHE slots */
}

/* The epoch's hash of moved counters, indexed by enum ep_asn_counter. */
struct ep_bpf_counters {
	uint64_t c[EP_AC__COUNT];
};

/*
 * Histogram samples, first into the sample log: an array the loader mmaps,
 * one region of slog_n samples per CPU and generation parity, (cpu * 2 +
 * (gen & 1)) * slog_n elements from the start (the generation, not the
 * epoch: a program reads it once, so region and count always belong to the
 * same window).  A region's fill count is in the CPU's probe counters
 * element (struct ep_bpf_stats), on the line every packet's count already
 * brings in, with the window generation it belongs to: a count of an older
 * generation is 0, so no one empties a region.  A sample is then one
 * store (no hashing, no map insertion, no other cache line read: recording
 * into the bucket hash cost the live ingress program a third of its time);
 * the loader buckets the values when it drains the epoch.  A full region, or
 * an id too large for the packing, sends the sample to the bucket hash below
 * (bpf_slog_full counts those).
 */
#define EP_BPF_SLOG_DEFAULT 16384 /* samples per CPU and window: 256 KiB */
#define EP_BPF_SLOG_MAX_ID ((1u << 30) - 1)
_Static_assert(EP_AH__COUNT <= 4, "a histogram id takes 2 bits of a logged sample");

struct ep_bpf_sample {
	uint32_t id_hist; /* asn << 2 | histogram (enum ep_asn_hist) */
	uint32_t value;   /* the sample */
	uint32_t n;       /* the samples it stands for (ep_track.h: in-flow weights) */
	uint32_t spare;
};
_Static_assert(sizeof(struct ep_bpf_sample) % 8 == 0,
	       "an array map's elements are 8-byte aligned: the mmapped log's stride");

/* Histogram buckets, one per-CPU hash per epoch: (asn, histogram, counts index) -> count. */
struct ep_bpf_hkey {
	uint32_t asn;
	uint32_t hist;
	int32_t idx;
};

/* A flow: the shared protocol state and the remote side's ASN (72 bytes). */
struct ep_bpf_flow {
	struct ep_tcp tcp;
	uint32_t asn;
};

/*
 * The established flows' array (ep_ftab): two-way set-associative slots of 128
 * bytes, a flow's set chosen by its key's hash (ep_flow_key_hash), found with
 * an array look-up the verifier inlines and a key compare: no hashing helper,
 * no bucket walk and no LRU list to touch per packet.  A slot is claimed by a
 * compare-and-swap of its tag (0: empty), so two CPUs never fill one slot.
 * A flow whose set has no empty or stale slot (EP_BPF_FTAB_IDLE_S idle, or
 * closed and EP_BPF_FTAB_CLOSED_S idle) goes to the overflow hash (an LRU
 * hash, as all established flows did before) and is counted
 * (bpf_ftab_overflow).
 */
#define EP_BPF_FTAB_IDLE_S 300  /* the userspace tracker's established-flow timeout */
#define EP_BPF_FTAB_CLOSED_S 10 /* its half-open and closed flows' timeout */

struct ep_bpf_fslot {
	uint64_t tag; /* 0: empty; else the key's hash with the lowest bit set */
	struct ep_flow_key key;
	uint32_t seen; /* the last packet's time in seconds (2^30 ns) */
	struct ep_bpf_flow flow;
	uint32_t spare;
};
_Static_assert(sizeof(struct ep_bpf_fslot) == 128, "a flow slot is two cache lines");

#endif
