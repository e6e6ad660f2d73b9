/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_track.h - the TCP tracking rules, written once for every probe (the
 * userspace tracker and the BPF programs): how a connection's state (struct
 * ep_tcp, ep_tcp.h) changes with each segment.  Which side is the remote
 * one, handshake and in-flow RTT samples (TCP timestamps or data/ACK
 * matching, Karn's rule), retransmissions (keepalives and zero-window probes
 * excepted, one reordering hole per side), the flow's states and its end.
 *
 * The includer owns the flow storage and decides what a sample or a count
 * does.  Before including this header it declares struct ep_track_env and,
 * anywhere in the same file, defines the four functions declared below:
 *   ep_track_sample(env, hist, value, n)  a histogram value (enum ep_asn_hist) that
 *                                         stands for n samples (in-flow: see below)
 *   ep_track_count(env, ctr, n)           a per-ASN counter (enum ep_asn_counter)
 *   ep_track_stat(env, stat)              a probe counter (enum ep_stat), +1
 *   ep_track_now(env)                     the packet's time: microseconds on a
 *                                         wrapping 32-bit clock, the same for every
 *                                         call during one packet
 * Samples are differences of times.  The rules ask for the time only when a
 * packet starts or ends a sample or looks at a sample's age.  (The BPF
 * programs still read their clock for every packet: reading it on demand
 * measured no gain live, docs/performance.md.)
 *
 * Header-only, no allocation, loops bounded by constants: compiles for BPF.
 */
#ifndef EP_TRACK_H
#define EP_TRACK_H

#include "ep_parse.h"
#include "ep_stats.h"
#include "ep_tcp.h"

struct ep_track_env;
EP_INLINE void ep_track_sample(struct ep_track_env *env, uint32_t hist, uint32_t value,
				uint32_t n);
EP_INLINE void ep_track_count(struct ep_track_env *env, uint32_t ctr, uint32_t n);
EP_INLINE void ep_track_stat(struct ep_track_env *env, uint32_t stat);
EP_INLINE uint32_t ep_track_now(struct ep_track_env *env);

/*
 * Which side is the remote one, for a flow created by a packet from side s:
 * the side outside --local-net when exactly one is inside (a_local, b_local:
 * -1 without --local-net); else the initiator (the SYN's sender), else the
 * side with the higher port.
 */
EP_INLINE uint8_t ep_tcp_pick_remote(int a_local, int b_local, const struct ep_pkt *pkt, int s,
				     uint16_t port_a, uint16_t port_b)
{
	if (a_local >= 0 && a_local != b_local)
		return a_local ? 1 : 0;
	if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN)
		return (uint8_t)s;
	if (pkt->flags & EP_TCP_SYN)
		return (uint8_t)!s;
	return port_a > port_b ? 0 : 1;
}

/* A new flow's state (zeroed by the caller). */
EP_INLINE void ep_tcp_init(struct ep_tcp *f, uint8_t remote)
{
	f->remote = remote;
	f->state = EP_FS_HALFOPEN;
}

/* The flow ends (FIN/RST, timeout, eviction, end of input): counted once, with its retx_ppm. */
EP_INLINE void ep_tcp_end(struct ep_track_env *env, struct ep_tcp *f)
{
	if (f->flags & EP_TF_FINAL)
		return;
	f->flags |= EP_TF_FINAL;
	ep_track_stat(env, EP_ST_flows_closed);
	ep_track_count(env, EP_AC_flows_closed, 1);
	if ((f->flags & EP_TF_BOTH(EP_TF_NXT0)) != EP_TF_BOTH(EP_TF_NXT0))
		ep_track_stat(env, EP_ST_flows_one_way);
	if (f->data_out)
		ep_track_sample(env, EP_AH_RETX_PPM,
				(uint32_t)((uint64_t)f->retx_out * 1000000u / f->data_out), 1);
}

/* The kind of the outstanding samples (EP_PEND_*) and the in-flow sampling step (log2). */
EP_INLINE uint32_t ep_tcp_kind(const struct ep_tcp *f)
{
	return f->pend_kind & EP_PEND_KIND_MASK;
}

