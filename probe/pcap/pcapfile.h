/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapfile.h - capture files read in blocks: the file is read 256 KiB at a
 * time into one reused buffer (with room for the largest record) and its
 * records are walked there, without a copy per record (on this project's test
 * VM, reading blocks costs less than faulting in a mapping of the file, and a
 * small buffer is faulted in once).  Classic pcap records are walked inline;
 * pcapng (Wireshark's and dumpcap's default) by pcapng.c: enhanced and simple
 * packet blocks, interfaces with their timestamp resolution, several sections,
 * either byte order; other blocks are skipped.  libpcap still opens the file
 * (it validates the header, maps the link type, compiles filters) and reads
 * everything this reader does not take: pipes and stdin.  Every record or block
 * header is checked against the bytes that remain.
 */
#ifndef EP_PCAPFILE_H
#define EP_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define EP_PCAPFILE_MAX_CAPLEN 262144u /* libpcap's largest snapshot length */
#define EP_PCAPFILE_BLOCK (256u << 10) /* bytes read at once (more for a larger record) */
#define EP_PCAPNG_MAX_BLOCK (EP_PCAPFILE_MAX_CAPLEN + 4096u) /* a packet block, options included */
#define EP_PCAPNG_MAX_IF 64u               /* interfaces in one section */

/* A pcapng interface: its link type and how its timestamps become nanoseconds. */
struct ep_pcapng_if {
	uint16_t linktype;
	uint32_t snaplen;
	uint64_t mult;       /* ns per unit when whole (units of 10^-k s, k <= 9), else 0 */
	uint64_t per_s;      /* units per second */
};

struct ep_pcapfile {
	const uint8_t *base; /* the buffer (or the caller's memory) */
	size_t size;         /* valid bytes in it */
	size_t off;          /* the next record header in it */
	uint64_t file_off;   /* file offset of base[0] */
	int fd;              /* -1 once the whole input is in base */
	uint32_t skip;       /* the file header, skipped after the first read */
	uint8_t *buf;        /* ours to free */
	int swap;            /* written on a host of the other byte order */
	uint32_t ts_mult;    /* 1000 for microsecond files, 1 for nanosecond ones */
	uint64_t records;
	/* pcapng */
	int ng;
	int have_lt;         /* linktype is the file's (its first interface's) */
	uint16_t linktype;
	uint32_t nif;
	uint64_t last_ts_ns; /* for simple packet blocks, which carry no time */
	struct ep_pcapng_if ifs[EP_PCAPNG_MAX_IF];
};

struct ep_pcaprec {
	const uint8_t *data; /* valid until the next call */
	uint32_t caplen, origlen;
	uint64_t ts_ns;
};

/*
 * Read the classic pcap or pcapng file held in buf (len bytes; not copied, not freed).
 * @return 0, or 1 when buf does not start with a pcap or pcapng header.
 */
int ep_pcapfile_init(struct ep_pcapfile *pf, const uint8_t *buf, size_t len);

/*
 * Open path when it is a regular file in the classic pcap or pcapng format.
 * @return 0 open; 1 not for this reader (a pipe, another magic: use libpcap);
 *         -1 with err set (the file named).
 */
int ep_pcapfile_open(const char *path, struct ep_pcapfile *pf, char *err, size_t errlen);

/*
 * The next record when the buffer does not hold it whole: read on, or say why not.
 * @return as ep_pcapfile_next().
 */
int ep_pcapfile_next_slow(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen);

static inline uint32_t ep_pcapfile_u32(const struct ep_pcapfile *pf, const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return pf->swap ? __builtin_bswap32(v) : v;
}

/*
 * The next record.
 * @return 1 a record; 0 the end of the file; -1 a truncated or impossible
 *         record or a read error, err set with its file offset (the records
 *         before it were good).
 */
/* The next record's capture length when the buffer holds it whole and it is possible, else -1. */
static inline int64_t ep_pcapfile_whole(const struct ep_pcapfile *pf)
{
	size_t left = pf->size - pf->off;
	uint32_t caplen;

	if (left < 16)
		return -1;
	caplen = ep_pcapfile_u32(pf, pf->base + pf->off + 8);
	return caplen > EP_PCAPFILE_MAX_CAPLEN || caplen > left - 16 ? -1 : (int64_t)caplen;
}

/* pcapng.c: the next packet block of a pcapng file (as ep_pcapfile_next). */
int ep_pcapng_next(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen);

/* pcapng.c: does buf start a pcapng section (12 bytes)? Sets pf->swap when it does. */
int ep_pcapng_sniff(struct ep_pcapfile *pf, const uint8_t *buf, size_t len);

/*
 * pcapfile.c: keep the unread tail, read on until the buffer holds a block (or
 * all of a longer record or pcapng block that the tail starts) or the file ends.
 * @return 0 or -1 with err set.
 */
int ep_pcapfile_refill(struct ep_pcapfile *pf, char *err, size_t errlen);

static inline int ep_pcapfile_next(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err,
				   size_t errlen)
{
	const uint8_t *h = pf->base + pf->off;
	int64_t whole;
	uint32_t caplen;

	if (pf->ng)
		return ep_pcapng_next(pf, r, err, errlen);
	whole = ep_pcapfile_whole(pf);
	if (whole < 0)
		return ep_pcapfile_next_slow(pf, r, err, errlen);
	caplen = (uint32_t)whole;
	r->data = h + 16;
	r->caplen = caplen;
	r->origlen = ep_pcapfile_u32(pf, h + 12);
	r->ts_ns = (uint64_t)ep_pcapfile_u32(pf, h) * 1000000000ull +
		   (uint64_t)ep_pcapfile_u32(pf, h + 4) * pf->ts_mult;
	pf->off += 16 + (size_t)caplen;
	pf->records++;
	return 1;
}

void ep_pcapfile_close(struct ep_pcapfile *pf);

#endif /* EP_PCAPFILE_H */
