/* SPDX-License-Identifier: BSD-3-Clause */
/* hist.c - HDR histograms and HdrHistogram's V2 (compressed) encoding. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hist.h"

#define V2_COOKIE 0x1c849313u            /* V2 encoding, LEB128/ZigZag word marker 0x10 */
#define V2_COMPRESSED_COOKIE 0x1c849314u
#define COOKIE_BASE(c) ((c) & ~0xf0u)
#define V2_HEADER_BYTES 40
#define ZIGZAG_MAX_BYTES 9

/* ------------------------------------------------------------------------ */
/* Storage, recording, merging                                                */
/* ------------------------------------------------------------------------ */

size_t ep_hist_counts_bytes(const struct ep_hdr_cfg *cfg)
{
	return (size_t)cfg->counts_len * sizeof(uint32_t);
}

void ep_hist_init_preallocated(struct ep_hist *h, const struct ep_hdr_cfg *cfg, uint32_t *counts)
{
	h->cfg = *cfg;
	h->total = 0;
	h->clamped = 0;
	h->min_idx = cfg->counts_len;
	h->max_idx = -1;
	h->counts = counts;
}

int ep_hist_new(int64_t lowest, int64_t highest, int32_t digits, struct ep_hist **out)
{
	struct ep_hdr_cfg cfg;
	struct ep_hist *h;
	uint32_t *counts;

	*out = NULL;
	if (ep_hdr_cfg_init(&cfg, lowest, highest, digits) < 0)
		return -EINVAL;
	h = malloc(sizeof(*h));
	counts = calloc((size_t)cfg.counts_len, sizeof(uint32_t));
	if (!h || !counts) {
		free(h);
		free(counts);
		return -ENOMEM;
	}
	ep_hist_init_preallocated(h, &cfg, counts);
	*out = h;
	return 0;
}

void ep_hist_free(struct ep_hist *h)
{
	if (!h)
		return;
	free(h->counts);
	free(h);
}

void ep_hist_reset(struct ep_hist *h)
{
	if (h->max_idx >= h->min_idx)
		memset(h->counts + h->min_idx, 0,
		       (size_t)(h->max_idx - h->min_idx + 1) * sizeof(uint32_t));
	h->total = 0;
	h->clamped = 0;
	h->min_idx = h->cfg.counts_len;
	h->max_idx = -1;
}

static int cfg_same(const struct ep_hdr_cfg *a, const struct ep_hdr_cfg *b)
{
	return a->lowest == b->lowest && a->highest == b->highest &&
	       a->sig_digits == b->sig_digits;
}