EP_INLINE uint32_t ep_tcp_step(const struct ep_tcp *f)
{
	return (uint32_t)f->pend_kind >> EP_PEND_STEP_SHIFT;
}

EP_INLINE void ep_tcp_pend_clear(struct ep_tcp *f)
{
	f->pend_mask = 0;
	f->pend_kind = EP_PEND_NONE;
	f->echo_owed = 0;
}

/*
 * segs data segments towards the remote, retx of them retransmissions.  Past
 * EP_TCP_OUT_MAX the two counts are halved together: retx_ppm, their ratio, is
 * what the flow's end records (the per-ASN counters count every segment).
 */
EP_INLINE void ep_tcp_count_out(struct ep_tcp *f, uint32_t segs, int retx)
{
	if (segs > EP_TCP_OUT_MAX / 2)
		segs = EP_TCP_OUT_MAX / 2;
	if (f->data_out + segs > EP_TCP_OUT_MAX) {
		f->data_out >>= 1;
		f->retx_out >>= 1;
	}
	f->data_out += segs;
	if (retx)
		f->retx_out += segs;
}

/*
 * In-flow sampling.  A flow holds up to EP_TCP_PEND outstanding samples: the
 * value that answers each (a TSval to be echoed, or a segment end to be
 * covered by a cumulative ACK) and its send time.  A sample that can still be
 * answered is never dropped for a newer one: while every slot waits, new
 * candidates are not taken (rtt_pend_full).  A slot is freed by its answer
 * (a sample), when it can no longer be answered first (retired: a later
 * TSval was echoed, or an ACK covered a later segment), by a retransmission
 * (Karn), or after EP_PEND_MAX_US without an answer.  A slot freed without a
 * sample arms the sampler: the next new segment (or TSval) takes its place,
 * so that delayed ACKs and losses do not thin the samples.
 *
 * Each in-flow sample stands for the remote's new echoes since the flow's
 * sample before it (echo_owed: packets whose TSecr, or without timestamps
 * whose cumulative ACK, differs from the one before; at least 1, at most 255):
 * the histogram weighs the moments of a flow as the first echoes of its
 * TSvals (or tshark's ack_rtt) do, which is what the samples are checked
 * against.  Unweighted, a sampler of 3 slots under-weighs the moments when
 * the slots wait longest: a slow start that overshoots into a lossy queue,
 * where candidates taken beyond a hole are retired only a round trip later
 * (the p90 read 14 % low on an unpaced lossy bulk run; weighted, it fails
 * none of 105 ISP-runs replayed).  Without timestamps a retransmission ends
 * the count: the ACKs before it weigh on the flow's last sample (they answer
 * segments sent before the loss, when the queue was as full as that sample
 * saw it), not on the next one; the ACKs after it are not counted until the
 * next sample, as they may answer the resend (tshark's ack_rtt with Karn's
 * rule, the reference, has no samples there).  Crediting the ACKs before a
 * loss to the sample after the recovery read the p90 13 % low; dropping them
 * read it 20 % low in 1 of 16 unpaced lossy runs (weighing them on the last
 * sample: -14 to +4 % in the same 16).  The tag is an 8-bit hash of the
 * value, so 1 in 256 new echoes is missed, whatever the round trip.
 *
 * Without timestamps, candidates are spread evenly over the bytes the flow
 * sends, so that the samples weigh every moment of a transfer alike (a queue
 * that builds and drains is seen for as long as it lasts): a segment whose
 * end crosses a multiple of 2^step in sequence space is a candidate.  With
 * timestamps they are spread evenly over the sender's TSval clock: a new
 * TSval that crosses a multiple of 2^step ticks is a candidate, so that the
 * samples are a thinned copy of the first echo of every TSval (one per tick
 * that carried data).  Per byte and per tick differ where the sender bursts:
 * under slow-start overshoot more bytes leave per millisecond while the
 * queue is full, and the per-byte p50 read up to 13 % above the per-TSval one.
 * (When the candidate is the second TSval of a delayed-ACK pair, it is never
 * echoed first: it is retired and the next new TSval takes its place.)
 *
 * The step adapts per flow.  Up by one when a slot is answered after a
 * candidate found every slot waiting: the candidates come faster than the
 * answers.  A full set of slots that then free without answers (retired,
 * voided: a loss) says nothing of the rate, and does not count.  Down by one,
 * rarely (1 in EP_STEP_DOWN_ODDS of the candidates that find every slot free),
 * so that the step follows the largest recent bandwidth-delay product and
 * candidates come about 1-3 times per round trip of the slowest recent round
 * trips.  Re-arming a slot as soon as it is answered instead samples at 3 per
 * current round trip and over-weighs the moments when the round trip is short
 * (under a queue that came and went, the p50 read 12-25 % low); counting the
 * slots clogged by a loss as "too fast" starved flows in loss recovery.
 */
