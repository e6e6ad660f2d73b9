/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pcapfile.c - the block reader of classic pcap files (probe/pcap/pcapfile.h):
 * a file read block by block hands out exactly the records that a walk of the
 * same bytes in memory does, across block ends, for records up to the largest
 * snapshot length, in both byte orders; a cut file stops at the same offset
 * with the same message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pcapfile.h"
#include "xorshift.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put32(struct buf *b, uint32_t v, int swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	put(b, &v, 4);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* A capture whose record lengths are chosen to cross block ends in every way. */
static void make_capture(struct buf *b, int swap, int nanos)
{
	static uint8_t payload[EP_PCAPFILE_MAX_CAPLEN + 16];
	uint32_t i, n;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	put32(b, nanos ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	put32(b, 0x00040002u, swap); /* version 2.4, as two 16-bit fields */
	put32(b, 0, swap);
	put32(b, 0, swap);
	put32(b, EP_PCAPFILE_MAX_CAPLEN, swap);
	put32(b, 1, swap); /* Ethernet */
	for (n = 0; b->len < 4u << 20; n++) {
		uint32_t caplen;

		switch (n % 200) {
		case 0:
			caplen = EP_PCAPFILE_MAX_CAPLEN; /* longer than a block */
			break;
		case 1:
			caplen = 0;
			break;
		case 2:
			caplen = EP_PCAPFILE_BLOCK - 40; /* about a block */
			break;
		case 3:
			caplen = EP_PCAPFILE_BLOCK / 2 + 17;
			break;
		default:
			caplen = 40 + (uint32_t)xorshift64(&rng) % 1500;
			break;
		}
		put32(b, 1700000000u + n, swap);
		put32(b, n * 13 % 1000000, swap);
		put32(b, caplen, swap);
		put32(b, caplen + n % 3, swap);
		put(b, payload + n % 16, caplen);
	}
}

static char *write_temp(const struct buf *b, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/ep-test-pcapfile-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, b->p, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

/* Walk the file and the same bytes in memory side by side. @return records walked. */
static uint64_t compare(const struct buf *b, size_t len, int want_end)
{
	struct ep_pcapfile f, m;
	struct ep_pcaprec rf, rm;
	char ef[256] = "", em[256] = "";
	char *path = write_temp(b, len);
	uint64_t n = 0;
	int a, c;

	CHECK_EQ(ep_pcapfile_open(path, &f, ef, sizeof(ef)), 0);
	CHECK_EQ(ep_pcapfile_init(&m, b->p, len), 0);
	for (;;) {
		a = ep_pcapfile_next(&f, &rf, ef, sizeof(ef));
		c = ep_pcapfile_next(&m, &rm, em, sizeof(em));
		if (a != c || a != 1)
			break;
		if (rf.caplen != rm.caplen || rf.origlen != rm.origlen || rf.ts_ns != rm.ts_ns ||
		    memcmp(rf.data, rm.data, rf.caplen)) {
			CHECK(!"the same record");
			break;
		}
		n++;
	}
	CHECK_EQ(a, c);
	CHECK_EQ(a, want_end);
	if (a != c || a != want_end)
		fprintf(stderr, "file: %s\nmemory: %s (after %llu records)\n", ef, em, (unsigned long long)n);
	if (a < 0) {
		CHECK(!strcmp(ef, em));
		CHECK(strstr(ef, "offset") != NULL);
	}
	ep_pcapfile_close(&f);
	ep_pcapfile_close(&m);
	unlink(path);
	return n;
}

int main(void)
{
	struct buf b = {0};
	int swap, nanos;

	for (swap = 0; swap < 2; swap++) {
		for (nanos = 0; nanos < 2; nanos++) {
			uint64_t all;
			size_t cut;

			b.len = 0;
			make_capture(&b, swap, nanos);
			all = compare(&b, b.len, 0);
			CHECK(all > 1000);
			/* Cut anywhere: in a header, in a long record, at a block end. */
			for (cut = 24 + 5; cut < b.len; cut += b.len / 13 + 4093)
				CHECK(compare(&b, cut, -1) < all);
			CHECK(compare(&b, EP_PCAPFILE_BLOCK + 1, -1) < all);
			/* An impossible capture length is refused where it is, not read. */
			{
				uint32_t bad = EP_PCAPFILE_MAX_CAPLEN + 1;

				if (swap)
					bad = __builtin_bswap32(bad);
				memcpy(b.p + 24 + 8, &bad, 4);
				CHECK_EQ(compare(&b, b.len, -1), 0);
			}
		}
	}
	/* Nanosecond timestamps keep their nanoseconds, microsecond ones are scaled. */
	{
		struct ep_pcapfile m;
		struct ep_pcaprec r;
		char err[256];

		b.len = 0;
		make_capture(&b, 0, 0);
		CHECK_EQ(ep_pcapfile_init(&m, b.p, b.len), 0);
		CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), 1);
		CHECK_EQ(r.ts_ns, 1700000000ull * 1000000000ull);
		CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), 1);
		CHECK_EQ(r.ts_ns, 1700000001ull * 1000000000ull + 13 * 1000);
		ep_pcapfile_close(&m);
	}
	free(b.p);
	CHECK_DONE();
}
