/* SPDX-License-Identifier: BSD-3-Clause */
/* pcapfile.c - map a classic pcap file; the slow path of the record walk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcapfile.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du

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
	uint32_t magic, mult;
	void *m;
	int fd;

	memset(pf, 0, sizeof(*pf));
	if (!strcmp(path, "-"))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
		close(fd);
		return 1; /* a pipe, a device, or too short to hold a header: libpcap says which */
	}
	if (pread(fd, &magic, 4, 0) != 4 || classify(magic, &mult) < 0) {
		close(fd);
		return 1; /* pcapng, or not a capture: libpcap says which */
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "--read %s: mmap: %s", path, strerror(errno));
		return -1;
	}
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	madvise(m, (size_t)st.st_size, MADV_WILLNEED);
	ep_pcapfile_init(pf, m, (size_t)st.st_size);
	pf->mapped = 1;
	return 0;
}

int ep_pcapfile_next_slow(struct ep_pcapfile *pf, struct ep_pcaprec *r, char *err, size_t errlen)
{
	size_t left = pf->size - pf->off;
	uint32_t caplen;

	(void)r;
	if (left == 0)
		return 0;
	if (left < 16) {
		snprintf(err, errlen, "truncated record header at offset %zu (%zu of 16 bytes)", pf->off,
			 left);
		return -1;
	}
	caplen = ep_pcapfile_u32(pf, pf->base + pf->off + 8);
	if (caplen > EP_PCAPFILE_MAX_CAPLEN)
		snprintf(err, errlen, "record at offset %zu: capture length %u is larger than %u", pf->off,
			 caplen, EP_PCAPFILE_MAX_CAPLEN);
	else
		snprintf(err, errlen, "truncated record at offset %zu: %u bytes captured, %zu left",
			 pf->off, caplen, left - 16);
	return -1;
}

void ep_pcapfile_release(struct ep_pcapfile *pf, size_t upto)
{
	size_t end = upto & ~(size_t)4095; /* the mapping starts on a page */

	if (end <= pf->released)
		return;
	if (pf->mapped)
		madvise((void *)(pf->base + pf->released), end - pf->released, MADV_DONTNEED);
	pf->released = end;
}

void ep_pcapfile_close(struct ep_pcapfile *pf)
{
	if (pf->mapped)
		munmap((void *)pf->base, pf->size);
	memset(pf, 0, sizeof(*pf));
}