#define EP_PEND_MAX_US 8000000u /* an outstanding sample unanswered this long is dropped */
#define EP_TSVAL_JUMP 0x100000u /* a TSval this far behind the last one: its clock restarted */
#define EP_STEP_MAX 30u         /* sampling step ceiling (2^30 bytes or TSval ticks) */
#define EP_STEP_DOWN_ODDS 16u   /* power of 2 */

/* Slot i frees without a sample: a full set of such slots says nothing of the rate. */
EP_INLINE void ep_tcp_pend_drop(struct ep_tcp *f, uint32_t i)
{
	f->pend_mask &= (uint8_t)~(1u << i | EP_PEND_FULL_SEEN);
}

/* Slot i is answered: if a candidate found the slots full before, the step goes up. */
EP_INLINE void ep_tcp_pend_answered(struct ep_track_env *env, struct ep_tcp *f, uint32_t i)
{
	uint32_t step = ep_tcp_step(f), rtt = ep_track_now(env) - f->pend_us[i];

	ep_track_sample(env, EP_AH_RTT_DATA, rtt, f->echo_owed ? f->echo_owed : 1);
	ep_track_stat(env, EP_ST_rtt_data_timed);
	ep_track_count(env, EP_AC_rtt_data_timed, 1);
	f->echo_owed = 0;
	if ((f->pend_mask & EP_PEND_FULL_SEEN) && step < EP_STEP_MAX)
		f->pend_kind = (uint8_t)(ep_tcp_kind(f) | (step + 1) << EP_PEND_STEP_SHIFT);
	f->pend_mask &= (uint8_t)~(1u << i | EP_PEND_FULL_SEEN | EP_PEND_KARN);
	if (ep_tcp_kind(f) == EP_PEND_SEQ) {
		f->last_tsval = rtt; /* for the ACKs a retransmission cuts off (Karn) */
		f->pend_mask |= EP_PEND_LAST;
	}
}

/*
 * Wait for val (an ACK or TSecr) sent now, if a slot is free (or frees by
 * age).  A new kind (handshake -> in-flow) starts over.
 * @return 1 when taken, 0 when every slot waits (counted)
 */
EP_INLINE int ep_tcp_pend_add(struct ep_track_env *env, struct ep_tcp *f, uint8_t kind,
			      uint32_t val)
{
	uint32_t i, slot = EP_TCP_PEND;

	if (ep_tcp_kind(f) != kind) {
		f->pend_kind = kind;
		f->pend_mask = 0;
		f->echo_owed = 0;
	}
	for (i = 0; i < EP_TCP_PEND; i++) {
		if (!(f->pend_mask & (1u << i))) {
			slot = i;
			break;
		}
	}
	if (slot == EP_TCP_PEND) {
		uint32_t now = ep_track_now(env);

		for (i = 0; i < EP_TCP_PEND; i++) {
			if (now - f->pend_us[i] > EP_PEND_MAX_US) {
				ep_tcp_pend_drop(f, i);
				ep_track_stat(env, EP_ST_rtt_pend_expired);
				slot = i;
			}
		}
		if (slot == EP_TCP_PEND) {
			ep_track_stat(env, EP_ST_rtt_pend_full);
			return 0;
		}
	}
	f->pend_val[slot] = val;
	f->pend_us[slot] = ep_track_now(env);
	f->pend_mask |= (uint8_t)(1u << slot);
	return 1;
}

/*
 * An in-flow candidate (kind EP_PEND_TS or EP_PEND_SEQ) at a step boundary:
 * taken if a slot is free, and the step adapted (see above).
 * @return 1 when taken
 */
