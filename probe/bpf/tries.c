/* SPDX-License-Identifier: BSD-3-Clause */
/* tries.c - filling and clearing edgeprobe-bpf's LPM tries (ASN prefixes, local networks). */
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "tries.h"

int ep_bpf_count_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn)
{
	(void)addr;
	(void)len;
	(void)asn;
	((struct ep_bpf_fill *)ctx)->n++;
	return 0;
}

int ep_bpf_put_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn)
{
	struct ep_bpf_fill *f = ctx;
	int ret;

	if (f->family == 4) {
		struct ep_bpf_lpm4 k = {(uint32_t)len, {0}};

		memcpy(k.addr, addr, 4);
		ret = bpf_map_update_elem(f->fd4, &k, &asn, BPF_ANY);
	} else {
		struct ep_bpf_lpm6 k = {(uint32_t)len, {0}};

		memcpy(k.addr, addr, 16);
		ret = bpf_map_update_elem(f->fd6, &k, &asn, BPF_ANY);
	}
	if (ret < 0)
		f->errors++;
	f->n++;
	return 0;
}

int ep_bpf_fill_local(struct edgeprobe_bpf *skel, const struct ep_netset *ns)
{
	uint32_t i, one = 1;

	for (i = 0; i < ns->n; i++) {
		int ret;

		if (ns->net[i].family == 4) {
			struct ep_bpf_lpm4 k = {ns->net[i].len, {0}};

			memcpy(k.addr, ns->net[i].addr, 4);
			ret = bpf_map_update_elem(bpf_map__fd(skel->maps.ep_local4), &k, &one, BPF_ANY);
		} else {
			struct ep_bpf_lpm6 k = {ns->net[i].len, {0}};

			memcpy(k.addr, ns->net[i].addr, 16);
			ret = bpf_map_update_elem(bpf_map__fd(skel->maps.ep_local6), &k, &one, BPF_ANY);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Delete every key of an LPM trie (key_size bytes). */
void ep_bpf_clear_trie(int fd)
{
	uint8_t key[sizeof(struct ep_bpf_lpm6)], next[sizeof(struct ep_bpf_lpm6)];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_delete_elem(fd, key) < 0)
			break;
	}
}
