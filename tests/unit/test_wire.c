/* SPDX-License-Identifier: BSD-3-Clause */
/* test_wire.c - window -> messages -> window round trip, part splitting, hostile messages. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hmac.h"
#include "country.h"
#include "wire.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;
/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

#define NASNS 300

struct sink {
	uint8_t *msg[1024];
	size_t len[1024];
	int n;
};

static int collect(const uint8_t *msg, size_t len, void *ctx)
{
	struct sink *s = ctx;

	s->msg[s->n] = malloc(len);
	memcpy(s->msg[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

static void test_round_trip(void)
{
	static struct ep_window_asn asns[NASNS];
	struct ep_hist *h[NASNS];
	struct ep_window w;
	struct sink s = {0};
	uint32_t i, got = 0, k;
	int parts, m, bad = 0;

	memset(&w, 0, sizeof(w));
	w.type = EP_WIN_WINDOW;
	w.probe = "edge-1";
	w.epoch = 1234567890123ull;
	w.seq = 77;
	w.start_ns = 5000000000ull;
	w.end_ns = 5100000000ull;
	w.stats[EP_ST_packets] = 99;
	w.stats[EP_ST_PARSE_BAD_TCP_OPTLEN] = 3;
	w.src[0] = (struct ep_source_stats){EP_SRC_PORT, 3, {100, 2, 1, 0}};
	w.src[1] = (struct ep_source_stats){EP_SRC_WORKER, 1, {98, 7, 0, 222}};
	w.nsrc = 2;
	for (i = 0; i < NASNS; i++) {
		ep_hist_new(1, 60000000, 2, &h[i]);
		for (k = 0; k <= i % 17; k++)
			ep_hist_record(h[i], 1000 * (i + 1) + k * 37);
		asns[i].asn = 64500 + i;
		asns[i].cc = i % 3 ? ep_cc_parse(i % 3 == 1 ? "DE" : "BR", 2) : 0;
		asns[i].org = i % 2 ? "Org \"quoted\"" : "";
		for (k = 0; k < EP_AC__COUNT; k++)
			asns[i].c[k] = i * 10 + k;
		asns[i].h[EP_AH_RTT_DATA] = h[i];
	}
	w.asns = asns;
	w.nasns = NASNS;
	parts = ep_wire_encode(&t_enc, &w, 1400, collect, &s);
	CHECK(parts > 10);
	CHECK_EQ(parts, s.n);
	for (m = 0; m < s.n; m++) {
		struct ep_wire_msg d;

		CHECK(s.len[m] <= 1400);
		CHECK_EQ(ep_wire_decode(&t_codec, s.msg[m], s.len[m], &d), EP_WIRE_OK);
		CHECK_EQ(d.seq, 77 + (uint64_t)m);
		CHECK_EQ(d.part, m);
		CHECK_EQ(d.parts, parts);
		CHECK_EQ(d.has_stats, m == 0);
		CHECK(strcmp(d.probe, "edge-1") == 0);
		if (m == 0) {
			CHECK_EQ(d.stats[EP_ST_packets], 99);
			CHECK_EQ(d.stats[EP_ST_PARSE_BAD_TCP_OPTLEN], 3);
			CHECK_EQ(d.nsrc, 2);
			CHECK_EQ(d.src[0].kind, EP_SRC_PORT);
			CHECK_EQ(d.src[0].id, 3);
			CHECK_EQ(d.src[0].v[1], 2);
			CHECK_EQ(d.src[1].kind, EP_SRC_WORKER);
			CHECK_EQ(d.src[1].v[3], 222);
		} else {
			CHECK_EQ(d.nsrc, 0);
		}
		for (i = 0; i < d.nasns; i++, got++) {
			const struct ep_window_asn *a = &d.asns[i], *o = &asns[got];

			bad += a->asn != o->asn || a->cc != o->cc || strcmp(a->org, o->org) != 0 ||
			       a->c[EP_AC_retx_in] != o->c[EP_AC_retx_in] || a->h[EP_AH_RTT_HS] != NULL ||
			       !a->h[EP_AH_RTT_DATA] || a->h[EP_AH_RTT_DATA]->total != o->h[EP_AH_RTT_DATA]->total ||
			       ep_hist_percentile(a->h[EP_AH_RTT_DATA], 99) !=
				       ep_hist_percentile(o->h[EP_AH_RTT_DATA], 99);
		}
		ep_wire_msg_free(&d);
	}
	CHECK_EQ(got, NASNS);
	CHECK_EQ(bad, 0);

	/* Every truncation and every single-byte corruption of a message: no crash, and truncations rejected. */
	for (m = 0; m < 2; m++) {
		size_t cut;

		for (cut = 0; cut < s.len[m]; cut++) {
			struct ep_wire_msg d;

			CHECK(ep_wire_decode(&t_codec, s.msg[m], cut, &d) != EP_WIRE_OK);
		}
		for (cut = 0; cut < s.len[m]; cut++) {
			struct ep_wire_msg d;

			s.msg[m][cut] ^= 0xff;
			if (ep_wire_decode(&t_codec, s.msg[m], s.len[m], &d) == EP_WIRE_OK)
				ep_wire_msg_free(&d);
			s.msg[m][cut] ^= 0xff;
		}
	}
	{
		struct ep_wire_msg d;

		s.msg[0][0] = 'X';
		CHECK_EQ(ep_wire_decode(&t_codec, s.msg[0], s.len[0], &d), EP_WIRE_E_MAGIC);
		s.msg[0][0] = 0x45;
		s.msg[0][4] = 9;
		CHECK_EQ(ep_wire_decode(&t_codec, s.msg[0], s.len[0], &d), EP_WIRE_E_VERSION);
		s.msg[0][4] = 2; /* the previous version (no country): refused */
		CHECK_EQ(ep_wire_decode(&t_codec, s.msg[0], s.len[0], &d), EP_WIRE_E_VERSION);
		s.msg[0][4] = EP_WIRE_VERSION;
	}
	{
		/* A country that ISO 3166-1 does not assign: refused with its own reason. */
		struct ep_wire_msg d;
		uint8_t *de = memmem(s.msg[1], s.len[1], "DE", 2);

		CHECK(de != NULL);
		if (de) {
			de[0] = 'Q';
			de[1] = 'Q';
			CHECK_EQ(ep_wire_decode(&t_codec, s.msg[1], s.len[1], &d), EP_WIRE_E_COUNTRY);
		}
	}
	for (m = 0; m < s.n; m++)
		free(s.msg[m]);
	for (i = 0; i < NASNS; i++)
		ep_hist_free(h[i]);
	/* Probe ids are required and bounded. */
	w.probe = "";
	CHECK(ep_wire_encode(&t_enc, &w, 1400, collect, &s) < 0);
}

