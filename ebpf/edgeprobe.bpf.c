// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/*
 * edgeprobe.bpf.c - the BPF side path: a TC classifier (ingress and egress)
 * that parses every TCP segment, tracks flows and records, per ASN, the same
 * counters and HDR histogram buckets as the userspace tracker, into per-CPU
 * maps double-buffered by an epoch the loader flips every window.
 *
 * Shared with the other probes, as the same source: the parser (ep_parse.h,
 * which reads headers through bpf_skb_load_bytes()/bpf_xdp_load_bytes() here),
 * the flow key (ep_flow_key.h), the bucket math (ep_hdr.h), the counter ids
 * (ep_stats.h) and map layouts (ep_bpf.h).
 *
 * The same code also runs as an XDP program on ingress (edgeprobe-bpf --xdp),
 * with TC on egress.  Never drops or changes a packet: TC_ACT_OK, XDP_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "edgeprobe/ep_bpf.h"
#include "edgeprobe/ep_flow_key.h"

#define TC_ACT_OK 0

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ep_bpf_cfg);
} ep_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EP_BPF_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} ep_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm4);
	__type(value, __u32);
} ep_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm6);
	__type(value, __u32);
} ep_local6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2000000); /* resized by the loader to the ASN data */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm4);
	__type(value, __u32);
} ep_asn4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2000000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm6);
	__type(value, __u32);
} ep_asn6 SEC(".maps");

/* The second pair of ASN tries: a reload fills the pair not in use, then flips. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2000000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm4);
	__type(value, __u32);
} ep_asn4b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2000000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ep_bpf_lpm6);
	__type(value, __u32);
} ep_asn6b SEC(".maps");

/* New and half-open flows: a SYN or ACK flood churns this table only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ep_flow_key);
	__type(value, struct ep_bpf_flow);
} ep_flows_new SEC(".maps");

/* Flows that have been seen in both directions. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ep_flow_key);
	__type(value, struct ep_bpf_flow);
} ep_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ep_bpf_hkey);
	__type(value, __u64);
} ep_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ep_bpf_ckey);
	__type(value, struct ep_bpf_counters);
} ep_actr SEC(".maps");

static __always_inline void stat_add(__u32 id, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&ep_stats, &id);

	if (v)
		*v += n;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                  */
/* ------------------------------------------------------------------------ */

static __always_inline void count(const struct ep_bpf_cfg *cfg, __u32 asn, __u32 k, __u64 n)
{
	struct ep_bpf_ckey key = {cfg->epoch, asn};
	struct ep_bpf_counters *c = bpf_map_lookup_elem(&ep_actr, &key);

	if (!c) {
		struct ep_bpf_counters zero = {};

		if (bpf_map_update_elem(&ep_actr, &key, &zero, BPF_NOEXIST) < 0 &&
		    !bpf_map_lookup_elem(&ep_actr, &key)) {
			stat_add(EP_ST_bpf_map_full, 1);
			return;
		}
		c = bpf_map_lookup_elem(&ep_actr, &key);
		if (!c)
			return;
	}
	if (k < EP_BPF_AC__COUNT)
		c->c[k] += n;
}

static __always_inline void record(const struct ep_bpf_cfg *cfg, __u32 asn, __u32 hist, __s64 v)
{
	struct ep_bpf_hkey key = {cfg->epoch, asn, hist, 0};
	__u64 *n, one = 1;

	if (v < 0)
		v = 0;
	if (v > cfg->hdr.highest) {
		v = cfg->hdr.highest;
		stat_add(EP_ST_rtt_discarded, 1);
		return;
	}
	key.idx = ep_hdr_index(&cfg->hdr, v);
	n = bpf_map_lookup_elem(&ep_hist, &key);
	if (n) {
		*n += 1;
		return;
	}
	if (bpf_map_update_elem(&ep_hist, &key, &one, BPF_NOEXIST) < 0) {
		n = bpf_map_lookup_elem(&ep_hist, &key);
		if (n)
			*n += 1;
		else
			stat_add(EP_ST_bpf_map_full, 1);
	}
}

