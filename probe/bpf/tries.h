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

/*
 * The value of a trie entry is an id of its (ASN, country) pair, the key the
 * programs aggregate by; the drain turns ids back into pairs.  Ids are never
 * reused: a flow keeps the id it was given for its life, across reloads.  Id
 * 0 is (AS 0, no country), what a lookup that matches nothing gives.
 */
#define EP_BPF_IDS_MAX (1u << 22)

struct ep_bpf_ids {
	uint32_t *asn;
	uint16_t *cc;
	uint32_t *slot;          /* the drain's aggregate slot + 1, 0 until seen */
	uint32_t n, cap;
	uint32_t *index, mask;   /* open addressing: pair -> id + 1 */
};

/* @return 0 or -ENOMEM */
int ep_bpf_ids_init(struct ep_bpf_ids *ids);
void ep_bpf_ids_fini(struct ep_bpf_ids *ids);
/* The id of (asn, cc), made when new. @return 0, -ENOSPC (EP_BPF_IDS_MAX), -ENOMEM */
int ep_bpf_ids_get(struct ep_bpf_ids *ids, uint32_t asn, uint16_t cc, uint32_t *id);

/* What a fill writes to and how it went. */
struct ep_bpf_fill {
	int fd4, fd6, family;
	struct ep_bpf_ids *ids;
	size_t n, errors;
};

/* ep_asn_map_prefixes() callbacks: count, or put into fd4/fd6 (errors counted). */
int ep_bpf_count_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc);
int ep_bpf_put_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc);

/* --local-net into the local tries. @return 0 or -errno. */
int ep_bpf_fill_local(struct edgeprobe_bpf *skel, const struct ep_netset *ns);

/* Delete every key of an LPM trie. */
void ep_bpf_clear_trie(int fd);

#endif
