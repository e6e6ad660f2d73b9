/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng.c - pcapng blocks walked in the block reader's buffer (pcapfile.h):
 * section headers (byte order), interface descriptions (link type, snapshot
 * length, if_tsresol), enhanced and simple packet blocks; every other block is
 * skipped.  One link type per file, as the probe parses one.
 */
#include <stdio.h>
#include <string.h>

#include "pcapfile.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 1u
#define BT_SPB 3u
#define BT_EPB 6u
#define BOM 0x1a2b3c4du
#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9

int ep_pcapng_sniff(struct ep_pcapfile *pf, const uint8_t *buf, size_t len)
{
	uint32_t type, bom;

	if (len < 12)
		return 0;
	memcpy(&type, buf, 4);
	memcpy(&bom, buf + 8, 4);
	if (type != BT_SHB || (bom != BOM && bom != __builtin_bswap32(BOM)))
		return 0;
	pf->swap = bom != BOM;
	return 1;
}

static uint16_t u16(const struct ep_pcapfile *pf, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return pf->swap ? __builtin_bswap16(v) : v;
}

static int bad(struct ep_pcapfile *pf, char *err, size_t errlen, const char *what, uint32_t v)
{
	snprintf(err, errlen, "pcapng block at offset %llu: %s %u",
		 (unsigned long long)(pf->file_off + pf->off), what, v);
	return -1;
}

/* An interface description: link type, snapshot length, timestamp units. */
static int add_if(struct ep_pcapfile *pf, const uint8_t *b, uint32_t len, char *err,
		  size_t errlen)
{
	struct ep_pcapng_if *in;
	const uint8_t *o = b + 16, *end = b + len - 4;
	uint8_t res = 6; /* microseconds unless if_tsresol says otherwise */

	if (len < 20)
		return bad(pf, err, errlen, "interface description too short:", len);
	if (pf->nif == EP_PCAPNG_MAX_IF)
		return bad(pf, err, errlen, "more interfaces than", EP_PCAPNG_MAX_IF);
	while (o + 4 <= end) {
		uint16_t code = u16(pf, o), olen = u16(pf, o + 2);

		if (code == OPT_ENDOFOPT)
			break;
		if ((size_t)(end - o - 4) < olen)
			return bad(pf, err, errlen, "option runs past the block, length", olen);
		if (code == OPT_IF_TSRESOL && olen >= 1)
			res = o[4];
		o += 4 + ((olen + 3u) & ~3u);
	}
	in = &pf->ifs[pf->nif];
	in->linktype = u16(pf, b + 8);
	in->snaplen = ep_pcapfile_u32(pf, b + 12);
	if (res & 0x80) { /* units of 2^-n s */
		if ((res & 0x7f) > 63)
			return bad(pf, err, errlen, "if_tsresol out of range:", res);
		in->per_s = 1ull << (res & 0x7f);
		in->mult = 0;
	} else {
		if (res > 19)
			return bad(pf, err, errlen, "if_tsresol out of range:", res);
		in->per_s = 1;
		while (res--)
			in->per_s *= 10;
		in->mult = in->per_s <= 1000000000ull ? 1000000000ull / in->per_s : 0;
	}
	if (!pf->have_lt) {
		pf->linktype = in->linktype;
		pf->have_lt = 1;
	} else if (in->linktype != pf->linktype) {
		return bad(pf, err, errlen, "interface with another link type (one per file):",
			   in->linktype);
	}
	pf->nif++;
	return 0;
}

static uint64_t to_ns(const struct ep_pcapng_if *in, uint64_t t)
{
	if (in->mult)
		return t * in->mult;
	return (uint64_t)((unsigned __int128)t * 1000000000u / in->per_s);
}

int ep_pcapng_next(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen)
{
	for (;;) {
		size_t left = pf->size - pf->off;
		const uint8_t *b = pf->base + pf->off;
		uint32_t type, len;

		if (left >= 12 && ep_pcapng_sniff(pf, b, left)) {
			pf->nif = 0; /* a new section: its own byte order and interfaces */
		}
		len = left >= 8 ? ep_pcapfile_u32(pf, b + 4) : 0;
		if (left < 12 || len > left) {
			if (pf->fd >= 0 && (left < 12 || len <= EP_PCAPNG_MAX_BLOCK)) {
				if (ep_pcapfile_refill(pf, err, errlen) < 0)
					return -1;
				if (pf->size - pf->off > left || pf->fd >= 0)
					continue;
				left = pf->size - pf->off;
				b = pf->base + pf->off;
			}
			if (left == 0)
				return 0;
			if (left < 12) {
				snprintf(err, errlen, "truncated pcapng block at offset %llu (%zu bytes)",
					 (unsigned long long)(pf->file_off + pf->off), left);
				return -1;
			}
			if (len > EP_PCAPNG_MAX_BLOCK)
				return bad(pf, err, errlen, "block length larger than the largest packet:",
					   len);
			snprintf(err, errlen, "truncated pcapng block at offset %llu: %u bytes long, "
				 "%zu left", (unsigned long long)(pf->file_off + pf->off), len, left);
			return -1;
		}
		type = ep_pcapfile_u32(pf, b);
		if (len > EP_PCAPNG_MAX_BLOCK)
			return bad(pf, err, errlen, "block length larger than the largest packet:", len);
		if (len < 12 || len % 4)
			return bad(pf, err, errlen, "impossible block length", len);
		if (ep_pcapfile_u32(pf, b + len - 4) != len)
			return bad(pf, err, errlen, "trailing length differs from", len);
		if (type == BT_EPB || type == BT_SPB) {
			uint32_t caplen, ifid = 0;
			const struct ep_pcapng_if *in;

			if (type == BT_EPB) {
				if (len < 32)
					return bad(pf, err, errlen, "packet block too short:", len);
				ifid = ep_pcapfile_u32(pf, b + 8);
			} else if (len < 16) {
				return bad(pf, err, errlen, "packet block too short:", len);
			}
			if (ifid >= pf->nif)
				return bad(pf, err, errlen, "packet of an undescribed interface", ifid);
			in = &pf->ifs[ifid];
			if (type == BT_EPB) {
				caplen = ep_pcapfile_u32(pf, b + 20);
				if (caplen > len - 32 || caplen > EP_PCAPFILE_MAX_CAPLEN)
					return bad(pf, err, errlen, "captured length past the block:",
						   caplen);
				r->data = b + 28;
				r->caplen = caplen;
				r->origlen = ep_pcapfile_u32(pf, b + 24);
				r->ts_ns = to_ns(in, (uint64_t)ep_pcapfile_u32(pf, b + 12) << 32 |
							 ep_pcapfile_u32(pf, b + 16));
				pf->last_ts_ns = r->ts_ns;
			} else {
				/* No time in a simple packet block: the last one seen. */
				r->origlen = ep_pcapfile_u32(pf, b + 8);
				caplen = len - 16;
				if (r->origlen < caplen)
					caplen = r->origlen;
				if (in->snaplen && in->snaplen < caplen)
					caplen = in->snaplen;
				r->data = b + 12;
				r->caplen = caplen;
				r->ts_ns = pf->last_ts_ns;
			}
			pf->off += len;
			pf->records++;
			return 1;
		}
		if (type == BT_IDB && add_if(pf, b, len, err, errlen) < 0)
			return -1;
		pf->off += len; /* section headers, name resolution, statistics, others */
	}
}