static __always_inline int is_local(const struct ep_pkt *pkt, int src)
{
	const __u8 *a = src ? pkt->src : pkt->dst;

	if (pkt->family == 4) {
		struct ep_bpf_lpm4 k = {32};

		__builtin_memcpy(k.addr, a, 4);
		return bpf_map_lookup_elem(&ep_local4, &k) != NULL;
	} else {
		struct ep_bpf_lpm6 k = {128};

		__builtin_memcpy(k.addr, a, 16);
		return bpf_map_lookup_elem(&ep_local6, &k) != NULL;
	}
}

static __always_inline __u32 asn_of(const struct ep_bpf_cfg *cfg, const struct ep_pkt *pkt,
				    int src)
{
	const __u8 *a = src ? pkt->src : pkt->dst;
	__u32 *asn;

	if (pkt->family == 4) {
		struct ep_bpf_lpm4 k = {32};

		__builtin_memcpy(k.addr, a, 4);
		asn = bpf_map_lookup_elem(cfg->asn_set ? (void *)&ep_asn4b : (void *)&ep_asn4, &k);
	} else {
		struct ep_bpf_lpm6 k = {128};

		__builtin_memcpy(k.addr, a, 16);
		asn = bpf_map_lookup_elem(cfg->asn_set ? (void *)&ep_asn6b : (void *)&ep_asn6, &k);
	}
	return asn ? *asn : 0;
}

static __always_inline void flow_end(const struct ep_bpf_cfg *cfg, struct ep_bpf_flow *f)
{
	stat_add(EP_ST_flows_closed, 1);
	count(cfg, f->asn, EP_BPF_AC_FLOWS_CLOSED, 1);
	if (f->data_out)
		record(cfg, f->asn, EP_BPF_H_RETX_PPM,
		       (__s64)((__u64)f->retx_out * 1000000u / f->data_out));
}

static __always_inline void pend_clear(struct ep_bpf_flow *f)
{
	f->pend_mask = 0;
	f->pend_kind = EP_BP_NONE;
}

static __always_inline void pend_add(struct ep_bpf_flow *f, __u8 kind, __u32 val, __u64 now)
{
	int i, slot = -1;

	if (f->pend_kind != kind) {
		f->pend_kind = kind;
		f->pend_mask = 0;
	}
	for (i = 0; i < EP_BPF_PEND; i++)
		if (slot < 0 && !(f->pend_mask & (1u << i)))
			slot = i;
	if (slot < 0) { /* all in use: replace the oldest */
		slot = 0;
		for (i = 1; i < EP_BPF_PEND; i++)
			if (f->pend_ns[i] < f->pend_ns[slot])
				slot = i;
		stat_add(EP_ST_rtt_pend_overflow, 1);
	}
	if (slot >= 0 && slot < EP_BPF_PEND) {
		f->pend_val[slot] = val;
		f->pend_ns[slot] = now;
		f->pend_mask |= (__u8)(1u << slot);
	}
}

/* An echo of TSecr from the remote: the exact match is a sample, older values are dead. */
static __always_inline void match_tsecr(const struct ep_bpf_cfg *cfg, struct ep_bpf_flow *f,
					__u32 tsecr, __u64 now)
{
	int i;

	for (i = 0; i < EP_BPF_PEND; i++) {
		if (!(f->pend_mask & (1u << i)))
			continue;
		if (f->pend_val[i] == tsecr)
			record(cfg, f->asn, EP_BPF_H_RTT_DATA, (__s64)((now - f->pend_ns[i]) / 1000));
		else if (!ep_seq_lt(f->pend_val[i], tsecr))
			continue;
		f->pend_mask &= (__u8)~(1u << i);
	}
}

