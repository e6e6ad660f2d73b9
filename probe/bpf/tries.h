/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tries.h - edgeprobe-bpf's longest-prefix-match tries: the ASN data's
 * prefixes (two pairs, one in use, one filled by a SIGHUP reload) and the
 * local networks.
 */
#ifndef EP_BPF_TRIES_H
#define EP_BPF_TRIES_H

#include <stddef.h>
#include <stdint.h>

#include "netset.h"

struct edgeprobe_bpf;

/* ep_asn_map_prefixes() callbacks: count, or put into fd4/fd6 (errors counted). */
/* What a fill writes to and how it went. */
struct ep_bpf_fill {
	int fd4, fd6, family;
	size_t n, errors;
};

int ep_bpf_count_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn);
int ep_bpf_put_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn);

/* --local-net into the local tries. @return 0 or -errno. */
int ep_bpf_fill_local(struct edgeprobe_bpf *skel, const struct ep_netset *ns);

/* Delete every key of an LPM trie. */
void ep_bpf_clear_trie(int fd);

#endif
