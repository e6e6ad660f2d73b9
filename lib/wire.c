/* SPDX-License-Identifier: BSD-3-Clause */
/* wire.c - wire protocol encoder: a window into messages, and their signature. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "utf8.h"
#include "country.h"
#include "wire.h"

const char *const ep_wire_err_names[EP_WIRE_E__COUNT] = {
	"ok",
#define EP_X(n, s) s,
	EP_WIRE_ERRORS(EP_X)
#undef EP_X
};

/* ------------------------------------------------------------------------ */
/* Byte buffer                                                                */
/* ------------------------------------------------------------------------ */

struct buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TO_BE16(v) __builtin_bswap16(v)
#define TO_BE32(v) __builtin_bswap32(v)
#define TO_BE64(v) __builtin_bswap64(v)
#else
#define TO_BE16(v) (v)
#define TO_BE32(v) (v)
#define TO_BE64(v) (v)
#endif

/* Grow b to hold n more bytes (doubling). @return 0, or -ENOMEM (also left in b->err). */
static __attribute__((noinline)) int buf_reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap * 2 : 4096;
	uint8_t *p;

	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Room for n more bytes at the end, or NULL (b->err set). */
static inline uint8_t *buf_grow(struct buf *b, size_t n)
{
	if (b->err || (b->len + n > b->cap && buf_reserve(b, n) < 0))
		return NULL;
	b->len += n;
	return b->p + b->len - n;
}

static inline void put_u8(struct buf *b, uint8_t v)
{
	uint8_t *p = buf_grow(b, 1);

	if (p)
		*p = v;
}

static inline void put_u16(struct buf *b, uint16_t v)
{
	uint8_t *p = buf_grow(b, 2);

	if (p) {
		v = TO_BE16(v);
		memcpy(p, &v, 2);
	}
}

static inline void put_u32(struct buf *b, uint32_t v)
{
	uint8_t *p = buf_grow(b, 4);

	if (p) {
		v = TO_BE32(v);
		memcpy(p, &v, 4);
	}
}

static inline void put_u64(struct buf *b, uint64_t v)
{
	uint8_t *p = buf_grow(b, 8);

	if (p) {
		v = TO_BE64(v);
		memcpy(p, &v, 8);
	}
}

static inline void put_bytes(struct buf *b, const void *src, size_t n)
{
	uint8_t *p = buf_grow(b, n);

	if (p && n)
		memcpy(p, src, n);
}

/* ------------------------------------------------------------------------ */
/* Encoder                                                                    */
/* ------------------------------------------------------------------------ */

/* A run of encoded records that travel together (part 0: stats and sources). */
struct rec {
	size_t off, len;
	uint32_t count; /* records in the run */
};

/* The encoder's buffers (struct ep_wire_enc), kept from one window to the next. */
struct ep_wire_scratch {
	struct buf recs, msg;
	struct rec *r;
	uint32_t *starts;
	uint32_t nrecs; /* room in r and starts */
};

void ep_wire_enc_fini(struct ep_wire_enc *e)
{
	if (e->s) {
		free(e->s->recs.p);
		free(e->s->msg.p);
		free(e->s->r);
		free(e->s->starts);
		free(e->s);
	}
	ep_hist_codec_fini(&e->hc);
	e->s = NULL;
}

static void encode_stats(struct buf *b, const struct ep_window *w)
{
	size_t start = b->len;
	uint32_t i;

	put_u8(b, EP_WIRE_R_STATS);
	put_u8(b, 0);
	put_u16(b, 0); /* length, patched below */
	for (i = 0; i < EP_ST__COUNT; i++) {
		if (!w->stats[i])
			continue;
		put_u16(b, (uint16_t)i);
		put_u64(b, w->stats[i]);
	}
	if (!b->err) {
		size_t vlen = b->len - start - 4;

		b->p[start + 2] = (uint8_t)(vlen >> 8);
		b->p[start + 3] = (uint8_t)vlen;
	}
}

/* The data versions, when known: one record of text. @return the records written */
static uint32_t encode_dataset(struct buf *b, const struct ep_window *w)
{
	size_t n = w->dataset ? strlen(w->dataset) : 0;

	if (!n)
		return 0;
	if (n > EP_WIRE_DATASET_MAX)
		n = EP_WIRE_DATASET_MAX;
	while (n && ((uint8_t)w->dataset[n] & 0xc0) == 0x80)
		n--; /* cut at a character boundary */
	put_u8(b, EP_WIRE_R_DATASET);
	put_u8(b, 0);
	put_u16(b, (uint16_t)n);
	put_bytes(b, w->dataset, n);
	return 1;
}

