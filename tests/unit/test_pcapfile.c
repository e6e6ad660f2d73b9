/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pcapfile.c - the block reader of classic pcap and pcapng files
 * (probe/pcap/pcapfile.h): a file read block by block hands out exactly the
 * records that a walk of the same bytes in memory does, across block ends, for
 * records up to the largest snapshot length, in both byte orders (pcapng: two
 * sections of different byte orders, microsecond and nanosecond interfaces,
 * skipped and simple blocks); a cut file stops at the same offset with the same
 * message; impossible pcapng blocks are refused with their reason and offset.
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

static void put16(struct buf *b, uint16_t v, int swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	put(b, &v, 2);
}

/* A pcapng block: type, length, body (padded to 4), length again. */
static void ng_block(struct buf *b, uint32_t type, const struct buf *body, int swap)
{
	uint32_t len = 12 + (uint32_t)((body->len + 3) & ~(size_t)3);
	static const uint8_t pad[4];

	put32(b, type, swap);
	put32(b, len, swap);
	put(b, body->p, body->len);
	put(b, pad, (4 - body->len % 4) % 4);
	put32(b, len, swap);
}

static void ng_section(struct buf *b, int swap)
{
	struct buf body = {0};

	put32(&body, 0x1a2b3c4du, swap);
	put16(&body, 1, swap);
	put16(&body, 0, swap);
	put32(&body, 0xffffffffu, swap); /* section length: unknown */
	put32(&body, 0xffffffffu, swap);
	ng_block(b, 0x0a0d0d0au, &body, swap);
	free(body.p);
}

/* An interface: Ethernet, with if_tsresol res (0: none, microseconds). */
static void ng_if(struct buf *b, uint8_t res, int swap)
{
	struct buf body = {0};
	static const uint8_t pad[3];

	put16(&body, 1, swap);
	put16(&body, 0, swap);
	put32(&body, EP_PCAPFILE_MAX_CAPLEN, swap);
	if (res) {
		put16(&body, 9, swap); /* if_tsresol */
		put16(&body, 1, swap);
		put(&body, &res, 1);
		put(&body, pad, 3);
		put16(&body, 0, swap); /* opt_endofopt */
		put16(&body, 0, swap);
	}
	ng_block(b, 1, &body, swap);
	free(body.p);
}

/*
 * The pcapng twin of make_capture: two sections (the second in the other byte order),
 * interfaces in microseconds and nanoseconds, packet lengths that cross block ends,
 * blocks to skip (name resolution, statistics, a custom one) and a simple packet block.
 */
static void make_ng(struct buf *b, int swap)
{
	static uint8_t payload[EP_PCAPFILE_MAX_CAPLEN + 16];
	struct buf body = {0};
	uint32_t i, n, sec;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (sec = 0; sec < 2; sec++) {
		int sw = swap ^ (int)sec;

		ng_section(b, sw);
		ng_if(b, 0, sw);
		ng_if(b, 9, sw);
		for (n = 0; b->len < (sec + 1) * (2u << 20); n++) {
			uint32_t caplen = n % 200 == 0 ? EP_PCAPFILE_MAX_CAPLEN
					  : n % 200 == 1 ? 0
					  : n % 200 == 2 ? EP_PCAPFILE_BLOCK - 60
							 : 40 + (uint32_t)xorshift64(&rng) % 1500;
			uint64_t t = n % 2 ? (1700000000ull + n) * 1000000000ull + n
					   : (1700000000ull + n) * 1000000ull + n;

			body.len = 0;
			if (n % 97 == 5) { /* a statistics block: skipped */
				put32(&body, n % 2, sw);
				put32(&body, 0, sw);
				put32(&body, 0, sw);
				ng_block(b, 5, &body, sw);
				continue;
			}
			if (n % 151 == 7) { /* a simple packet block: no time */
				put32(&body, 60, sw);
				put(&body, payload, 60);
				ng_block(b, 3, &body, sw);
				continue;
			}
			put32(&body, n % 2, sw);
			put32(&body, (uint32_t)(t >> 32), sw);
			put32(&body, (uint32_t)t, sw);
			put32(&body, caplen, sw);
			put32(&body, caplen + n % 3, sw);
			put(&body, payload + n % 16, caplen);
			ng_block(b, 6, &body, sw);
		}
	}
	free(body.p);
}

