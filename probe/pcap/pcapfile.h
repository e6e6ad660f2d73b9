/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapfile.h - classic pcap files read in place: the file is mapped read-only
 * and its records are walked without a copy or a call per record.  libpcap
 * still opens the file (it validates the header, maps the link type, compiles
 * filters) and reads everything this reader does not take: pcapng, pipes and
 * stdin.  Every record header is checked against the bytes that remain.
 */
#ifndef EP_PCAPFILE_H
#define EP_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define EP_PCAPFILE_MAX_CAPLEN 262144u /* libpcap's largest snapshot length */

struct ep_pcapfile {
	const uint8_t *base;
	size_t size;
	size_t off;         /* the next record header */
	int swap;           /* written on a host of the other byte order */
	uint32_t ts_mult;   /* 1000 for microsecond files, 1 for nanosecond ones */
	uint64_t records;
	int mapped;         /* base is ours to unmap */
	size_t released;    /* pages below this offset were given back (mapped files) */
};

/* How far ahead of the current record the walk loads the file (bytes). */
#define EP_PCAPFILE_PREFETCH 1024

/* Bytes of a mapped file walked past before they are unmapped: the mapping's share of RSS. */
#define EP_PCAPFILE_RELEASE (2u << 20)

struct ep_pcaprec {
	const uint8_t *data;
	uint32_t caplen, origlen;
	uint64_t ts_ns;
};

/*
 * Read the classic pcap file held in buf (len bytes; not copied, not freed).
 * @return 0, or 1 when buf does not start with a classic pcap header.
 */
int ep_pcapfile_init(struct ep_pcapfile *pf, const uint8_t *buf, size_t len);

/*
 * Map path when it is a regular file in the classic pcap format.
 * @return 0 mapped; 1 not for this reader (pcapng, a pipe, another magic: use
 *         libpcap); -1 with err set (the file named).
 */
int ep_pcapfile_open(const char *path, struct ep_pcapfile *pf, char *err, size_t errlen);

/*
 * The next record.
 * @return 1 a record; 0 the end of the file; -1 a truncated or impossible
 *         record, err set with its offset (the records before it were good).
 */
int ep_pcapfile_next_slow(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen);

/* Unmap the whole pages below offset upto, already read (they stay in the page cache). */
void ep_pcapfile_release(struct ep_pcapfile *pf, size_t upto);

static inline uint32_t ep_pcapfile_u32(const struct ep_pcapfile *pf, const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return pf->swap ? __builtin_bswap32(v) : v;
}

static inline int ep_pcapfile_next(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err,
				   size_t errlen)
{
	size_t start = pf->off, left = pf->size - start;
	const uint8_t *h = pf->base + start;
	uint32_t caplen;

	if (left < 16 || (caplen = ep_pcapfile_u32(pf, h + 8)) > EP_PCAPFILE_MAX_CAPLEN ||
	    caplen > left - 16)
		return ep_pcapfile_next_slow(pf, r, err, errlen);
	/* Records are read once, in order: load the bytes a few records ahead. */
	__builtin_prefetch(h + EP_PCAPFILE_PREFETCH);
	r->data = h + 16;
	r->caplen = caplen;
	r->origlen = ep_pcapfile_u32(pf, h + 12);
	r->ts_ns = (uint64_t)ep_pcapfile_u32(pf, h) * 1000000000ull +
		   (uint64_t)ep_pcapfile_u32(pf, h + 4) * pf->ts_mult;
	pf->off += 16 + (size_t)caplen;
	pf->records++;
	if (__builtin_expect(start - pf->released >= EP_PCAPFILE_RELEASE, 0))
		ep_pcapfile_release(pf, start);
	return 1;
}

void ep_pcapfile_close(struct ep_pcapfile *pf);

#endif /* EP_PCAPFILE_H */
