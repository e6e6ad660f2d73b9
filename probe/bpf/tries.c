/* SPDX-License-Identifier: BSD-3-Clause */
/* tries.c - filling and clearing edgeprobe-bpf's LPM tries (ASN prefixes, local networks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "edgeprobe/ep_flow_key.h"
#include "tries.h"

static uint32_t hash_pair(uint32_t asn, uint16_t cc)
{
	return (uint32_t)(ep_mix64((uint64_t)asn << 16 | cc) >> 32);
}

int ep_bpf_ids_init(struct ep_bpf_ids *ids)
{
	uint32_t id;

	memset(ids, 0, sizeof(*ids));
	return ep_bpf_ids_get(ids, 0, 0, &id); /* id 0: no match */
}

void ep_bpf_ids_fini(struct ep_bpf_ids *ids)
{
	free(ids->asn);
	free(ids->cc);
	free(ids->slot);
	free(ids->index);
	memset(ids, 0, sizeof(*ids));
}

/* Twice the room: the arrays, and an index rebuilt at four times the ids. */
static int ids_grow(struct ep_bpf_ids *ids)
{
	uint32_t cap = ids->cap ? ids->cap * 2 : 1024, size = cap * 2, i;
	uint32_t *asn = realloc(ids->asn, cap * sizeof(*asn));
	uint16_t *cc;
	uint32_t *slot, *index;

	if (!asn)
		return -ENOMEM;
	ids->asn = asn;
	if (!(cc = realloc(ids->cc, cap * sizeof(*cc))))
		return -ENOMEM;
	ids->cc = cc;
	if (!(slot = realloc(ids->slot, cap * sizeof(*slot))))
		return -ENOMEM;
	ids->slot = slot;
	if (!(index = calloc(size, sizeof(*index))))
		return -ENOMEM;
	free(ids->index);
	ids->index = index;
	ids->mask = size - 1;
	ids->cap = cap;
	for (i = 0; i < ids->n; i++) {
		uint32_t j = hash_pair(ids->asn[i], ids->cc[i]) & ids->mask;

		while (ids->index[j])
			j = (j + 1) & ids->mask;
		ids->index[j] = i + 1;
	}
	return 0;
}

int ep_bpf_ids_get(struct ep_bpf_ids *ids, uint32_t asn, uint16_t cc, uint32_t *id)
{
	uint32_t j;
	int ret;

	if (ids->index) {
		for (j = hash_pair(asn, cc) & ids->mask; ids->index[j]; j = (j + 1) & ids->mask) {
			uint32_t i = ids->index[j] - 1;

			if (ids->asn[i] == asn && ids->cc[i] == cc) {
				*id = i;
				return 0;
			}
		}
	}
	if (ids->n == EP_BPF_IDS_MAX)
		return -ENOSPC;
	if (ids->n == ids->cap) {
		if ((ret = ids_grow(ids)) < 0)
			return ret;
	}
	j = hash_pair(asn, cc) & ids->mask;
	while (ids->index[j])
		j = (j + 1) & ids->mask;
	ids->index[j] = ids->n + 1;
	ids->asn[ids->n] = asn;
	ids->cc[ids->n] = cc;
	ids->slot[ids->n] = 0;
	*id = ids->n++;
	return 0;
}

int ep_bpf_count_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc)
{
	(void)addr;
	(void)len;
	(void)asn;
	(void)cc;
	((struct ep_bpf_fill *)ctx)->n++;
	return 0;
}

int ep_bpf_put_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc)
{
	struct ep_bpf_fill *f = ctx;
	uint32_t id;
	int ret;

	f->n++;
	if (ep_bpf_ids_get(f->ids, asn, cc, &id) < 0) {
		f->errors++;
		return 0;
	}
	if (f->family == 4) {
		struct ep_bpf_lpm4 k = {(uint32_t)len, {0}};

		memcpy(k.addr, addr, 4);
		ret = bpf_map_update_elem(f->fd4, &k, &id, BPF_ANY);
	} else {
		struct ep_bpf_lpm6 k = {(uint32_t)len, {0}};

		memcpy(k.addr, addr, 16);
		ret = bpf_map_update_elem(f->fd6, &k, &id, BPF_ANY);
	}
	if (ret < 0)
		f->errors++;
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
