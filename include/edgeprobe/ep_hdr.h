/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_hdr.h - HdrHistogram bucket math: configuration from (lowest, highest,
 * significant digits) and value -> counts index.
 *
 * The layout is HdrHistogram's own, so that counts encoded by edgeprobe decode
 * in any HdrHistogram library.  No floating point and no count-leading-zeros
 * instruction: the same functions serve the BPF programs.
 */
#ifndef EP_HDR_H
#define EP_HDR_H

#include "ep_types.h"

struct ep_hdr_cfg {
	int64_t lowest;               /* lowest discernible value (>= 1) */
	int64_t highest;              /* highest trackable value */
	int32_t sig_digits;           /* 1..5 */
	int32_t unit_mag;             /* floor(log2(lowest)) */
	int32_t sub_bucket_half_mag;  /* log2(sub_bucket_count) - 1 */
	int32_t sub_bucket_count;     /* 2^ceil(log2(2 * 10^sig_digits)) */
	int32_t sub_bucket_half;      /* sub_bucket_count / 2 */
	int32_t bucket_count;
	int32_t counts_len;           /* (bucket_count + 1) * sub_bucket_half */
	int64_t sub_bucket_mask;      /* (sub_bucket_count - 1) << unit_mag */
};

/* floor(log2(v)) for v > 0, in six fixed steps; 0 for v == 0. */
EP_INLINE int32_t ep_hdr_log2(uint64_t v)
{
	int32_t r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/*
 * Fill cfg for values in [lowest, highest] with sig_digits significant digits.
 * @return 0, or -22 (-EINVAL) for a range or precision HdrHistogram rejects.
 */
EP_INLINE int ep_hdr_cfg_init(struct ep_hdr_cfg *cfg, int64_t lowest, int64_t highest,
			      int32_t sig_digits)
{
	int64_t largest_single = 2, smallest_untrackable;
	int32_t i, count_mag, buckets = 1;

	if (lowest < 1 || sig_digits < 1 || sig_digits > 5 || lowest > highest / 2)
		return -22; /* (written so that a hostile lowest cannot overflow) */
	for (i = 0; i < 5; i++)
		if (i < sig_digits)
			largest_single *= 10;
	cfg->lowest = lowest;
	cfg->highest = highest;
	cfg->sig_digits = sig_digits;
	cfg->unit_mag = ep_hdr_log2((uint64_t)lowest);
	count_mag = ep_hdr_log2((uint64_t)largest_single - 1) + 1; /* ceil(log2) */
	cfg->sub_bucket_half_mag = (count_mag > 1 ? count_mag : 1) - 1;
	if (cfg->unit_mag + cfg->sub_bucket_half_mag > 61)
		return -22; /* checked before any shift by unit_mag */
	cfg->sub_bucket_count = 1 << (cfg->sub_bucket_half_mag + 1);
	cfg->sub_bucket_half = cfg->sub_bucket_count / 2;
	cfg->sub_bucket_mask = ((int64_t)cfg->sub_bucket_count - 1) << cfg->unit_mag;
	smallest_untrackable = (int64_t)cfg->sub_bucket_count << cfg->unit_mag;
	for (i = 0; i < 64 && smallest_untrackable <= highest; i++) {
		if (smallest_untrackable > INT64_MAX / 2) {
			buckets++;
			break;
		}
		smallest_untrackable <<= 1;
		buckets++;
	}
	cfg->bucket_count = buckets;
	cfg->counts_len = (buckets + 1) * cfg->sub_bucket_half;
	return 0;
}

/* Index into the counts array for value (0 <= value <= cfg->highest). */
EP_INLINE int32_t ep_hdr_index(const struct ep_hdr_cfg *cfg, int64_t value)
{
	int32_t bucket = ep_hdr_log2((uint64_t)(value | cfg->sub_bucket_mask)) - cfg->unit_mag -
			 cfg->sub_bucket_half_mag;
	int32_t sub = (int32_t)(value >> (bucket + cfg->unit_mag));

	return ((bucket + 1) << cfg->sub_bucket_half_mag) + (sub - cfg->sub_bucket_half);
}

/* The lowest value that maps to counts index idx. */
EP_INLINE int64_t ep_hdr_value_at_index(const struct ep_hdr_cfg *cfg, int32_t idx)
{
	int32_t bucket = (idx >> cfg->sub_bucket_half_mag) - 1;
	int32_t sub = (idx & (cfg->sub_bucket_half - 1)) + cfg->sub_bucket_half;

	if (bucket < 0) {
		sub -= cfg->sub_bucket_half;
		bucket = 0;
	}
	return (int64_t)sub << (bucket + cfg->unit_mag);
}

/* Width of the bucket that holds value: values v..v+width-1 are equivalent. */
EP_INLINE int64_t ep_hdr_range_size(const struct ep_hdr_cfg *cfg, int64_t value)
{
	int32_t bucket = ep_hdr_log2((uint64_t)(value | cfg->sub_bucket_mask)) - cfg->unit_mag -
			 cfg->sub_bucket_half_mag;
	int32_t sub = (int32_t)(value >> (bucket + cfg->unit_mag));

	if (sub >= cfg->sub_bucket_count)
		bucket++;
	return (int64_t)1 << (cfg->unit_mag + bucket);
}

#endif /* EP_HDR_H */