/* RFC 4231 test cases 2 and 6 (a key longer than the block), through libcrypto loaded on demand. */
static void test_hmac_vectors(void)
{
	static const uint8_t want2[EP_HMAC_SHA256_BYTES] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	static const uint8_t want6[EP_HMAC_SHA256_BYTES] = {
		0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26,
		0xaa, 0xcb, 0xf5, 0xb7, 0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28,
		0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54};
	const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t key6[131], out[EP_HMAC_SHA256_BYTES];
	CHECK_EQ(ep_hmac_sha256((const uint8_t *)"Jefe", 4,
				(const uint8_t *)"what do ya want for nothing?", 28, out), 0);
	CHECK(ep_hmac_equal(out, want2, sizeof(out)));
	memset(key6, 0xaa, sizeof(key6));
	CHECK_EQ(ep_hmac_sha256(key6, sizeof(key6), (const uint8_t *)msg6, strlen(msg6), out), 0);
	CHECK(ep_hmac_equal(out, want6, sizeof(out)));
	out[31] ^= 1;
	CHECK(!ep_hmac_equal(out, want6, sizeof(out)));
}

/* --key-file, one reader for probes and collector: the first line of a regular file. */
static void test_key_file(void)
{
	char dir[] = "/tmp/ep-key-XXXXXX", path[64], err[300];
	uint8_t key[256];
	int loose = -1;
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/k", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("s3cret\r\nsecond line\n", fp);
	fclose(fp);
	chmod(path, 0600);
	CHECK_EQ(ep_hmac_key_read(path, key, sizeof(key), &loose, err, sizeof(err)), 6);
	CHECK(!memcmp(key, "s3cret", 6));
	CHECK_EQ(loose, 0);
	chmod(path, 0644);
	CHECK_EQ(ep_hmac_key_read(path, key, sizeof(key), &loose, err, sizeof(err)), 6);
	CHECK_EQ(loose, 1);
	fp = fopen(path, "w"); /* an empty first line */
	fputs("\nkey on the second line\n", fp);
	fclose(fp);
	CHECK_EQ(ep_hmac_key_read(path, key, sizeof(key), &loose, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "1..255 bytes on its first line") != NULL);
	fp = fopen(path, "w"); /* longer than the key room */
	for (int i = 0; i < 300; i++)
		fputc('k', fp);
	fclose(fp);
	CHECK_EQ(ep_hmac_key_read(path, key, sizeof(key), &loose, err, sizeof(err)), -EINVAL);
	CHECK_EQ(ep_hmac_key_read(dir, key, sizeof(key), &loose, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a regular file") != NULL);
	CHECK_EQ(ep_hmac_key_read("/nonexistent/k", key, sizeof(key), &loose, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "No such file") != NULL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_round_trip();
	test_hmac_vectors();
	test_key_file();
	CHECK_DONE();
}