int ep_hist_add(struct ep_hist *dst, const struct ep_hist *src)
{
	int32_t i;

	if (!cfg_same(&dst->cfg, &src->cfg))
		return -EINVAL;
	for (i = src->min_idx; i <= src->max_idx; i++) {
		uint64_t sum = (uint64_t)dst->counts[i] + src->counts[i];

		if (!src->counts[i])
			continue;
		if (sum > UINT32_MAX) {
			dst->clamped += (int64_t)(sum - UINT32_MAX);
			sum = UINT32_MAX;
		}
		dst->counts[i] = (uint32_t)sum;
	}
	dst->total += src->total;
	dst->clamped += src->clamped;
	if (src->total) {
		if (src->min_idx < dst->min_idx)
			dst->min_idx = src->min_idx;
		if (src->max_idx > dst->max_idx)
			dst->max_idx = src->max_idx;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                    */
/* ------------------------------------------------------------------------ */

static int64_t highest_equivalent(const struct ep_hist *h, int32_t idx)
{
	int64_t v = ep_hdr_value_at_index(&h->cfg, idx);

	return v + ep_hdr_range_size(&h->cfg, v) - 1;
}

int64_t ep_hist_percentile(const struct ep_hist *h, double p)
{
	int64_t want, seen = 0;
	double frac;
	int32_t i;

	if (h->total == 0)
		return 0;
	if (p > 100.0)
		p = 100.0;
	if (p < 0.0)
		p = 0.0;
	/* As HdrHistogram (Java, JS): the ceil of the fractional count, at least 1. */
	frac = p / 100.0 * (double)h->total;
	want = (int64_t)ceil(frac - frac * 1e-12);
	if (want < 1)
		want = 1;
	for (i = h->min_idx; i <= h->max_idx; i++) {
		seen += h->counts[i];
		if (seen >= want)
			return p == 0.0 ? ep_hdr_value_at_index(&h->cfg, i) : highest_equivalent(h, i);
	}
	return highest_equivalent(h, h->max_idx);
}

int64_t ep_hist_min(const struct ep_hist *h)
{
	return h->total ? ep_hdr_value_at_index(&h->cfg, h->min_idx) : 0;
}

int64_t ep_hist_max(const struct ep_hist *h)
{
	return h->total ? highest_equivalent(h, h->max_idx) : 0;
}

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

/* Uncompressed V2 body into buf (sized by the caller). @return its length. */
static size_t encode_v2(const struct ep_hist *h, uint8_t *buf)
{
	uint8_t *p = buf + V2_HEADER_BYTES;
	double ratio = 1.0;
	uint64_t ratio_bits;
	int32_t i;

	for (i = 0; i <= h->max_idx;) {
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
	memcpy(&ratio_bits, &ratio, sizeof(ratio_bits));
	put_be32(buf, V2_COOKIE);
	put_be32(buf + 4, (uint32_t)(p - buf - V2_HEADER_BYTES));
	put_be32(buf + 8, 0); /* normalizing index offset */
	put_be32(buf + 12, (uint32_t)h->cfg.sig_digits);
	put_be64(buf + 16, (uint64_t)h->cfg.lowest);
	put_be64(buf + 24, (uint64_t)h->cfg.highest);
	put_be64(buf + 32, ratio_bits);
	return (size_t)(p - buf);
}

static size_t v2_bound(const struct ep_hist *h)
{
	return V2_HEADER_BYTES + (size_t)(h->max_idx + 1) * ZIGZAG_MAX_BYTES;
}

long ep_hist_encode(const struct ep_hist *h, uint8_t *buf, size_t cap)
{
	uint8_t stack[8192], *raw;
	size_t raw_len, need = v2_bound(h);
	uLongf zlen;
	long ret;

	if (!buf)
		return (long)(8 + compressBound((uLong)need));
	raw = need <= sizeof(stack) ? stack : malloc(need);
	if (!raw)
		return -ENOMEM;
	raw_len = encode_v2(h, raw);
	if (cap < 8) {
		ret = -ENOSPC;
		goto cleanup;
	}
	zlen = (uLongf)(cap - 8);
	ret = compress2(buf + 8, &zlen, raw, (uLong)raw_len, 4);
	if (ret == Z_BUF_ERROR) {
		ret = -ENOSPC;
		goto cleanup;
	}
	if (ret != Z_OK) {
		ret = -EIO;
		goto cleanup;
	}
	put_be32(buf, V2_COMPRESSED_COOKIE);
	put_be32(buf + 4, (uint32_t)zlen);
	ret = (long)(8 + zlen);
cleanup:
	if (raw != stack)
		free(raw);
	return ret;
}

static int decode_v2(const uint8_t *buf, size_t len, struct ep_hist **out)
{
	uint32_t payload, digits;
	int64_t lowest, highest;
	const uint8_t *p, *end;
	struct ep_hist *h;
	int32_t idx = 0;
	int ret;

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
		struct ep_hdr_cfg cfg;

		/* Bound the allocation a hostile header can ask for. */
		if (ep_hdr_cfg_init(&cfg, lowest, highest, (int32_t)digits) < 0 ||
		    cfg.counts_len > (1 << 22))
			return -EINVAL;
	}
	ret = ep_hist_new(lowest, highest, (int32_t)digits, &h);
	if (ret < 0)
		return ret;
	p = buf + V2_HEADER_BYTES;
	end = p + payload;
	while (p < end) {
		int64_t v;
		size_t n = zigzag_get(p, (size_t)(end - p), &v);

		if (n == 0)
			goto bad;
		p += n;
		if (v < 0) {
			if (-v > h->cfg.counts_len - idx)
				goto bad;
			idx += (int32_t)-v;
			continue;
		}
		if (idx >= h->cfg.counts_len || v > UINT32_MAX)
			goto bad;
		if (v) {
			h->counts[idx] = (uint32_t)v;
			h->total += v;
			if (idx < h->min_idx)
				h->min_idx = idx;
			h->max_idx = idx;
		}
		idx++;
	}
	*out = h;
	return 0;
bad:
	ep_hist_free(h);
	return -EINVAL;
}

int ep_hist_decode(const uint8_t *buf, size_t len, struct ep_hist **out)
{
	uint32_t cookie, zlen;
	uLongf raw_len;
	uint8_t *raw;
	int ret;

	*out = NULL;
	if (len < 8)
		return -EINVAL;
	cookie = ep_be32(buf);
	if (COOKIE_BASE(cookie) == (V2_COOKIE & ~0xf0u))
		return decode_v2(buf, len, out);
	if (COOKIE_BASE(cookie) != (V2_COMPRESSED_COOKIE & ~0xf0u))
		return -EINVAL;
	zlen = ep_be32(buf + 4);
	if (zlen > len - 8)
		return -EINVAL;
	/* Bound the inflated size: the largest counts array times the widest varint. */
	raw_len = V2_HEADER_BYTES + (uLongf)(1u << 20);
	raw = malloc(raw_len);
	if (!raw)
		return -ENOMEM;
	ret = uncompress(raw, &raw_len, buf + 8, zlen);
	ret = ret == Z_OK ? decode_v2(raw, raw_len, out) : (ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL);
	free(raw);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* base64                                                                     */
/* ------------------------------------------------------------------------ */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long ep_hist_encode_b64(const struct ep_hist *h, char *out, size_t cap)
{
	uint8_t stack[4096], *bin;
	long n = ep_hist_encode(h, NULL, 0), i, o = 0;

	bin = (size_t)n <= sizeof(stack) ? stack : malloc((size_t)n);
	if (!bin)
		return -ENOMEM;
	n = ep_hist_encode(h, bin, (size_t)n);
	if (n < 0)
		goto cleanup;
	if (cap < (size_t)((n + 2) / 3 * 4 + 1)) {
		n = -ENOSPC;
		goto cleanup;
	}
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
	n = o;
cleanup:
	if (bin != stack)
		free(bin);
	return n;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

int ep_hist_decode_b64(const char *b64, size_t len, struct ep_hist **out)
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
	ret = ep_hist_decode(bin, n, out);
	free(bin);
	return ret;
}