EP_INLINE int ep_tcp_pend_sampled(struct ep_track_env *env, struct ep_tcp *f, uint8_t kind,
				  uint32_t val)
{
	uint32_t step = ep_tcp_kind(f) == kind ? ep_tcp_step(f) : 0;
	int all_free = ep_tcp_kind(f) != kind || !(f->pend_mask & EP_PEND_SLOTS);

	if (!ep_tcp_pend_add(env, f, kind, val)) {
		f->pend_mask |= EP_PEND_FULL_SEEN;
		return 0;
	}
	if (all_free && step && ((val * 0x9e3779b1u) >> 28) % EP_STEP_DOWN_ODDS == 0)
		step--;
	f->pend_kind = (uint8_t)(kind | step << EP_PEND_STEP_SHIFT);
	return 1;
}

/* A packet from the remote with TSecr (or ACK) val: a new echo when its hash changes. */
EP_INLINE void ep_tcp_echo(struct ep_tcp *f, uint32_t val)
{
	uint32_t tag = (val * 0x9e3779b1u) >> 24;

	if (tag != f->echo_tag) {
		f->echo_tag = tag;
		if (f->echo_owed < 255)
			f->echo_owed++;
	}
}

/*
 * A packet from the remote echoing TSecr: the outstanding TSval it equals is a
 * sample (its first echo: the slot is freed with it); older outstanding TSvals
 * were never echoed first and never will be (retired), and the next new TSval
 * takes the place of each (with one TSval per segment and delayed ACKs, half
 * of the TSvals are never echoed: the yield would halve).
 */
EP_INLINE void ep_tcp_match_tsecr(struct ep_track_env *env, struct ep_tcp *f, uint32_t tsecr)
{
	uint32_t i;

	for (i = 0; i < EP_TCP_PEND; i++) {
		if (!(f->pend_mask & (1u << i)))
			continue;
		if (f->pend_val[i] == tsecr) {
			ep_tcp_pend_answered(env, f, i);
		} else if (ep_seq_lt(f->pend_val[i], tsecr)) {
			ep_track_stat(env, EP_ST_rtt_pend_retired);
			ep_tcp_pend_drop(f, i);
			/* In its place, the next new TSval (a retransmission's under a hole). */
			f->flags |= EP_TF_ARMED;
		}
	}
}

/*
 * A cumulative ACK from the remote (SACK blocks are not read): of the
 * outstanding segments it covers, the newest (the last sent) is the sample;
 * the older ones are retired.  An ACK that covers several segments was held
 * by the receiver for the last of them (delayed ACK) or the ACKs between were
 * not seen: timing the older ones would add the sender's gap between the
 * segments to the path's round trip.  Wireshark's ack_rtt makes the same
 * choice (the segment whose end the ACK equals).
 */
EP_INLINE void ep_tcp_match_ack(struct ep_track_env *env, struct ep_tcp *f, uint32_t ack)
{
	uint32_t i, newest = EP_TCP_PEND;

	for (i = 0; i < EP_TCP_PEND; i++) {
		if (!(f->pend_mask & (1u << i)) || !ep_seq_le(f->pend_val[i], ack))
			continue;
		if (newest < EP_TCP_PEND) {
			ep_track_stat(env, EP_ST_rtt_pend_retired);
			f->flags |= EP_TF_ARMED; /* the next new segment takes its place */
		}
		if (newest == EP_TCP_PEND || !ep_seq_lt(f->pend_val[i], f->pend_val[newest]))
			newest = i;
	}
	if (newest == EP_TCP_PEND)
		return;
	for (i = 0; i < EP_TCP_PEND; i++)
		if (i != newest && (f->pend_mask & (1u << i)) && ep_seq_le(f->pend_val[i], ack))
			f->pend_mask &= (uint8_t)~(1u << i);
	ep_tcp_pend_answered(env, f, newest);
}

/*
 * Karn: a retransmission from seq makes the outstanding segments ending after
 * it ambiguous (their cumulative ACK waits for the resent range).
 */