static void encode_sources(struct buf *b, const struct ep_window *w)
{
	uint32_t i, k;

	for (i = 0; i < w->nsrc && i < EP_WINDOW_MAX_SOURCES; i++) {
		put_u8(b, EP_WIRE_R_SOURCE);
		put_u8(b, 0);
		put_u16(b, 4 + 8 * 4);
		put_u8(b, w->src[i].kind);
		put_u8(b, 0);
		put_u16(b, w->src[i].id);
		for (k = 0; k < 4; k++)
			put_u64(b, w->src[i].v[k]);
	}
}

static int encode_asn(struct ep_hist_codec *hc, struct buf *b, const struct ep_window_asn *a)
{
	size_t start = b->len, org_len = a->org ? strlen(a->org) : 0, vlen;
	uint32_t k;

	if (org_len > EP_WIRE_ORG_MAX) {
		org_len = EP_WIRE_ORG_MAX;
		/* Cut at a character boundary: the receiver checks for UTF-8. */
		while (org_len && ((uint8_t)a->org[org_len] & 0xc0) == 0x80)
			org_len--;
	}
	put_u8(b, EP_WIRE_R_ASN);
	put_u8(b, 0);
	put_u16(b, 0);
	put_u32(b, a->asn);
	{
		char cc[3];

		put_bytes(b, a->cc ? ep_cc_str(a->cc, cc) : "\0\0", 2);
	}
	put_u8(b, (uint8_t)org_len);
	put_bytes(b, a->org, org_len);
	for (k = 0; k < EP_AC__COUNT; k++)
		put_u64(b, a->c[k]);
	for (k = 0; k < EP_AH__COUNT; k++) {
		long n = 0;

		if (a->h[k] && a->h[k]->total && a->enc[k]) {
			if (a->enc_len[k] > 0xffff)
				return -E2BIG;
			put_u16(b, (uint16_t)a->enc_len[k]);
			put_bytes(b, a->enc[k], a->enc_len[k]);
		} else if (a->h[k] && a->h[k]->total) {
			long bound = ep_hist_encode(hc, a->h[k], NULL, 0);
			uint8_t *p = buf_grow(b, 2 + (size_t)bound);

			if (!p)
				return -ENOMEM;
			n = ep_hist_encode(hc, a->h[k], p + 2, (size_t)bound);
			if (n < 0 || n > 0xffff)
				return n < 0 ? (int)n : -E2BIG;
			p[0] = (uint8_t)(n >> 8);
			p[1] = (uint8_t)n;
			b->len -= (size_t)(bound - n);
		} else {
			put_u16(b, 0);
		}
	}
	if (b->err)
		return b->err;
	vlen = b->len - start - 4;
	if (vlen > 0xffff)
		return -E2BIG;
	b->p[start + 2] = (uint8_t)(vlen >> 8);
	b->p[start + 3] = (uint8_t)vlen;
	return 0;
}

static int emit_part(struct ep_wire_scratch *sc, const struct ep_window *w, const struct rec *r,
		     uint32_t first, uint32_t n, uint16_t part, uint16_t parts, ep_wire_emit_cb cb,
		     void *ctx)
{
	size_t probe_len = strlen(w->probe);
	struct buf *m = &sc->msg, *recs = &sc->recs;
	uint32_t i;

	m->len = 0;
	m->err = 0;
	put_u32(m, EP_WIRE_MAGIC);
	put_u8(m, EP_WIRE_VERSION);
	put_u8(m, w->type == EP_WIN_SUMMARY ? EP_WIRE_T_SUMMARY : EP_WIRE_T_WINDOW);
	put_u16(m, 0);
	put_u32(m, 0); /* total length, patched below */
	put_u64(m, w->epoch);
	put_u64(m, w->seq + part);
	put_u64(m, w->start_ns);
	put_u64(m, w->end_ns);
	put_u16(m, part);
	put_u16(m, parts);
	put_u8(m, (uint8_t)probe_len);
	put_bytes(m, w->probe, probe_len);
	{
		uint32_t count = 0;

		for (i = first; i < first + n; i++)
			count += r[i].count;
		put_u16(m, (uint16_t)count);
	}
	for (i = first; i < first + n; i++)
		put_bytes(m, recs->p + r[i].off, r[i].len);
	if (m->err)
		return m->err;
	m->p[8] = (uint8_t)(m->len >> 24);
	m->p[9] = (uint8_t)(m->len >> 16);
	m->p[10] = (uint8_t)(m->len >> 8);
	m->p[11] = (uint8_t)m->len;
	return cb(m->p, m->len, ctx);
}

