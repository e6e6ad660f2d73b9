/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop.bpf.c - test helper: a tc direct-action classifier that drops a random
 * share of large (data-carrying) IPv4 packets, so that real kernel TCP in the
 * live tests retransmits.  netem and gact are not available on the test
 * kernel; cls_bpf is.  The drop probability is DROP_PER_MILLE (compile time).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#ifndef DROP_PER_MILLE
#define DROP_PER_MILLE 20
#endif

static __u32 (*bpf_get_prandom_u32)(void) = (void *)BPF_FUNC_get_prandom_u32;

__attribute__((section("tc"), used)) int drop_some(struct __sk_buff *skb)
{
	if (skb->protocol != 0x0008 /* htons(ETH_P_IP) on little-endian hosts */ || skb->len < 400)
		return TC_ACT_OK;
	return bpf_get_prandom_u32() % 1000 < DROP_PER_MILLE ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
