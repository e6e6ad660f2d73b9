/* SPDX-License-Identifier: BSD-3-Clause */
/* pcapfile.c - open a classic pcap or pcapng file; refill the block buffer; bad records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapfile.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
/* The buffer: a block, or the largest possible record when that is longer. */
#define BUF_SIZE (EP_PCAPFILE_BLOCK > EP_PCAPNG_MAX_BLOCK ? EP_PCAPFILE_BLOCK : EP_PCAPNG_MAX_BLOCK)

/* The format of a file's first four bytes: 0 native, 1 swapped, -1 not classic pcap. */
static int classify(uint32_t magic, uint32_t *ts_mult)
{
	if (magic == __builtin_bswap32(MAGIC_US) || magic == __builtin_bswap32(MAGIC_NS)) {
		*ts_mult = __builtin_bswap32(magic) == MAGIC_NS ? 1 : 1000;
		return 1;
	}
	if (magic == MAGIC_US || magic == MAGIC_NS) {
		*ts_mult = magic == MAGIC_NS ? 1 : 1000;
		return 0;
	}
	return -1;
}

int ep_pcapfile_init(struct ep_pcapfile *pf, const uint8_t *buf, size_t len)
{
	uint32_t magic, mult;
	int swap;

	memset(pf, 0, sizeof(*pf));
	pf->fd = -1;
	if (ep_pcapng_sniff(pf, buf, len)) {
		pf->ng = 1;
		pf->base = buf;
		pf->size = len;
		return 0;
	}
	if (len < 24)
		return 1;
	memcpy(&magic, buf, 4);
	swap = classify(magic, &mult);
	if (swap < 0)
		return 1;
	pf->base = buf;
	pf->size = len;
	pf->off = 24;
	pf->swap = swap;
	pf->ts_mult = mult;
	return 0;
}

int ep_pcapfile_open(const char *path, struct ep_pcapfile *pf, char *err, size_t errlen)
{
	struct stat st;
	uint32_t magic, mult = 0;
	uint8_t head[12];
	int fd, swap = 0, ng = 0;

	memset(pf, 0, sizeof(*pf));
	pf->fd = -1;
	if (!strcmp(path, "-"))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 24 ||
	    pread(fd, head, 12, 0) != 12) {
		close(fd);
		return 1; /* a pipe, or not a capture: libpcap says which */
	}
	memcpy(&magic, head, 4);
	ng = ep_pcapng_sniff(pf, head, 12);
	if (!ng && (swap = classify(magic, &mult)) < 0) {
		close(fd);
		return 1;
	}
	pf->buf = malloc(BUF_SIZE);
	if (!pf->buf) {
		close(fd);
		snprintf(err, errlen, "--read %s: out of memory", path);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	pf->fd = fd;
	pf->base = pf->buf;
	if (ng) {
		pf->ng = 1; /* swap set by the sniff; the section header is a block like others */
		return 0;
	}
	pf->swap = swap;
	pf->ts_mult = mult;
	pf->skip = 24; /* the header, read with the first block */
	return 0;
}

/*
 * Keep the unread tail, read behind it until the buffer holds a block (or the
 * whole of a longer record that the tail starts) or the file ends.  Only a
 * record longer than a block touches the buffer's last pages.
 */
int ep_pcapfile_refill(struct ep_pcapfile *pf, char *err, size_t errlen)
{
	size_t tail = pf->size - pf->off, want = EP_PCAPFILE_BLOCK;

	memmove(pf->buf, pf->base + pf->off, tail);
	pf->file_off += pf->off;
	pf->off = 0;
	pf->size = tail;
	if (pf->ng && tail >= 8) {
		uint32_t len = ep_pcapfile_u32(pf, pf->buf + 4);

		if (len <= EP_PCAPNG_MAX_BLOCK && (size_t)len > want)
			want = len;
	} else if (!pf->ng && tail >= 16) {
		uint32_t caplen = ep_pcapfile_u32(pf, pf->buf + 8);

		if (caplen <= EP_PCAPFILE_MAX_CAPLEN && 16 + (size_t)caplen > want)
			want = 16 + (size_t)caplen;
	}
	while (pf->size < want) {
		ssize_t n = read(pf->fd, pf->buf + pf->size, want - pf->size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "read error at offset %llu: %s",
				 (unsigned long long)(pf->file_off + pf->size), strerror(errno));
			return -1;
		}
		if (n == 0) {
			close(pf->fd);
			pf->fd = -1;
			break;
		}
		pf->size += (size_t)n;
	}
	return 0;
}

int ep_pcapfile_next_slow(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen)
{
	size_t left;
	uint32_t caplen;

	while (pf->fd >= 0) {
		/*
		 * The first block, or a record across the end of this one.  A second
		 * turn only when the file header was skipped in front of a record
		 * longer than the block: the refill then reads up to its end.
		 */
		int first = pf->skip != 0;

		if (ep_pcapfile_refill(pf, err, errlen) < 0)
			return -1;
		if (first) {
			pf->off = pf->size < pf->skip ? pf->size : pf->skip;
			pf->skip = 0;
		}
		if (ep_pcapfile_whole(pf) >= 0)
			return ep_pcapfile_next(pf, r, err, errlen);
		if (!first)
			break;
	}
	left = pf->size - pf->off;
	if (left == 0)
		return 0;
	if (left < 16) {
		snprintf(err, errlen, "truncated record header at offset %llu (%zu of 16 bytes)",
			 (unsigned long long)(pf->file_off + pf->off), left);
		return -1;
	}
	caplen = ep_pcapfile_u32(pf, pf->base + pf->off + 8);
	if (caplen > EP_PCAPFILE_MAX_CAPLEN)
		snprintf(err, errlen, "record at offset %llu: capture length %u is larger than %u",
			 (unsigned long long)(pf->file_off + pf->off), caplen, EP_PCAPFILE_MAX_CAPLEN);
	else
		snprintf(err, errlen, "truncated record at offset %llu: %u bytes captured, %zu left",
			 (unsigned long long)(pf->file_off + pf->off), caplen, left - 16);
	return -1;
}

void ep_pcapfile_close(struct ep_pcapfile *pf)
{
	if (pf->fd >= 0)
		close(pf->fd);
	free(pf->buf);
	memset(pf, 0, sizeof(*pf));
	pf->fd = -1;
}