int ep_wire_encode(struct ep_wire_enc *e, const struct ep_window *w, size_t max_payload,
		   ep_wire_emit_cb cb, void *ctx)
{
	size_t probe_len = w->probe ? strlen(w->probe) : 0, hdr, used;
	struct ep_wire_scratch *sc;
	struct buf *recs;
	struct rec *r;
	uint32_t nrec = 0, i, first, *starts, nparts = 0;
	int ret = 0;

	if (probe_len < 1 || probe_len > EP_WIRE_PROBE_MAX)
		return -EINVAL;
	if (!e->s && !(e->s = calloc(1, sizeof(*e->s))))
		return -ENOMEM;
	sc = e->s;
	recs = &sc->recs;
	hdr = EP_WIRE_FIXED_BYTES + probe_len + 2;
	if (w->nasns + 2u > sc->nrecs) {
		uint32_t cap = w->nasns + 2u > 2 * sc->nrecs ? w->nasns + 2u : 2 * sc->nrecs;
		struct rec *nr = malloc(cap * sizeof(*nr));
		uint32_t *ns = malloc(cap * sizeof(*ns));

		if (!nr || !ns) {
			free(nr);
			free(ns);
			return -ENOMEM;
		}
		free(sc->r);
		free(sc->starts);
		sc->r = nr;
		sc->starts = ns;
		sc->nrecs = cap;
	}
	r = sc->r;
	starts = sc->starts;
	recs->len = 0;
	recs->err = 0;
	encode_stats(recs, w);
	encode_sources(recs, w); /* part 0 carries all counters */
	r[nrec].off = 0;
	r[nrec].count = 1 + (w->nsrc < EP_WINDOW_MAX_SOURCES ? w->nsrc : EP_WINDOW_MAX_SOURCES);
	r[nrec].count += encode_dataset(recs, w);
	r[nrec++].len = recs->len;
	for (i = 0; i < w->nasns; i++) {
		size_t off = recs->len;

		ret = encode_asn(&e->hc, recs, &w->asns[i]);
		if (ret < 0)
			return ret;
		r[nrec].off = off;
		r[nrec].count = 1;
		r[nrec++].len = recs->len - off;
	}
	if (recs->err)
		return recs->err;
	/* Greedy packing: a part takes records while they fit; an oversized one goes alone. */
	used = 0;
	for (i = 0; i < nrec; i++) {
		if (nparts == 0 || (used > 0 && hdr + used + r[i].len > max_payload)) {
			starts[nparts++] = i;
			used = 0;
		}
		used += r[i].len;
	}
	if (nparts > 0xffff)
		return -E2BIG;
	starts[nparts] = nrec;
	for (i = 0; i < nparts; i++) {
		first = starts[i];
		ret = emit_part(sc, w, r, first, starts[i + 1] - first, (uint16_t)i,
				(uint16_t)nparts, cb, ctx);
		if (ret < 0)
			return ret;
	}
	return (int)nparts;
}

int ep_wire_sign(uint8_t *msg, size_t len, size_t cap, const uint8_t *key, size_t keylen)
{
	size_t total = len + EP_WIRE_HMAC_BYTES;

	if (len < EP_WIRE_FIXED_BYTES || total > cap || total > UINT32_MAX)
		return -ENOSPC;
	msg[6] = 0;
	msg[7] = EP_WIRE_F_HMAC;
	msg[8] = (uint8_t)(total >> 24);
	msg[9] = (uint8_t)(total >> 16);
	msg[10] = (uint8_t)(total >> 8);
	msg[11] = (uint8_t)total;
	if (ep_hmac_sha256(key, keylen, msg, len, msg + len) < 0)
		return -EIO;
	return (int)total;
}
