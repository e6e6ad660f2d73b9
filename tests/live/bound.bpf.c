// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/*
 * bound.bpf.c - benchmark helper: the least work per packet that any passive TCP
 * RTT tracker on a tc hook must do, the lower bound that edgeprobe's programs are
 * measured against in the same run (tests/live/bulk_rtt.sh, EP_BOUND_OBJ).
 *
 * Per packet: the common frame only (Ethernet, IPv4 without options, TCP
 * and, when it comes first, its timestamp option, read in place at fixed
 * offsets; any other frame leaves at once, cheaper than any tracker handles
 * it), the clock, the flow key and its hash (ep_flow_key.h), one
 * direct-mapped slot of an array with its key compared (written on a miss),
 * one write of the sending direction's own cache line and one read of the
 * other direction's (an echo must meet what the other direction sent: its
 * TSval, else its sequence number). No rules, counters, histograms or
 * eviction. Attached after edgeprobe's program, it finds the frame, the skb
 * and the clock warm, so its figure is, if anything, below the true bound.
 * Returns TC_ACT_UNSPEC: the packet goes on unchanged.  bpf_lifecycle.sh uses
 * it as an operator's filter after ours, which must still see every packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "edgeprobe/ep_flow_key.h"

#define TC_ACT_UNSPEC (-1)
#define EP_BOUND_SLOTS 4096
#define EP_BOUND_HDRS 54 /* Ethernet 14 + IPv4 20 + TCP 20 */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One direction's state, a cache line of its own. */
struct ep_bound_dir {
	__u64 ns;  /* when it last sent */
	__u32 val; /* the TSval (else the sequence number) it last sent */
	__u32 rtt; /* its last echo's round trip, us */
	__u8 pad[48];
};

struct ep_bound_slot {
	struct ep_flow_key key;
	__u8 pad[64 - sizeof(struct ep_flow_key)];
	struct ep_bound_dir dir[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EP_BOUND_SLOTS);
	__type(key, __u32);
	__type(value, struct ep_bound_slot);
} ep_bound_ftab SEC(".maps");

SEC("tc")
int ep_bound(struct __sk_buff *skb)
{
	const __u8 *p = (const __u8 *)(long)skb->data, *end = (const __u8 *)(long)skb->data_end;
	struct ep_flow_key key;
	struct ep_bound_slot *sl;
	struct ep_pkt pkt;
	__u32 i, val, echo;
	__u64 ns;
	int s;

	if (p + EP_BOUND_HDRS > end || *(const __u16 *)(p + 12) != bpf_htons(0x0800) ||
	    p[14] != 0x45 || p[23] != 6)
		return TC_ACT_UNSPEC;
	if (p + EP_BOUND_HDRS + 12 <= end && (p[46] >> 4) >= 8 &&
	    *(const __u32 *)(p + 54) == bpf_htonl(0x0101080a)) {
		val = bpf_ntohl(*(const __u32 *)(p + 58));
		echo = bpf_ntohl(*(const __u32 *)(p + 62));
	} else {
		val = bpf_ntohl(*(const __u32 *)(p + 38));
		echo = bpf_ntohl(*(const __u32 *)(p + 42));
	}
	__builtin_memset(&pkt, 0, sizeof(pkt));
	pkt.family = 4;
	__builtin_memcpy(pkt.src, p + 26, 4);
	__builtin_memcpy(pkt.dst, p + 30, 4);
	pkt.sport = bpf_ntohs(*(const __u16 *)(p + 34));
	pkt.dport = bpf_ntohs(*(const __u16 *)(p + 36));
	ns = bpf_ktime_get_ns();
	s = ep_flow_key_make(&pkt, &key) & 1;
	i = (__u32)ep_flow_key_hash(&key) & (EP_BOUND_SLOTS - 1);
	sl = bpf_map_lookup_elem(&ep_bound_ftab, &i);
	if (!sl)
		return TC_ACT_UNSPEC;
	if (!ep_flow_key_eq(&sl->key, &key))
		__builtin_memcpy(&sl->key, &key, sizeof(key));
	if (echo == sl->dir[!s].val)
		sl->dir[s].rtt = (__u32)((ns - sl->dir[!s].ns) / 1000);
	sl->dir[s].ns = ns;
	sl->dir[s].val = val;
	return TC_ACT_UNSPEC;
}
