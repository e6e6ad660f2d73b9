/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hist.h - HDR histograms: record, merge, reset, percentiles, and
 * HdrHistogram's V2 compressed encoding (binary and "HISTFAAA..." base64).
 */
#ifndef EP_HIST_H
#define EP_HIST_H

#include <stdint.h>
#include <stddef.h>

#include "edgeprobe/ep_hdr.h"

#define EP_HIST_DEFAULT_LOWEST 1
#define EP_HIST_DEFAULT_HIGHEST 60000000 /* 60 s in microseconds */
#define EP_HIST_DEFAULT_DIGITS 2

struct ep_hist {
	struct ep_hdr_cfg cfg;
	int64_t total;
	int64_t clamped;   /* values above cfg.highest recorded as cfg.highest */
	int32_t min_idx;   /* lowest touched counts index, counts_len when empty */
	int32_t max_idx;   /* highest touched counts index, -1 when empty */
	uint32_t *counts;  /* cfg.counts_len entries */
};

/* Bytes of counts storage ep_hist_init_preallocated() needs for cfg. */
size_t ep_hist_counts_bytes(const struct ep_hdr_cfg *cfg);

/* Point h at caller-owned, zeroed storage of ep_hist_counts_bytes(cfg) bytes. */
void ep_hist_init_preallocated(struct ep_hist *h, const struct ep_hdr_cfg *cfg, uint32_t *counts);

/*
 * Allocate a histogram for [lowest, highest] with digits significant digits.
 * @return 0, -EINVAL for a bad range or precision, -ENOMEM.
 */
int ep_hist_new(int64_t lowest, int64_t highest, int32_t digits, struct ep_hist **out);

/* NULL-safe. */
void ep_hist_free(struct ep_hist *h);

/* Record value n times; negative values count as 0, values above the range as the highest. */
static inline void ep_hist_record_n(struct ep_hist *h, int64_t value, uint64_t n)
{
	int32_t idx;

	if (value < 0)
		value = 0;
	if (value > h->cfg.highest) {
		value = h->cfg.highest;
		h->clamped += n;
	}
	idx = ep_hdr_index(&h->cfg, value);
	h->counts[idx] += n;
	h->total += n;
	if (idx < h->min_idx)
		h->min_idx = idx;
	if (idx > h->max_idx)
		h->max_idx = idx;
}

/* Record one value (as ep_hist_record_n). */
static inline void ep_hist_record(struct ep_hist *h, int64_t value)
{
	ep_hist_record_n(h, value, 1);
}

/* Zero the touched part of the counts. */
void ep_hist_reset(struct ep_hist *h);

/*
 * Add every count of src into dst.
 * @return 0, or -EINVAL when the two configurations differ.
 */
int ep_hist_add(struct ep_hist *dst, const struct ep_hist *src);

/* Value at percentile p (0..100) as HdrHistogram reports it; 0 when empty. */
int64_t ep_hist_percentile(const struct ep_hist *h, double p);

/* Lowest / highest equivalent values of the smallest / largest recorded bucket; 0 when empty. */
int64_t ep_hist_min(const struct ep_hist *h);
int64_t ep_hist_max(const struct ep_hist *h);

/*
 * What a thread keeps to encode and decode histograms: a deflate and an
 * inflate stream (made on first use, reset between uses) and the last
 * configuration decoded.  One per thread that encodes or decodes, owned by
 * whoever runs that thread; zero-initialised is ready.
 */
struct z_stream_s;
struct ep_hist_codec {
	struct z_stream_s *deflate, *inflate;
	struct ep_hdr_cfg last;
	int have_last;
};

/* Free the streams; the codec is zero-initialised again. */
void ep_hist_codec_fini(struct ep_hist_codec *c);

/*
 * V2 compressed encoding (cookie 0x1c849314, zlib-deflated V2 body).
 * @param c the caller's codec (may be NULL when buf is NULL)
 * @param buf output, NULL to ask for the bound
 * @return bytes written (or the bound when buf is NULL), -ENOSPC, -EIO on a zlib error.
 */
long ep_hist_encode(struct ep_hist_codec *c, const struct ep_hist *h, uint8_t *buf, size_t cap);

/*
 * Decode a V2 compressed (or plain V2) encoding into a new histogram.
 * @return 0, -EINVAL for a malformed or unsupported encoding, -ENOMEM.
 */
int ep_hist_decode(struct ep_hist_codec *c, const uint8_t *buf, size_t len, struct ep_hist **out);

/* One non-zero bucket of a histogram: counts index and count. */
struct ep_hbin {
	int32_t idx;
	uint32_t count;
};

/*
 * Decode an encoding (as ep_hist_decode()) without a dense counts array: the
 * configuration into cfg and the non-zero buckets, ascending, into bins.
 * @return the number of bins, -EINVAL (malformed), -ENOSPC (more than cap), -ENOMEM.
 */
long ep_hist_decode_bins(struct ep_hist_codec *c, const uint8_t *buf, size_t len,
			 struct ep_hdr_cfg *cfg, struct ep_hbin *bins, size_t cap);

/*
 * Add n ascending (index, count) bins of dst's configuration, and clamped
 * values that were above its range.  Counts saturate at 2^32-1 (the excess
 * counted as clamped), as in ep_hist_add().
 * @return 0, or -EINVAL for an index outside the configuration (nothing added)
 */
int ep_hist_add_bins(struct ep_hist *dst, const struct ep_hbin *b, uint32_t n, int64_t clamped);

/*
 * ep_hist_encode() of a histogram given as n ascending (index, count) bins of
 * configuration cfg: byte for byte what the dense form would encode to.
 */
long ep_hist_encode_bins(struct ep_hist_codec *c, const struct ep_hdr_cfg *cfg,
			 const struct ep_hbin *b, uint32_t n, uint8_t *buf, size_t cap);

/* base64 of ep_hist_encode() into out (NUL-terminated). @return length, or a negative errno. */
long ep_hist_encode_b64(struct ep_hist_codec *c, const struct ep_hist *h, char *out, size_t cap);

/* Standard base64 of n bytes into out (NUL-terminated). @return length or -ENOSPC. */
long ep_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* Decode the base64 "HISTFAAA..." form. @return as ep_hist_decode(). */
int ep_hist_decode_b64(struct ep_hist_codec *c, const char *b64, size_t len, struct ep_hist **out);

#endif /* EP_HIST_H */
