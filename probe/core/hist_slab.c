/* SPDX-License-Identifier: BSD-3-Clause */
/* hist_slab.c - histograms carved from zero-filled, populated mappings. */
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

/* n zeroed bytes (n a multiple of ALIGN), or NULL. */
static void *bump(struct ep_slab_region *r, size_t n)
{
	void *p;

	if (n > r->left) {
		/* A new mapping; its first ALIGN bytes link it to the ones before. */
		size_t len = n + ALIGN > CHUNK_BYTES ? round_up(n + ALIGN, 4096) : CHUNK_BYTES;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		memcpy(m, &r->chunks, sizeof(void *));
		memcpy(m + sizeof(void *), &len, sizeof(len));
		r->chunks = m;
		r->cur = m + ALIGN;
		r->left = len - ALIGN;
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
	struct ep_hist *h = bump(&s->heads, round_up(sizeof(*h), ALIGN));
	uint32_t *counts;

	if (!h)
		return NULL;
	counts = bump(&s->counts, round_up(ep_hist_counts_bytes(cfg), ALIGN));
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
