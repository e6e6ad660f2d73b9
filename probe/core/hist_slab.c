/* SPDX-License-Identifier: BSD-3-Clause */
/* hist_slab.c - histograms carved from zero-filled mappings. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "hist_slab.h"

#define CHUNK_BYTES (1u << 20)
#define ALIGN 64u

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

struct ep_hist *ep_hist_slab_take(struct ep_hist_slab *s, const struct ep_hdr_cfg *cfg)
{
	size_t head = round_up(sizeof(struct ep_hist), ALIGN);
	size_t slot = round_up(head + ep_hist_counts_bytes(cfg), ALIGN);
	struct ep_hist *h;

	if (slot > s->left) {
		/* A new mapping; its first ALIGN bytes link it to the ones before. */
		size_t len = slot + ALIGN > CHUNK_BYTES ? round_up(slot + ALIGN, 4096) : CHUNK_BYTES;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		memcpy(p, &s->chunks, sizeof(void *));
		memcpy(p + sizeof(void *), &len, sizeof(len));
		s->chunks = p;
		s->cur = p + ALIGN;
		s->left = len - ALIGN;
	}
	h = (struct ep_hist *)(void *)s->cur;
	ep_hist_init_preallocated(h, cfg, (uint32_t *)(void *)(s->cur + head));
	s->cur += slot;
	s->left -= slot;
	return h;
}

void ep_hist_slab_fini(struct ep_hist_slab *s)
{
	unsigned char *p = s->chunks;

	while (p) {
		unsigned char *next;
		size_t len;

		memcpy(&next, p, sizeof(next));
		memcpy(&len, p + sizeof(void *), sizeof(len));
		munmap(p, len);
		p = next;
	}
	memset(s, 0, sizeof(*s));
}