/* Bytes that must be refused where they are, with the reason. */
static void ng_refused(int swap)
{
	struct buf b = {0};
	struct ep_pcapfile m;
	struct ep_pcaprec r;
	char err[256] = "";
	static const struct {
		size_t at;       /* byte offset in the first packet block */
		uint32_t value;
		const char *why;
	} cases[] = {
		{8, 7, "packet of an undescribed interface"},
		{4, 13, "impossible block length"},
		{20, 0x10000000u, "captured length past the block"},
		{4, EP_PCAPNG_MAX_BLOCK + 4, "block length larger than the largest packet"},
	};
	size_t first, k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t v = swap ? __builtin_bswap32(cases[k].value) : cases[k].value;

		b.len = 0;
		make_ng(&b, swap);
		/* The first enhanced packet block, after the section and its interfaces. */
		for (first = 0; ep_pcapfile_u32(&(struct ep_pcapfile){.swap = swap}, b.p + first) != 6;)
			first += ep_pcapfile_u32(&(struct ep_pcapfile){.swap = swap}, b.p + first + 4);
		memcpy(b.p + first + cases[k].at, &v, 4);
		CHECK_EQ(ep_pcapfile_init(&m, b.p, b.len), 0);
		CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), -1);
		if (!strstr(err, cases[k].why) || !strstr(err, "offset")) {
			fprintf(stderr, "want '%s': %s\n", cases[k].why, err);
			CHECK(!"the reason, with the offset");
		}
		ep_pcapfile_close(&m);
	}
	/* A second interface of another link type. */
	b.len = 0;
	ng_section(&b, swap);
	ng_if(&b, 0, swap);
	ng_if(&b, 0, swap);
	b.p[b.len - 12 + (swap ? 1 : 0)] = 113; /* Linux cooked capture */
	make_ng(&b, swap);
	CHECK_EQ(ep_pcapfile_init(&m, b.p, b.len), 0);
	CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, "another link type") != NULL);
	free(b.p);
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
	/* pcapng: the same walks, block ends crossed in every way, cut anywhere. */
	for (swap = 0; swap < 2; swap++) {
		uint64_t all;
		size_t cut;

		b.len = 0;
		make_ng(&b, swap);
		all = compare(&b, b.len, 0);
		CHECK(all > 500);
		for (cut = 29; cut < b.len; cut += b.len / 11 + 4093)
			CHECK(compare(&b, cut, -1) < all);
		ng_refused(swap);
	}
	{
		struct ep_pcapfile m;
		struct ep_pcaprec r;
		char err[256] = "";
		uint64_t n = 0, spb = 0;

		b.len = 0;
		make_ng(&b, 0);
		CHECK_EQ(ep_pcapfile_init(&m, b.p, b.len), 0);
		/* Record 0: microseconds (interface 0); record 1: nanoseconds (interface 1). */
		CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), 1);
		CHECK_EQ(r.ts_ns, 1700000000ull * 1000000000ull);
		CHECK_EQ(ep_pcapfile_next(&m, &r, err, sizeof(err)), 1);
		CHECK_EQ(r.ts_ns, 1700000001ull * 1000000000ull + 1);
		while (ep_pcapfile_next(&m, &r, err, sizeof(err)) == 1) {
			n++;
			spb += r.caplen == 60 && r.origlen == 60;
		}
		if (n <= 500 || !spb)
			fprintf(stderr, "%llu records, %llu simple: %s\n", (unsigned long long)n,
				(unsigned long long)spb, err);
		CHECK(n > 500 && spb > 0);
		ep_pcapfile_close(&m);
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