/* An ACK from the remote: every outstanding segment it covers is a sample. */
static __always_inline void match_ack(const struct ep_bpf_cfg *cfg, struct ep_bpf_flow *f,
				      __u32 ack, __u64 now)
{
	int i;

	for (i = 0; i < EP_BPF_PEND; i++) {
		if ((f->pend_mask & (1u << i)) && ep_seq_le(f->pend_val[i], ack)) {
			record(cfg, f->asn, EP_BPF_H_RTT_DATA, (__s64)((now - f->pend_ns[i]) / 1000));
			f->pend_mask &= (__u8)~(1u << i);
		}
	}
}

/* Karn: a retransmission from seq makes outstanding segments ending after it ambiguous. */
static __always_inline void karn_seq(struct ep_bpf_flow *f, __u32 seq)
{
	int i;

	if (f->pend_kind != EP_BP_SEQ)
		return;
	for (i = 0; i < EP_BPF_PEND; i++)
		if ((f->pend_mask & (1u << i)) && ep_seq_lt(seq, f->pend_val[i]))
			f->pend_mask &= (__u8)~(1u << i);
}

static __noinline int track(struct ep_pkt *pkt, const struct ep_bpf_cfg *cfg, __u64 segs)
{
	struct ep_flow_key key;
	struct ep_bpf_flow *f, nf;
	__u64 now = bpf_ktime_get_ns();
	int s = ep_flow_key_make(pkt, &key), toward, in_main = 1, ts_mode;
	__u32 end;

	if (segs > 1)
		stat_add(EP_ST_gso_packets, 1);
	f = bpf_map_lookup_elem(&ep_flows, &key);
	if (!f) {
		in_main = 0;
		f = bpf_map_lookup_elem(&ep_flows_new, &key);
	}
	if (f && (f->flags & EP_BF_ENDED)) {
		if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) != EP_TCP_SYN) {
			/* The last ACKs of a closed flow: counted, nothing else. */
			count(cfg, f->asn, s != f->remote ? EP_BPF_AC_SEGS_OUT : EP_BPF_AC_SEGS_IN, segs);
			return 0;
		}
		bpf_map_delete_elem(in_main ? (void *)&ep_flows : (void *)&ep_flows_new, &key);
		f = NULL; /* a new connection on a closed tuple */
	}
	if (!f) {
		int remote;

		if (pkt->flags & EP_TCP_RST) {
			stat_add(EP_ST_rst_no_flow, 1);
			return 0;
		}
		__builtin_memset(&nf, 0, sizeof(nf));
		/* The remote side: outside --local-net, else the initiator, else the higher port. */
		if (cfg->has_local && is_local(pkt, 1) != is_local(pkt, 0))
			remote = is_local(pkt, 1) ? !s : s;
		else if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN)
			remote = s;
		else if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == (EP_TCP_SYN | EP_TCP_ACK))
			remote = !s;
		else
			remote = pkt->sport > pkt->dport ? s : !s;
		nf.remote = (__u8)remote;
		nf.asn = asn_of(cfg, pkt, remote == s);
		if ((pkt->flags & (EP_TCP_SYN | EP_TCP_ACK)) == EP_TCP_SYN) {
			nf.flags = EP_BF_SYN;
			nf.hs_ns = now;
			nf.hs_seq = pkt->seq;
		}
		if (bpf_map_update_elem(&ep_flows_new, &key, &nf, BPF_NOEXIST) < 0) {
			stat_add(EP_ST_bpf_map_full, 1);
			return 0;
		}
		f = bpf_map_lookup_elem(&ep_flows_new, &key);
		if (!f)
			return 0;
		stat_add(EP_ST_flows_created, 1);
		count(cfg, f->asn, EP_BPF_AC_FLOWS_NEW, 1);
		in_main = 0;
		if (nf.flags & EP_BF_SYN) {
			toward = s != f->remote;
			count(cfg, f->asn, toward ? EP_BPF_AC_SEGS_OUT : EP_BPF_AC_SEGS_IN, segs);
			return 0;
		}
	}
	toward = s != f->remote;
	count(cfg, f->asn, toward ? EP_BPF_AC_SEGS_OUT : EP_BPF_AC_SEGS_IN, segs);
	f->flags |= s ? EP_BF_FROM_B : EP_BF_FROM_A;
	if (pkt->opts & EP_OPT_TS)
		f->flags |= s ? EP_BF_TS_B : EP_BF_TS_A;

	if (pkt->flags & EP_TCP_RST) {
		flow_end(cfg, f);
		f->flags |= EP_BF_ENDED;
		return 0;
	}
	/* Handshake RTT. */
	if (pkt->flags & EP_TCP_SYN) {
		if (!(pkt->flags & EP_TCP_ACK)) {
			if ((f->flags & EP_BF_SYN) && pkt->seq == f->hs_seq)
				f->flags |= EP_BF_HS_KARN; /* SYN retransmitted */
			else if (!(f->flags & EP_BF_SYN)) {
				f->flags |= EP_BF_SYN;
				f->hs_ns = now;
			}
		} else if (!toward) {
			/* SYN-ACK from a remote server: SYN -> SYN-ACK. */
			if ((f->flags & (EP_BF_SYN | EP_BF_HS_DONE | EP_BF_HS_KARN)) == EP_BF_SYN)
				record(cfg, f->asn, EP_BPF_H_RTT_HS, (__s64)((now - f->hs_ns) / 1000));
			f->flags |= EP_BF_HS_DONE | EP_BF_SYNACK;
		} else {
			/* SYN-ACK towards a remote client: wait for its ACK. */
			if (f->flags & EP_BF_SYNACK)
				f->flags |= EP_BF_HS_KARN;
			f->flags |= EP_BF_SYNACK;
			f->hs_ns = now;
		}
		return 0;
	}
	if (!toward && (f->flags & (EP_BF_SYNACK | EP_BF_HS_DONE)) == EP_BF_SYNACK &&
	    (pkt->flags & EP_TCP_ACK)) {
		if (!(f->flags & EP_BF_HS_KARN))
			record(cfg, f->asn, EP_BPF_H_RTT_HS, (__s64)((now - f->hs_ns) / 1000));
		f->flags |= EP_BF_HS_DONE;
	}

	ts_mode = (f->flags & (EP_BF_TS_A | EP_BF_TS_B)) == (EP_BF_TS_A | EP_BF_TS_B);
	if (f->pend_kind != EP_BP_NONE && f->pend_kind != (ts_mode ? EP_BP_TSVAL : EP_BP_SEQ))
		pend_clear(f); /* timestamps appeared on the second side */
	/* Answers from the remote: exact TSecr echoes, or ACKs covering data. */
	if (!toward) {
		if (ts_mode && (pkt->opts & EP_OPT_TS))
			match_tsecr(cfg, f, pkt->tsecr, now);
		else if (!ts_mode && (pkt->flags & EP_TCP_ACK))
			match_ack(cfg, f, pkt->ack, now);
	}
	/* Data: retransmissions, and (without timestamps) the segment to sample. */
	end = pkt->seq + pkt->payload_len;
	if (pkt->payload_len) {
		__u32 seen = s ? EP_BF_SEEN_B : EP_BF_SEEN_A, mx = f->snd_max[s & 1];
		int retx = 0;

		if (toward)
			f->data_out += (__u32)segs;
		if ((f->flags & seen) && ep_seq_lt(pkt->seq, mx)) {
			/* Already sent: a retransmission, unless a keepalive (1 byte below snd_max). */
			if (!(pkt->payload_len <= 1 && pkt->seq + 1 == mx)) {
				retx = 1;
				count(cfg, f->asn, toward ? EP_BPF_AC_RETX_OUT : EP_BPF_AC_RETX_IN, segs);
				if (toward) {
					f->retx_out += (__u32)segs;
					karn_seq(f, pkt->seq);
				}
			}
		}
		if (!(f->flags & seen) || ep_seq_lt(mx, end))
			f->snd_max[s & 1] = end;
		f->flags |= seen;
		if (toward && !retx && !ts_mode)
			pend_add(f, EP_BP_SEQ, end, now);
	}
	/* TSval towards the remote on segments that elicit an ACK (data, FIN). */
	if (toward && ts_mode && (pkt->opts & EP_OPT_TS) &&
	    (pkt->payload_len || (pkt->flags & EP_TCP_FIN)) &&
	    (!(f->flags & EP_BF_TSV) || ep_seq_lt(f->last_tsval, pkt->tsval))) {
		pend_add(f, EP_BP_TSVAL, pkt->tsval, now);
		f->last_tsval = pkt->tsval;
		f->flags |= EP_BF_TSV;
	}
	if (pkt->flags & EP_TCP_FIN)
		f->flags |= s ? EP_BF_FIN_B : EP_BF_FIN_A;
	if ((f->flags & (EP_BF_FIN_A | EP_BF_FIN_B)) == (EP_BF_FIN_A | EP_BF_FIN_B)) {
		/* Both sides closed: the flow ends here (the tuple may be reused by a new SYN). */
		flow_end(cfg, f);
		f->flags |= EP_BF_ENDED;
		return 0;
	}
	/*
	 * Heard from both sides past the SYN: into the established table, out of reach of
	 * floods (a spoofed SYN never gets an answer; a random ACK never gets one back).
	 */
	if (!in_main && (f->flags & (EP_BF_FROM_A | EP_BF_FROM_B)) == (EP_BF_FROM_A | EP_BF_FROM_B) &&
	    !(pkt->flags & EP_TCP_SYN)) {
		__builtin_memcpy(&nf, f, sizeof(nf));
		nf.flags |= EP_BF_MAIN;
		if (bpf_map_update_elem(&ep_flows, &key, &nf, BPF_ANY) == 0) {
			bpf_map_delete_elem(&ep_flows_new, &key);
			stat_add(EP_ST_flows_promoted, 1);
		}
	}
	return 0;
}