EP_INLINE void ep_tcp_karn_seq(struct ep_track_env *env, struct ep_tcp *f, uint32_t seq)
{
	uint32_t i;

	if (ep_tcp_kind(f) != EP_PEND_SEQ)
		return;
	/*
	 * The ACKs since the last sample answered segments sent before this
	 * resend: they weigh on that sample, the RTT measured closest to them.
	 * Until the next answer, ACKs may answer the resend: not counted.
	 */
	if (f->echo_owed && (f->pend_mask & EP_PEND_LAST)) {
		ep_track_sample(env, EP_AH_RTT_DATA, f->last_tsval, f->echo_owed);
		ep_track_stat(env, EP_ST_rtt_karn_credit);
	}
	f->echo_owed = 0;
	f->pend_mask |= EP_PEND_KARN;
	for (i = 0; i < EP_TCP_PEND; i++) {
		if ((f->pend_mask & (1u << i)) && ep_seq_lt(seq, f->pend_val[i])) {
			ep_tcp_pend_drop(f, i);
			ep_track_stat(env, EP_ST_rtt_karn_discard);
			f->flags |= EP_TF_ARMED; /* the next new segment takes its place */
		}
	}
}

/*
 * The end of the first wire segment of [seq, end): end, or for a GSO
 * super-packet seen before segmentation (segs > 1, seg_bytes its wire
 * segments' payload) the end of its first segment.
 */
EP_INLINE uint32_t ep_tcp_first_wire_end(uint32_t seq, uint32_t end, uint32_t segs,
					 uint32_t seg_bytes)
{
	return segs > 1 && seg_bytes && end - seq > seg_bytes ? seq + seg_bytes : end;
}

/*
 * Data/ACK candidates of a segment [seq, end) sent towards the remote: the
 * segment is one when its end crosses a step boundary.  A GSO super-packet
 * seen before segmentation (TC egress: segs > 1, seg_bytes its wire segments'
 * payload) is sampled as its wire segments would be: each boundary inside it
 * makes the end of the wire segment that crosses it a candidate, so that its
 * samples are those of a capture of the wire.
 */
EP_INLINE void ep_tcp_pend_seq(struct ep_track_env *env, struct ep_tcp *f, uint32_t seq,
			       uint32_t end, uint32_t segs, uint32_t seg_bytes)
{
	uint32_t i, step = ep_tcp_step(f), first = ep_tcp_first_wire_end(seq, end, segs, seg_bytes);
	int super = first != end;

	if (f->flags & EP_TF_ARMED) {
		/* A slot freed without a sample: the first (wire) segment takes its place. */
		uint32_t e = first;

		f->flags &= (uint16_t)~EP_TF_ARMED;
		if (!ep_tcp_pend_sampled(env, f, EP_PEND_SEQ, e) || e == end)
			return;
		step = ep_tcp_step(f);
		seq = e;
	}
	if (!super) {
		if (seq >> step != end >> step)
			ep_tcp_pend_sampled(env, f, EP_PEND_SEQ, end);
		return;
	}
	ep_track_stat(env, EP_ST_gso_split);
	for (i = 0; i < EP_TCP_PEND + 1; i++) {
		/* The next boundary after seq, and the end of the wire segment holding it. */
		uint32_t b = ((seq >> step) + 1) << step, e;

		if (!ep_seq_le(b, end) || ep_seq_le(b, seq))
			break;
		e = seq + (b - seq + seg_bytes - 1) / seg_bytes * seg_bytes;
		if (ep_seq_lt(end, e))
			e = end;
		if (!ep_tcp_pend_sampled(env, f, EP_PEND_SEQ, e))
			break;
		step = ep_tcp_step(f);
		seq = e;
	}
}

