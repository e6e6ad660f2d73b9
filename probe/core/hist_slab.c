/* SPDX-License-Identifier: BSD-3-Clause */
/* hist_slab.c - histograms carved from zero-filled, populated mappings. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "hist_slab.h"

#define CHUNK_BYTES (1u << 20)
#define ALIGN 64u
#define LINK 128u /* a mapping's first bytes: the link; a header then starts a 128-byte pair of lines */

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/*
 * Room for one counts array: whole cache lines, an odd number of them.  Arrays
 * laid out at a stride of a multiple of 2^k lines would put the same count of
 * every histogram (the busy ones: similar RTTs land in the same buckets) in a
 * few cache sets; an odd stride spreads them over all of them.
 */
static size_t counts_stride(const struct ep_hdr_cfg *cfg)
{
	size_t lines = round_up(ep_hist_counts_bytes(cfg), ALIGN) / ALIGN;

	return (lines | 1) * ALIGN;
}

/* n zeroed bytes (n a multiple of ALIGN), or NULL. */
static void *bump(struct ep_slab_region *r, size_t n)
{
	void *p;

	if (n > r->left) {
		/* A new mapping; its first LINK bytes link it to the ones before. */
		size_t len = n + LINK > CHUNK_BYTES ? round_up(n + LINK, 4096) : CHUNK_BYTES;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		memcpy(m, &r->chunks, sizeof(void *));
		memcpy(m + sizeof(void *), &len, sizeof(len));
		r->chunks = m;
		r->cur = m + LINK;
		r->left = len - LINK;
	}
	p = r->cur;
	r->cur += n;
	r->left -= n;
	return p;
}

static void region_fini(struct ep_slab_region *r)
{
	unsigned char *p = r->chunks;

	while (p) {
		unsigned char *next;
		size_t len;

		memcpy(&next, p, sizeof(next));
		memcpy(&len, p + sizeof(void *), sizeof(len));
		munmap(p, len);
		p = next;
	}
	memset(r, 0, sizeof(*r));
}

struct ep_hist *ep_hist_slab_take(struct ep_hist_slab *s, const struct ep_hdr_cfg *cfg)
{
	struct ep_hist *h = bump(&s->heads, round_up(sizeof(*h), 2 * ALIGN));
	uint32_t *counts;

	if (!h)
		return NULL;
	counts = bump(&s->counts, counts_stride(cfg));
	if (!counts)
		return NULL; /* the header stays unused until fini */
	ep_hist_init_preallocated(h, cfg, counts);
	return h;
}

void ep_hist_slab_fini(struct ep_hist_slab *s)
{
	region_fini(&s->heads);
	region_fini(&s->counts);
}