/* Parsing as subprograms of their own (their stack is not the caller's), one per context type. */
static __noinline enum ep_parse_res parse_skb(struct __sk_buff *skb, struct ep_pkt *pkt)
{
	/* A tag the kernel already took out of the frame (skb metadata) counts as one. */
	struct ep_frame fr = {skb, skb->len, 0, skb->vlan_present ? 1 : 0};

	return ep_parse_frame(&fr, pkt);
}

static __noinline enum ep_parse_res parse_xdp(struct xdp_md *ctx, struct ep_pkt *pkt)
{
	struct ep_frame fr = {ctx, (__u32)(ctx->data_end - ctx->data), 1, 0};

	return ep_parse_frame(&fr, pkt);
}

static __always_inline void handle(void *ctx, int xdp, __u64 segs)
{
	__u32 zero = 0;
	const struct ep_bpf_cfg *cfg = bpf_map_lookup_elem(&ep_cfg, &zero);
	struct ep_pkt pkt;
	enum ep_parse_res res;

	if (!cfg)
		return;
	__builtin_memset(&pkt, 0, sizeof(pkt));
	res = xdp ? parse_xdp(ctx, &pkt) : parse_skb(ctx, &pkt);
	stat_add(EP_ST_packets, segs);
	stat_add(EP_ST_PARSE_OK + (__u32)res, segs);
	if (res == EP_PARSE_OK)
		track(&pkt, cfg, segs);
}

static __always_inline int handle_skb(struct __sk_buff *skb)
{
	handle(skb, 0, skb->gso_segs > 1 ? skb->gso_segs : 1);
	return TC_ACT_OK;
}

SEC("tc")
int ep_tc_ingress(struct __sk_buff *skb)
{
	return handle_skb(skb);
}

SEC("tc")
int ep_tc_egress(struct __sk_buff *skb)
{
	return handle_skb(skb);
}

SEC("xdp")
int ep_xdp_ingress(struct xdp_md *ctx)
{
	handle(ctx, 1, 1);
	return XDP_PASS;
}