/* SYN and SYN-ACK: the handshake sample's clock. */
EP_INLINE void ep_tcp_on_syn(struct ep_track_env *env, struct ep_tcp *f, const struct ep_pkt *pkt,
			     int s, int toward)
{
	if (!(pkt->flags & EP_TCP_ACK)) {
		/* SYN: towards a remote server it starts the rtt_hs clock. */
		if (f->flags & EP_TF_SYN_SEEN) {
			if (toward) {
				f->flags |= EP_TF_HS_KARN;
				if (ep_tcp_kind(f) == EP_PEND_HS)
					ep_tcp_pend_clear(f);
			}
		} else {
			f->flags |= EP_TF_SYN_SEEN;
			if (toward)
				ep_tcp_pend_add(env, f, EP_PEND_HS, pkt->seq + 1);
		}
	} else if (!toward) {
		/* SYN-ACK from a remote server: the sample, unless the SYN was resent. */
		if (ep_tcp_kind(f) == EP_PEND_HS && (f->pend_mask & 1) && pkt->ack == f->pend_val[0]) {
			if (!(f->flags & EP_TF_HS_KARN))
				ep_track_sample(env, EP_AH_RTT_HS,
						ep_track_now(env) - f->pend_us[0], 1);
			ep_tcp_pend_clear(f);
		}
	} else {
		/* SYN-ACK towards a remote client starts the clock; a second one voids it. */
		if (f->flags & EP_TF_SYNACK_SEEN) {
			f->flags |= EP_TF_HS_KARN;
			if (ep_tcp_kind(f) == EP_PEND_HS)
				ep_tcp_pend_clear(f);
		} else {
			f->flags |= EP_TF_SYNACK_SEEN;
			ep_tcp_pend_add(env, f, EP_PEND_HS, pkt->seq + 1);
		}
	}
	f->nxt[s & 1] = pkt->seq + 1;
	f->flags |= EP_TF_SIDE(EP_TF_NXT0, s);
}

/*
 * Has [seq, end) of side s been seen before?  Ranges below nxt that were
 * skipped (one hole per side) are new when they arrive late: reordering, not
 * retransmission.  Updates nxt and the hole.
 */
EP_INLINE int ep_tcp_seen_before(struct ep_tcp *f, int s, uint32_t seq, uint32_t end)
{
	uint16_t hole = EP_TF_SIDE(EP_TF_HOLE0, s);
	int seen = 0;

	s &= 1;
	if (ep_seq_lt(seq, f->nxt[s])) {
		if ((f->flags & hole) && ep_seq_le(f->hole_lo[s], seq) &&
		    ep_seq_le(end, f->hole_hi[s])) {
			/* A first transmission filling (part of) the hole. */
			if (seq == f->hole_lo[s])
				f->hole_lo[s] = end;
			else
				f->hole_hi[s] = seq; /* keep the lower part */
		} else {
			seen = 1;
			if ((f->flags & hole) && ep_seq_le(seq, f->hole_lo[s]) &&
			    ep_seq_lt(f->hole_lo[s], end))
				f->hole_lo[s] = end; /* a retransmission that also fills */
		}
		if ((f->flags & hole) && !ep_seq_lt(f->hole_lo[s], f->hole_hi[s]))
			f->flags &= (uint16_t)~hole;
	} else if (ep_seq_lt(f->nxt[s], seq)) {
		f->hole_lo[s] = f->nxt[s];
		f->hole_hi[s] = seq;
		f->flags |= hole;
	}
	if (ep_seq_lt(f->nxt[s], end))
		f->nxt[s] = end;
	return seen;
}

/*
 * A segment with payload from side s (segs, seg_bytes: GSO, as for
 * ep_tcp_segment()).  Without timestamps, its data/ACK candidates (with them,
 * the TSval is the candidate: ep_tcp_on_tsval()).
 * @return 1 for a retransmission towards the remote, else 0
 */
EP_INLINE int ep_tcp_on_data(struct ep_track_env *env, struct ep_tcp *f, const struct ep_pkt *pkt,
			      int s, int toward, int ts_mode, uint32_t segs,
			      uint32_t seg_bytes)
{
	uint32_t len = pkt->payload_len, end = pkt->seq + len;
	int fresh = 1, ret = 0;

	if (f->flags & EP_TF_SIDE(EP_TF_NXT0, s)) {
		uint32_t nxt = f->nxt[s & 1];

		fresh = !ep_seq_lt(pkt->seq, nxt); /* in order: a sample candidate */
		if (ep_tcp_seen_before(f, s, pkt->seq, end)) {
			int keepalive = len <= 1 && pkt->seq == nxt - 1;
			int zwp = len <= 1 && (f->flags & EP_TF_SIDE(EP_TF_ZWIN0, !s));

			if (!keepalive && !zwp) {
				if (toward) {
					ret = 1;
					ep_track_count(env, EP_AC_retx_out, segs);
					ep_tcp_karn_seq(env, f, pkt->seq);
				} else {
					ep_track_count(env, EP_AC_retx_in, segs);
				}
			}
		}
	} else {
		f->nxt[s & 1] = end;
		f->flags |= EP_TF_SIDE(EP_TF_NXT0, s);
	}
	if (toward)
		ep_tcp_count_out(f, segs, ret);
	/* Data/ACK candidates: first transmissions only (Karn). */
	if (toward && fresh && !ts_mode && ep_tcp_kind(f) != EP_PEND_HS)
		ep_tcp_pend_seq(env, f, pkt->seq, end, segs, seg_bytes);
	return ret;
}

