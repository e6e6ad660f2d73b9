/* SPDX-License-Identifier: BSD-3-Clause */
/* hist_codec.c - HdrHistogram's V2 encoding (plain and zlib-compressed) and base64, both ways. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hist.h"

#define V2_COOKIE 0x1c849313u            /* V2 encoding, LEB128/ZigZag word marker 0x10 */
#define V2_COMPRESSED_COOKIE 0x1c849314u
#define COOKIE_BASE(c) ((c) & ~0xf0u)
#define V2_HEADER_BYTES 40
#define ZIGZAG_MAX_BYTES 9
#define STORED_MAX 1024 /* V2 bodies up to this size go in a stored zlib block */

/* ------------------------------------------------------------------------ */
/* V2 encoding                                                                */
/* ------------------------------------------------------------------------ */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)ep_be32(p) << 32 | ep_be32(p + 4);
}

/* HdrHistogram's ZigZag LEB128: up to 8 groups of 7 bits, a 9th byte of 8 bits. */
static size_t zigzag_put(uint8_t *p, int64_t value)
{
	uint64_t v = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
	size_t n = 0;

	while (n < 8 && v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* @return bytes consumed, 0 when truncated. */
static size_t zigzag_get(const uint8_t *p, size_t len, int64_t *out)
{
	uint64_t v = 0;
	size_t n;

	for (n = 0; n < ZIGZAG_MAX_BYTES; n++) {
		if (n >= len)
			return 0;
		if (n == 8) {
			v |= (uint64_t)p[n] << 56;
			n++;
			break;
		}
		v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			n++;
			break;
		}
	}
	*out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
	return n;
}

/* The V2 header in front of the payload that ends at p. @return the encoding's length. */
static size_t v2_header_put(const struct ep_hdr_cfg *cfg, uint8_t *buf, const uint8_t *p)
{
	double ratio = 1.0;
	uint64_t ratio_bits;

	memcpy(&ratio_bits, &ratio, sizeof(ratio_bits));
	put_be32(buf, V2_COOKIE);
	put_be32(buf + 4, (uint32_t)(p - buf - V2_HEADER_BYTES));
	put_be32(buf + 8, 0); /* normalizing index offset */
	put_be32(buf + 12, (uint32_t)cfg->sig_digits);
	put_be64(buf + 16, (uint64_t)cfg->lowest);
	put_be64(buf + 24, (uint64_t)cfg->highest);
	put_be64(buf + 32, ratio_bits);
	return (size_t)(p - buf);
}

/* Uncompressed V2 body into buf (sized by the caller). @return its length. */
static size_t encode_v2(const struct ep_hist *h, uint8_t *buf)
{
	uint8_t *p = buf + V2_HEADER_BYTES;
	int32_t i = h->min_idx <= h->max_idx ? h->min_idx : 0;

	/* The run of zeros below the first recorded value, without scanning it. */
	if (i > 1)
		p += zigzag_put(p, -(int64_t)i);
	else if (i == 1)
		p += zigzag_put(p, 0);
	while (i <= h->max_idx) {
		int64_t zeros = 0;

		if (h->counts[i]) {
			p += zigzag_put(p, h->counts[i++]);
			continue;
		}
		while (i <= h->max_idx && h->counts[i] == 0) {
			zeros++;
			i++;
		}
		p += zigzag_put(p, zeros > 1 ? -zeros : 0);
	}
	return v2_header_put(&h->cfg, buf, p);
}

/* Uncompressed V2 body of n ascending bins, as encode_v2() writes their dense form. */
static size_t encode_v2_bins(const struct ep_hdr_cfg *cfg, const struct ep_hbin *b, uint32_t n,
			     uint8_t *buf)
{
	uint8_t *p = buf + V2_HEADER_BYTES;
	int64_t next = 0; /* the index the payload has reached */
	uint32_t k;

	for (k = 0; k < n; k++) {
		int64_t zeros = b[k].idx - next;

		if (!b[k].count)
			continue;
		if (zeros > 0)
			p += zigzag_put(p, zeros > 1 ? -zeros : 0);
		p += zigzag_put(p, b[k].count);
		next = (int64_t)b[k].idx + 1;
	}
	return v2_header_put(cfg, buf, p);
}

static size_t v2_bound(const struct ep_hist *h)
{
	return V2_HEADER_BYTES + (size_t)(h->max_idx + 1) * ZIGZAG_MAX_BYTES;
}

/*
 * The codec's streams are made on first use and reset between uses: setting a
 * stream up costs far more than compressing a histogram (a few hundred bytes).
 * A 1 KiB window, the smallest hash and fixed Huffman codes (no tree to build
 * for a few hundred bytes) suffice; any inflater reads the result (the zlib
 * header states the window size).
 */
static z_stream *deflater(struct ep_hist_codec *c)
{
	if (c->deflate)
		return deflateReset(c->deflate) == Z_OK ? c->deflate : NULL;
	c->deflate = calloc(1, sizeof(*c->deflate));
	if (c->deflate && deflateInit2(c->deflate, 1, Z_DEFLATED, 10, 1, Z_FIXED) != Z_OK) {
		free(c->deflate);
		c->deflate = NULL;
	}
	return c->deflate;
}

static z_stream *inflater(struct ep_hist_codec *c)
{
	if (c->inflate)
		return inflateReset(c->inflate) == Z_OK ? c->inflate : NULL;
	c->inflate = calloc(1, sizeof(*c->inflate));
	if (c->inflate && inflateInit(c->inflate) != Z_OK) {
		free(c->inflate);
		c->inflate = NULL;
	}
	return c->inflate;
}

void ep_hist_codec_fini(struct ep_hist_codec *c)
{
	if (c->deflate) {
		deflateEnd(c->deflate);
		free(c->deflate);
	}
	if (c->inflate) {
		inflateEnd(c->inflate);
		free(c->inflate);
	}
	memset(c, 0, sizeof(*c));
}

/* The compressed form of the plain V2 encoding raw into buf. @return as ep_hist_encode(). */
static long v2_compress(struct ep_hist_codec *c, const uint8_t *raw, size_t raw_len, uint8_t *buf,
			size_t cap)
{
	z_stream *zs;
	long ret;

	if (cap < 8)
		return -ENOSPC;
	if (raw_len <= STORED_MAX) {
		/*
		 * Small bodies (most window histograms) do not shrink enough to pay
		 * for deflate: a zlib stream with one stored block is valid input to
		 * every inflater and costs a copy and an Adler-32.
		 */
		uLong adler = adler32(adler32(0L, Z_NULL, 0), raw, (uInt)raw_len);
		uint8_t *o = buf + 8;

		if (cap < 8 + raw_len + 11)
			return -ENOSPC;
		o[0] = 0x78; /* deflate, 32 KiB window */
		o[1] = 0x01; /* no dictionary, lowest level; (0x78 << 8 | 0x01) % 31 == 0 */
		o[2] = 0x01; /* final block, stored */
		o[3] = (uint8_t)raw_len;
		o[4] = (uint8_t)(raw_len >> 8);
		o[5] = (uint8_t)~raw_len;
		o[6] = (uint8_t)(~raw_len >> 8);
		memcpy(o + 7, raw, raw_len);
		put_be32(o + 7 + raw_len, (uint32_t)adler);
		put_be32(buf, V2_COMPRESSED_COOKIE);
		put_be32(buf + 4, (uint32_t)(raw_len + 11));
		return (long)(8 + raw_len + 11);
	}
	zs = deflater(c);
	if (!zs)
		return -ENOMEM;
	zs->next_in = (uint8_t *)(uintptr_t)raw;
	zs->avail_in = (uInt)raw_len;
	zs->next_out = buf + 8;
	zs->avail_out = (uInt)(cap - 8);
	ret = deflate(zs, Z_FINISH);
	if (ret != Z_STREAM_END)
		return zs->avail_out == 0 ? -ENOSPC : -EIO;
	put_be32(buf, V2_COMPRESSED_COOKIE);
	put_be32(buf + 4, (uint32_t)zs->total_out);
	return (long)(8 + zs->total_out);
}

/*
 * The plain V2 body of h, or of the n bins b of cfg when h is NULL, in a
 * scratch of need bytes (on the stack when small), then compressed into buf.
 */
static long encode_via(struct ep_hist_codec *c, size_t need, const struct ep_hist *h,
		       const struct ep_hdr_cfg *cfg, const struct ep_hbin *b, uint32_t n,
		       uint8_t *buf, size_t cap)
{
	uint8_t stack[8192], *raw;
	long ret;

	if (!buf)
		return (long)(8 + compressBound((uLong)need) + 64);
	raw = need <= sizeof(stack) ? stack : malloc(need);
	if (!raw)
		return -ENOMEM;
	ret = v2_compress(c, raw, h ? encode_v2(h, raw) : encode_v2_bins(cfg, b, n, raw), buf, cap);
	if (raw != stack)
		free(raw);
	return ret;
}

long ep_hist_encode(struct ep_hist_codec *c, const struct ep_hist *h, uint8_t *buf, size_t cap)
{
	return encode_via(c, v2_bound(h), h, NULL, NULL, 0, buf, cap);
}

long ep_hist_encode_bins(struct ep_hist_codec *c, const struct ep_hdr_cfg *cfg,
			 const struct ep_hbin *b, uint32_t n, uint8_t *buf, size_t cap)
{
	return encode_via(c, V2_HEADER_BYTES + (size_t)n * 2 * ZIGZAG_MAX_BYTES, NULL, cfg, b, n, buf,
			  cap);
}

/* Check a plain V2 header; fill cfg and the payload bounds. @return 0 or -EINVAL. */
static int v2_header(struct ep_hist_codec *c, const uint8_t *buf, size_t len, struct ep_hdr_cfg *cfg,
		     const uint8_t **p,
		     const uint8_t **end)
{
	uint32_t payload, digits;
	int64_t lowest, highest;

	if (len < V2_HEADER_BYTES || COOKIE_BASE(ep_be32(buf)) != (V2_COOKIE & ~0xf0u))
		return -EINVAL;
	payload = ep_be32(buf + 4);
	digits = ep_be32(buf + 12);
	lowest = (int64_t)get_be64(buf + 16);
	highest = (int64_t)get_be64(buf + 24);
	/*
	 * The normalizing index offset (buf + 8) and the conversion ratio (buf + 32)
	 * are metadata: the payload holds logical counts.  hdr-histogram-js writes
	 * 1 and an int64 there, so neither is checked.
	 */
	if (payload > len - V2_HEADER_BYTES || digits > 5 || highest > ((int64_t)1 << 62))
		return -EINVAL;
	{
		/* Streams of histograms share one configuration: derive it once per codec. */
		if (c->have_last && c->last.lowest == lowest && c->last.highest == highest &&
		    c->last.sig_digits == (int32_t)digits) {
			*cfg = c->last;
		} else {
			/* Bound the allocation a hostile header can ask for. */
			if (ep_hdr_cfg_init(cfg, lowest, highest, (int32_t)digits) < 0 ||
			    cfg->counts_len > (1 << 22))
				return -EINVAL;
			c->last = *cfg;
			c->have_last = 1;
		}
	}
	*p = buf + V2_HEADER_BYTES;
	*end = *p + payload;
	return 0;
}

/*
 * Walk the payload's counts, calling bin() for each non-zero one in ascending
 * index order.  @return 0, -EINVAL (malformed), or bin()'s error.
 */
static int v2_walk(const struct ep_hdr_cfg *cfg, const uint8_t *p, const uint8_t *end,
		   int (*bin)(void *ctx, int32_t idx, uint32_t count), void *ctx)
{
	int32_t idx = 0;
	int ret;

	while (p < end) {
		int64_t v;
		size_t n = zigzag_get(p, (size_t)(end - p), &v);

		if (n == 0)
			return -EINVAL;
		p += n;
		if (v < 0) {
			/* A run of -v zeros; compared before negating (v may be INT64_MIN). */
			if (v < -(int64_t)(cfg->counts_len - idx))
				return -EINVAL;
			idx += (int32_t)-v;
			continue;
		}
		if (idx >= cfg->counts_len || v > UINT32_MAX)
			return -EINVAL;
		if (v && (ret = bin(ctx, idx, (uint32_t)v)) < 0)
			return ret;
		idx++;
	}
	return 0;
}

static int dense_bin(void *ctx, int32_t idx, uint32_t count)
{
	struct ep_hist *h = ctx;

	h->counts[idx] = count;
	h->total += count;
	if (idx < h->min_idx)
		h->min_idx = idx;
	h->max_idx = idx;
	return 0;
}

static int decode_v2(struct ep_hist_codec *c, const uint8_t *buf, size_t len, struct ep_hist **out)
{
	struct ep_hdr_cfg cfg;
	const uint8_t *p, *end;
	struct ep_hist *h;
	int ret;

	if (v2_header(c, buf, len, &cfg, &p, &end) < 0)
		return -EINVAL;
	ret = ep_hist_new(cfg.lowest, cfg.highest, cfg.sig_digits, &h);
	if (ret < 0)
		return ret;
	ret = v2_walk(&cfg, p, end, dense_bin, h);
	if (ret < 0) {
		ep_hist_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

struct bins_ctx {
	struct ep_hbin *bins;
	size_t n, cap;
};

static int sparse_bin(void *ctx, int32_t idx, uint32_t count)
{
	struct bins_ctx *b = ctx;

	if (b->n == b->cap)
		return -ENOSPC;
	b->bins[b->n].idx = idx;
	b->bins[b->n].count = count;
	b->n++;
	return 0;
}

/*
 * Inflate a V2 compressed encoding (or pass a plain V2 one through) into a
 * plain V2 body.  *raw is stack or a malloc'd buffer the caller frees when
 * it differs from stack.  @return 0, -EINVAL, -ENOMEM.
 */
static int v2_plain(struct ep_hist_codec *c, const uint8_t *buf, size_t len, uint8_t *stack, size_t stack_cap,
		    const uint8_t **raw_out, size_t *raw_len_out, uint8_t **owned)
{
	uint8_t *raw = stack;
	size_t raw_len = 0, raw_cap = stack_cap;
	uint32_t cookie, zlen;
	z_stream *zs;
	int ret;

	*owned = NULL;
	if (len < 8)
		return -EINVAL;
	cookie = ep_be32(buf);
	if (COOKIE_BASE(cookie) == (V2_COOKIE & ~0xf0u)) {
		*raw_out = buf;
		*raw_len_out = len;
		return 0;
	}
	if (COOKIE_BASE(cookie) != (V2_COMPRESSED_COOKIE & ~0xf0u))
		return -EINVAL;
	zlen = ep_be32(buf + 4);
	if (zlen > len - 8)
		return -EINVAL;
	zs = inflater(c);
	if (!zs)
		return -ENOMEM;
	/* Inflate into a growing buffer, bounded by the largest plausible V2 body. */
	for (;;) {
		int zret;

		if (raw_len == raw_cap) {
			uint8_t *p;

			if (raw_cap >= (16u << 20)) {
				ret = -EINVAL;
				break;
			}
			raw_cap *= 4;
			p = raw == stack ? malloc(raw_cap) : realloc(raw, raw_cap);
			if (!p) {
				ret = -ENOMEM;
				break;
			}
			if (raw == stack)
				memcpy(p, stack, raw_len);
			raw = p;
		}
		zs->next_in = (Bytef *)(uintptr_t)(buf + 8) + zs->total_in;
		zs->avail_in = (uInt)(zlen - zs->total_in);
		zs->next_out = raw + raw_len;
		zs->avail_out = (uInt)(raw_cap - raw_len);
		zret = inflate(zs, Z_FINISH);
		raw_len = zs->total_out;
		if (zret == Z_STREAM_END) {
			ret = 0;
			break;
		}
		if (zret != Z_BUF_ERROR || zs->avail_out != 0) {
			ret = zret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
	}
	if (raw != stack)
		*owned = raw;
	if (ret < 0) {
		free(*owned);
		*owned = NULL;
		return ret;
	}
	*raw_out = raw;
	*raw_len_out = raw_len;
	return 0;
}

int ep_hist_decode(struct ep_hist_codec *c, const uint8_t *buf, size_t len, struct ep_hist **out)
{
	uint8_t stack[4096], *owned;
	const uint8_t *raw;
	size_t raw_len;
	int ret;

	*out = NULL;
	ret = v2_plain(c, buf, len, stack, sizeof(stack), &raw, &raw_len, &owned);
	if (ret < 0)
		return ret;
	ret = decode_v2(c, raw, raw_len, out);
	free(owned);
	return ret;
}

long ep_hist_decode_bins(struct ep_hist_codec *c, const uint8_t *buf, size_t len,
			 struct ep_hdr_cfg *cfg,
			 struct ep_hbin *bins, size_t cap)
{
	uint8_t stack[4096], *owned;
	const uint8_t *raw, *p, *end;
	struct bins_ctx b = { bins, 0, cap };
	size_t raw_len;
	int ret;

	ret = v2_plain(c, buf, len, stack, sizeof(stack), &raw, &raw_len, &owned);
	if (ret < 0)
		return ret;
	ret = v2_header(c, raw, raw_len, cfg, &p, &end);
	if (!ret)
		ret = v2_walk(cfg, p, end, sparse_bin, &b);
	free(owned);
	return ret < 0 ? ret : (long)b.n;
}

/* ------------------------------------------------------------------------ */
/* base64                                                                     */
/* ------------------------------------------------------------------------ */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long ep_b64_encode(const uint8_t *bin, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap < (n + 2) / 3 * 4 + 1)
		return -ENOSPC;
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)bin[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)bin[i + 1] << 8;
		if (i + 2 < n)
			v |= bin[i + 2];
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

long ep_hist_encode_b64(struct ep_hist_codec *c, const struct ep_hist *h, char *out, size_t cap)
{
	uint8_t stack[4096], *bin;
	long n = ep_hist_encode(c, h, NULL, 0);

	bin = (size_t)n <= sizeof(stack) ? stack : malloc((size_t)n);
	if (!bin)
		return -ENOMEM;
	n = ep_hist_encode(c, h, bin, (size_t)n);
	if (n >= 0)
		n = ep_b64_encode(bin, (size_t)n, out, cap);
	if (bin != stack)
		free(bin);
	return n;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

int ep_hist_decode_b64(struct ep_hist_codec *c, const char *b64, size_t len, struct ep_hist **out)
{
	uint8_t *bin;
	size_t i, n = 0;
	uint32_t acc = 0;
	int bits = 0, ret;

	*out = NULL;
	bin = malloc(len / 4 * 3 + 3);
	if (!bin)
		return -ENOMEM;
	for (i = 0; i < len && b64[i] != '='; i++) {
		int v = b64_val(b64[i]);

		if (v < 0) {
			free(bin);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bin[n++] = (uint8_t)(acc >> bits);
		}
	}
	ret = ep_hist_decode(c, bin, n, out);
	free(bin);
	return ret;
}
