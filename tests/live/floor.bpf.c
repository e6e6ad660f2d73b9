/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floor.bpf.c - test helper: the cheapest tc classifier that reads a packet, the
 * peer that edgeprobe's own programs are measured against in the same run.  With
 * kernel.bpf_stats_enabled, the kernel's run time per skb includes a fixed cost
 * (its own clock reads around the program, the program's entry) that depends on
 * the machine; this program's figure is that floor.  It reads the frame's
 * first byte, as any parser must, and returns TC_ACT_UNSPEC so that the next
 * filter (edgeprobe's) still sees every packet.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to, __u32 len) =
	(void *)BPF_FUNC_skb_load_bytes;

__attribute__((section("tc"), used)) int ep_floor(struct __sk_buff *skb)
{
	__u8 b;

	if (bpf_skb_load_bytes(skb, 0, &b, 1) < 0)
		return TC_ACT_UNSPEC;
	return b == 0x5a && skb->len == 1 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