/*
 * A TSval towards the remote on a segment that elicits an ACK: a candidate
 * when it is the first segment with that TSval and it crosses a multiple of
 * 2^step ticks, or when it replaces a TSval retired unechoed.  While the
 * remote holds a hole, either is taken only from a retransmission (retx),
 * which the remote echoes when it fills the hole, where new data's never is:
 * the remote echoes only the TSval of a segment at its left edge.  Taking new
 * data's there filled the slots with TSvals retired a round trip later, and a
 * loss recovery of 2 s went without a sample while the reference had its
 * first echoes (of the retransmissions, at 100-290 ms): the p90 read 19 % low.
 * (Before the samples were weighted, waiting for retransmissions weighed the
 * recoveries above the reference: the p50 at its 60th-75th percentile.)  A
 * TSval is timed from its first appearance, taken or not, so that a later
 * copy never shortens it.  A GSO super-packet carries one TSval, as each of
 * its wire segments does: it is sampled as they are.  Serial arithmetic spans
 * the TSval wrap; a TSval far behind the last one means the sender's clock
 * restarted, and the old outstanding ones go.
 */
EP_INLINE void ep_tcp_on_tsval(struct ep_track_env *env, struct ep_tcp *f, uint32_t tsval,
			       int retx)
{
	uint32_t step = ep_tcp_kind(f) == EP_PEND_TS ? ep_tcp_step(f) : 0;
	int cross = 1, hold; /* cross: the first TSval, or one after a jump back */

	if (f->flags & EP_TF_TSV) {
		if (f->last_tsval - tsval < EP_TSVAL_JUMP)
			return; /* not newer (or a copy reordered by a little) */
		if (ep_seq_lt(tsval, f->last_tsval)) {
			ep_track_stat(env, EP_ST_rtt_ts_jump);
			f->pend_mask = 0;
		} else {
			cross = tsval >> step != f->last_tsval >> step;
		}
	}
	if (cross)
		f->flags |= EP_TF_ARMED;
	f->last_tsval = tsval;
	f->flags |= EP_TF_TSV;
	/* Under a hole, the candidate waits for a retransmission. */
	hold = !retx && (f->pend_mask & EP_PEND_HOLE);
	if ((f->flags & EP_TF_ARMED) && !hold) {
		f->flags &= (uint16_t)~EP_TF_ARMED;
		ep_tcp_pend_sampled(env, f, EP_PEND_TS, tsval);
	}
}

/*
 * One segment of the flow from side s, at ep_track_now().  segs: how many
 * segments it stands for (1, or a GSO/GRO super-packet's count); seg_bytes:
 * the payload of each of them when it is a super-packet to be segmented (0:
 * unknown).
 * Afterwards f->state tells the owner where the flow belongs (half-open,
 * established, closed).
 */
