/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_tcp.h - what every probe records per connection and per ASN, declared
 * once: the per-ASN counter and histogram ids, and the protocol state of a
 * tracked connection (struct ep_tcp) with its flags.  The rules that update
 * them are in ep_track.h.
 */
#ifndef EP_TCP_H
#define EP_TCP_H

#include "ep_types.h"

/* Per-ASN counters: X(name).  syn_unsampled: SYNs whose flow a flood's sampled
 * admission did not create (ep_admit.h): handshakes not measured.  rtt_data_timed:
 * in-flow RTTs measured (the rtt_data histogram counts the echoes they weigh). */
#define EP_ASN_COUNTERS(X)                                                                         \
	X(flows_new) X(flows_closed) X(segs_out) X(segs_in) X(retx_out) X(retx_in) X(syn_unsampled) \
	X(rtt_data_timed)

enum ep_asn_counter {
#define EP_X(n) EP_AC_##n,
	EP_ASN_COUNTERS(EP_X)
#undef EP_X
	EP_AC__COUNT
};
#define EP_AC__COUNT_V3 7 /* per-ASN counters of wire version 3 (before rtt_data_timed) */

/* Per-ASN histograms. */
enum ep_asn_hist { EP_AH_RTT_HS, EP_AH_RTT_DATA, EP_AH_RETX_PPM, EP_AH__COUNT };

/* Flow states. */
enum {
	EP_FS_HALFOPEN = 0,    /* heard from one side only, or still in the handshake */
	EP_FS_ESTABLISHED = 1, /* heard from both sides past the SYNs */
	EP_FS_CLOSED = 2,      /* both FINs or a RST: kept to absorb the last packets */
};

/* Kinds of outstanding samples. */
enum { EP_PEND_NONE = 0, EP_PEND_HS = 1, EP_PEND_TS = 2, EP_PEND_SEQ = 3 };
#define EP_PEND_KIND_MASK 0x03u /* pend_kind: the kind in bits 0-1 */
#define EP_PEND_STEP_SHIFT 2    /* pend_kind: the sampling step (log2 bytes/ticks), bits 2-7 */
#define EP_PEND_SLOTS 0x07u     /* pend_mask: the valid slots */
#define EP_PEND_KARN 0x10u      /* pend_mask: data/ACK, resent since the last sample */
#define EP_PEND_LAST 0x20u      /* pend_mask: data/ACK, last_tsval holds the last in-flow sample */
#define EP_PEND_HOLE 0x40u      /* pend_mask: the remote's last ACK carried SACK blocks */
#define EP_PEND_FULL_SEEN 0x80u /* pend_mask: a candidate found every slot waiting */

#define EP_TCP_PEND 3 /* outstanding RTT samples per flow */
/* data_out at this many segments: it and retx_out are halved (their ratio is what is kept). */
#define EP_TCP_OUT_MAX 0xffffffu

/* Flow flags; (X << side) selects side 0 (key side A) or 1 (B). */
#define EP_TF_NXT0 0x0001u      /* nxt[side] is known: the side has sent a packet */
#define EP_TF_TS0 0x0004u       /* side sends TCP timestamps */
#define EP_TF_ZWIN0 0x0010u     /* side advertises a zero window */
#define EP_TF_FIN0 0x0040u      /* side sent FIN */
#define EP_TF_HS_KARN 0x0100u   /* handshake segment retransmitted: no rtt_hs */
#define EP_TF_SYN_SEEN 0x0200u
#define EP_TF_SYNACK_SEEN 0x0400u
#define EP_TF_FINAL 0x0800u     /* counted as closed, retx_ppm recorded */
#define EP_TF_TSV 0x1000u       /* last_tsval is valid */
#define EP_TF_HOLE0 0x2000u     /* hole_lo/hi[side] hold a range not seen yet */
#define EP_TF_ARMED 0x8000u     /* a crossing, or a slot freed unanswered: take the next one */
#define EP_TF_SIDE(f, s) ((uint16_t)((f) << (s)))
#define EP_TF_BOTH(f) ((uint16_t)((f) | ((f) << 1)))

/* The protocol state of one connection (68 bytes). */
struct ep_tcp {
	uint32_t nxt[2];                 /* per side: highest sequence end seen */
	uint32_t hole_lo[2], hole_hi[2]; /* per side: one unseen range below nxt */
	uint32_t last_tsval;             /* highest sampled TSval towards the remote; without
					    timestamps, the last in-flow sample (EP_PEND_LAST) */
	uint32_t data_out : 24;          /* data segments towards the remote (EP_TCP_OUT_MAX) */
	uint32_t echo_owed : 8;          /* new echoes since the last in-flow sample (to 255) */
	uint32_t retx_out : 24;          /* of which retransmissions */
	uint32_t echo_tag : 8;           /* hash of the remote's last TSecr or ACK */
	uint32_t pend_val[EP_TCP_PEND];  /* expected ACK / TSecr of an outstanding sample */
	uint32_t pend_us[EP_TCP_PEND];   /* its send time */
	uint16_t flags;                  /* EP_TF_* */
	uint8_t remote;                  /* the side that is the remote endpoint */
	uint8_t state;                   /* EP_FS_* */
	uint8_t pend_mask;               /* valid pend slots, EP_PEND_FULL_SEEN */
	uint8_t pend_kind;               /* EP_PEND_* of the valid slots, sampling step */
	uint16_t owner;                  /* the holder's (userspace flow table: list, queue time) */
};

#endif /* EP_TCP_H */