EP_INLINE void ep_tcp_segment(struct ep_track_env *env, struct ep_tcp *f, const struct ep_pkt *pkt,
			      int s, uint32_t segs, uint32_t seg_bytes)
{
	int toward = s != f->remote, ts_mode, retx = 0;

	ep_track_count(env, toward ? EP_AC_segs_out : EP_AC_segs_in, segs);
	if (pkt->opts & EP_OPT_TS)
		f->flags |= EP_TF_SIDE(EP_TF_TS0, s);
	ts_mode = (f->flags & EP_TF_BOTH(EP_TF_TS0)) == EP_TF_BOTH(EP_TF_TS0);

	if (pkt->flags & EP_TCP_RST) {
		ep_tcp_end(env, f);
		f->state = EP_FS_CLOSED;
		return;
	}
	if (pkt->flags & EP_TCP_SYN) {
		ep_tcp_on_syn(env, f, pkt, s, toward);
		return;
	}
	/* The remote client's ACK of our SYN-ACK closes the handshake sample. */
	if (ep_tcp_kind(f) == EP_PEND_HS && !toward && (pkt->flags & EP_TCP_ACK)) {
		if ((f->pend_mask & 1) && ep_seq_le(f->pend_val[0], pkt->ack) &&
		    !(f->flags & EP_TF_HS_KARN))
			ep_track_sample(env, EP_AH_RTT_HS, ep_track_now(env) - f->pend_us[0], 1);
		ep_tcp_pend_clear(f);
	}
	if (ep_tcp_kind(f) != EP_PEND_HS && ep_tcp_kind(f) != EP_PEND_NONE &&
	    ep_tcp_kind(f) != (ts_mode ? EP_PEND_TS : EP_PEND_SEQ))
		ep_tcp_pend_clear(f); /* timestamps appeared on the second side */

	/* Answers from the remote: exact TSecr echoes, or ACKs covering data. */
	if (!toward && ep_tcp_kind(f) != EP_PEND_HS) {
		if (ts_mode && (pkt->opts & EP_OPT_TS)) {
			ep_tcp_echo(f, pkt->tsecr);
			ep_tcp_match_tsecr(env, f, pkt->tsecr);
		} else if (!ts_mode && (pkt->flags & EP_TCP_ACK)) {
			if (!(f->pend_mask & EP_PEND_KARN))
				ep_tcp_echo(f, pkt->ack);
			ep_tcp_match_ack(env, f, pkt->ack);
		}
		/* Does the remote hold a hole (SACK blocks on its ACK)? */
		if (pkt->flags & EP_TCP_ACK)
			f->pend_mask = (uint8_t)((f->pend_mask & ~EP_PEND_HOLE) |
						 (pkt->sack_blocks ? EP_PEND_HOLE : 0));
	}
	if (pkt->payload_len) {
		retx = ep_tcp_on_data(env, f, pkt, s, toward, ts_mode, segs, seg_bytes);
	} else if (!(f->flags & EP_TF_SIDE(EP_TF_NXT0, s))) {
		f->nxt[s & 1] = pkt->seq;
		f->flags |= EP_TF_SIDE(EP_TF_NXT0, s);
	}
	if (pkt->flags & EP_TCP_FIN) {
		uint32_t end = pkt->seq + pkt->payload_len + 1;

		if (ep_seq_lt(f->nxt[s & 1], end))
			f->nxt[s & 1] = end;
		f->flags |= EP_TF_SIDE(EP_TF_FIN0, s);
	}
	/* TSval towards the remote on segments that elicit an ACK (data, FIN). */
	if (toward && ts_mode && (pkt->opts & EP_OPT_TS) && ep_tcp_kind(f) != EP_PEND_HS &&
	    (pkt->payload_len || (pkt->flags & EP_TCP_FIN)))
		ep_tcp_on_tsval(env, f, pkt->tsval, retx);
	f->flags = (uint16_t)((f->flags & ~EP_TF_SIDE(EP_TF_ZWIN0, s)) |
			      (pkt->win == 0 ? EP_TF_SIDE(EP_TF_ZWIN0, s) : 0));

	/* Both FINs (the second one is this packet): the flow ends. */
	if ((pkt->flags & EP_TCP_FIN) && f->state != EP_FS_CLOSED &&
	    (f->flags & EP_TF_BOTH(EP_TF_FIN0)) == EP_TF_BOTH(EP_TF_FIN0)) {
		ep_tcp_end(env, f);
		f->state = EP_FS_CLOSED;
	} else if (f->state == EP_FS_HALFOPEN &&
		   (f->flags & EP_TF_BOTH(EP_TF_NXT0)) == EP_TF_BOTH(EP_TF_NXT0)) {
		/* Heard from both sides: a SYN or ACK flood never gets here. */
		f->state = EP_FS_ESTABLISHED;
	}
}

#endif /* EP_TRACK_H */
