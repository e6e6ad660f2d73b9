/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_asn.c - ASN loaders (CSV, numeric CSV, pfx2as), country files and their join
 * with the ASN ranges, longest-prefix match, bad lines, ISO 3166 codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "asn_map.h"
#include "check.h"
#include "country.h"
#include "netset.h"

static char dir[] = "/tmp/ep_asn_test_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char paths[8][256];
	static int n;
	char *p = paths[n++ % 8];
	FILE *fp;

	snprintf(p, 256, "%s/%s", dir, name);
	fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	return p;
}

static uint32_t look(const struct ep_asn_map *m, const char *addr, const char **org)
{
	uint8_t b[16] = {0};
	int fam = strchr(addr, ':') ? 6 : 4;

	inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, b);
	return ep_asn_map_lookup(m, fam, b, org);
}

struct pfx_check {
	const struct ep_asn_map *m;
	int family;
	unsigned n, bad;
	unsigned long long v4_addrs;
};

static int check_prefix(void *ctx, const uint8_t *addr, int len, uint32_t asn, uint16_t cc)
{
	uint16_t cc1 = 0xffff, cc2 = 0xffff;

	struct pfx_check *pc = ctx;
	int bits = pc->family == 4 ? 32 : 128, i;
	uint8_t last[16];

	memcpy(last, addr, 16);
	for (i = len; i < bits; i++)
		last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (i = len; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			pc->bad++; /* host bits set */
	if (ep_asn_map_lookup_cc(pc->m, pc->family == 4 ? 4 : 6, addr, NULL, &cc1) != asn ||
	    ep_asn_map_lookup_cc(pc->m, pc->family == 4 ? 4 : 6, last, NULL, &cc2) != asn || !asn ||
	    cc1 != cc || cc2 != cc)
		pc->bad++;
	if (pc->family == 4)
		pc->v4_addrs += 1ull << (32 - len);
	pc->n++;
	return 0;
}

static void test_csv(void)
{
	const char *f[3] = {
		write_file("v4.csv", "first_ip,last_ip,asn,org\n"
				     "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
				     "1.0.0.1,1.0.0.6,64500,\"Odd \"\"range\"\"\"\n"
				     "# a comment\n"
				     "\n"
				     "255.255.255.0,255.255.255.255,64511,Top\n"
				     "0.0.0.0,0.255.255.255,64510,\n"),
		write_file("v6.csv", "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64496,Doc\n"
				     "2001:db8:1::,2001:db8:1::ff,64497,Doc small\r\n"),
		NULL};
	struct ep_asn_map *m;
	struct ep_asn_map_info info;
	const char *org;
	char err[256];

	CHECK_EQ(ep_asn_map_load(f, &m, err, sizeof(err)), 0);
	if (!m) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ(look(m, "1.0.0.0", &org), 13335);
	CHECK(strcmp(org, "Cloudflare, Inc.") == 0);
	/* 1.0.0.1-1.0.0.6 splits into /32 /31 /31 /32 prefixes, more specific than the /24. */
	CHECK_EQ(look(m, "1.0.0.1", &org), 64500);
	CHECK(strcmp(org, "Odd \"range\"") == 0);
	CHECK_EQ(look(m, "1.0.0.6", NULL), 64500);
	CHECK_EQ(look(m, "1.0.0.7", NULL), 13335);
	CHECK_EQ(look(m, "1.0.0.255", NULL), 13335);
	CHECK_EQ(look(m, "1.0.1.0", &org), 0);
	CHECK(strcmp(org, "") == 0);
	CHECK_EQ(look(m, "255.255.255.255", NULL), 64511);
	CHECK_EQ(look(m, "0.0.0.0", NULL), 64510);
	CHECK_EQ(look(m, "2001:db8::1", NULL), 64496);
	CHECK_EQ(look(m, "2001:db8:1::ff", NULL), 64497);
	CHECK_EQ(look(m, "2001:db8:1::100", NULL), 64496);
	CHECK_EQ(look(m, "2001:db9::", NULL), 0);
	CHECK(strcmp(ep_asn_map_org(m, 64497), "Doc small") == 0);
	/* The prefixes for LPM tries: each maps, first and last address, to the map's answer. */
	{
		struct pfx_check pc = {m, 4, 0, 0, 0};

		CHECK_EQ(ep_asn_map_prefixes(m, 4, check_prefix, &pc), 0);
		pc.family = 6;
		CHECK_EQ(ep_asn_map_prefixes(m, 6, check_prefix, &pc), 0);
		CHECK_EQ(pc.bad, 0);
		CHECK(pc.n >= 10);
		/* v4 coverage: 1.0.0.0/24 (256) + 0.0.0.0/8 + 255.255.255.0/24, all of it. */
		CHECK_EQ(pc.v4_addrs, 256 + (1ull << 24) + 256);
	}
	ep_asn_map_info(m, &info);
	CHECK_EQ(info.lines, 6);
	CHECK_EQ(info.prefixes4, 1 + 4 + 1 + 1);
	ep_asn_map_free(m);
}

static void test_pfx2as_and_numeric(void)
{
	const char *f[3] = {
		write_file("p.pfx2as", "10.0.0.0\t8\t64501\n"
				       "10.1.0.0\t16\t64502_64503\n"
				       "10.1.2.0\t24\t{64504,64505}\n"
				       "10.1.0.0\t16\t64506\n" /* a later duplicate wins */
				       "2001:db8::\t32\t64507\n"),
		write_file("n.csv", "3221225984,3221226239,64508,Num\n"), /* 192.0.2.0/24 */
		NULL};
	struct ep_asn_map *m;
	char err[256];

	CHECK_EQ(ep_asn_map_load(f, &m, err, sizeof(err)), 0);
	if (!m) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ(look(m, "10.200.0.1", NULL), 64501);
	CHECK_EQ(look(m, "10.1.9.9", NULL), 64506);
	CHECK_EQ(look(m, "10.1.2.3", NULL), 64504);
	CHECK_EQ(look(m, "10.1.3.0", NULL), 64506);
	CHECK_EQ(look(m, "11.0.0.0", NULL), 0);
	CHECK_EQ(look(m, "2001:db8:5::1", NULL), 64507);
	CHECK_EQ(look(m, "192.0.2.77", NULL), 64508);
	ep_asn_map_free(m);
}

static void expect_error(const char *text, const char *name, int line, const char *reason)
{
	const char *f[2] = {write_file(name, text), NULL};
	struct ep_asn_map *m = NULL;
	char err[256], want[300];

	CHECK_EQ(ep_asn_map_load(f, &m, err, sizeof(err)), -EINVAL);
	CHECK(m == NULL);
	snprintf(want, sizeof(want), "%s:%d: %s", f[0], line, reason);
	if (strncmp(err, want, strlen(want)) != 0) {
		check_failed++;
		fprintf(stderr, "error message: got '%s', want prefix '%s'\n", err, want);
	}
}

static void test_bad_files(void)
{
	const char *missing[2] = {"/nonexistent/asn.csv", NULL};
	struct ep_asn_map *m;
	char err[256];

	expect_error("1.0.0.0,1.0.0.255,1,A\n1.0.1.0,1.0.1.x,2,B\n", "b1.csv", 2, "bad last address");
	expect_error("1.0.0.0,1.0.0.255\n", "b2.csv", 1, "expected 4 fields");
	expect_error("1.0.0.9,1.0.0.1,5,A\n", "b3.csv", 1, "last address is below the first");
	expect_error("1.0.0.0,::1,5,A\n", "b4.csv", 1, "first and last address are of different");
	expect_error("1.0.0.0,1.0.0.1,AS5,A\n", "b5.csv", 1, "bad ASN");
	expect_error("1.0.0.0,1.0.0.1,99999999999,A\n", "b6.csv", 1, "bad ASN");
	expect_error("1.0.0.0,1.0.0.1,5,\"unterminated\n", "b7.csv", 1, "unterminated quoted field");
	expect_error("10.0.0.0\t33\t5\n", "b8.pfx2as", 1, "bad prefix length");
	expect_error("10.0.0.1\t8\t5\n", "b9.pfx2as", 1, "prefix 10.0.0.1/8 has host bits set");
	expect_error("10.0.0.0\t8\n", "b10.pfx2as", 1, "expected 3 tab-separated fields");
	expect_error("10.0.0.0\t8\tx\n", "b11.pfx2as", 1, "bad origin AS");
	expect_error("1.0.0.0,1.0.0.255,DE\n1.0.1.0,1.0.1.255,XX\n", "c1.csv", 2,
		     "'XX' is not an ISO 3166-1 alpha-2 country code");
	expect_error("1.0.0.0,1.0.0.255,DE\n1.0.1.0,1.0.1.255,de\n", "c2.csv", 2,
		     "'de' is not an ISO 3166-1 alpha-2 country code");
	expect_error("1.0.0.0,1.0.0.255,DE\n1.0.1.0,1.0.1.255,DE,x\n", "c3.csv", 2,
		     "expected 3 fields");
	expect_error("1.0.0.0,1.0.0.255,DE\n1.0.2.0,1.0.1.255,FR\n", "c4.csv", 2,
		     "last address is below the first");
	CHECK_EQ(ep_asn_map_load(missing, &m, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/asn.csv") != NULL);
}

static void test_netset(void)
{
	struct ep_netset s = {0};
	uint8_t a[16] = {192, 0, 2, 200}, b[16] = {192, 0, 3, 1}, c[16] = {0x20, 0x01, 0x0d, 0xb8, 0x80};
	char err[128];

	CHECK_EQ(ep_netset_parse(&s, "192.0.2.0/24,2001:db8:8000::/33,198.51.100.7", err, sizeof(err)), 0);
	CHECK(ep_netset_contains(&s, 4, a));
	CHECK(!ep_netset_contains(&s, 4, b));
	CHECK(ep_netset_contains(&s, 6, c));
	c[4] = 0x7f;
	CHECK(!ep_netset_contains(&s, 6, c));
	CHECK_EQ(ep_netset_parse(&s, "192.0.2.0/33", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "192.0.2.0/33") != NULL);
}

static uint16_t cc_of(const char *a)
{
	return ep_cc_parse(a, strlen(a));
}

/* The country of addr in m as two letters ("" for none), with its ASN into *asn. */
static const char *look_cc(const struct ep_asn_map *m, const char *addr, uint32_t *asn)
{
	static char out[3];
	uint8_t b[16] = {0};
	int fam = strchr(addr, ':') ? 6 : 4;
	uint16_t cc = 0xffff;

	inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, b);
	*asn = ep_asn_map_lookup_cc(m, fam, b, NULL, &cc);
	return ep_cc_str(cc, out);
}

static void test_country_codes(void)
{
	char s[3];

	CHECK_EQ(ep_cc_parse("AA", 2), 0); /* not assigned */
	CHECK_EQ(ep_cc_parse("ZZ", 2), 0);
	CHECK_EQ(ep_cc_parse("de", 2), 0);
	CHECK_EQ(ep_cc_parse("DEU", 3), 0);
	CHECK_EQ(ep_cc_parse("D", 1), 0);
	CHECK_EQ(ep_cc_parse("AD", 2), 4);   /* A=0, D=3: 0 * 26 + 3 + 1 */
	CHECK_EQ(ep_cc_parse("ZW", 2), 25 * 26 + 22 + 1);
	CHECK(strcmp(ep_cc_str(cc_of("DE"), s), "DE") == 0);
	CHECK(strcmp(ep_cc_str(0, s), "") == 0);
	CHECK(strcmp(ep_cc_name(cc_of("DE")), "Germany") == 0);
	CHECK(strcmp(ep_cc_name(0), "") == 0);
	CHECK_EQ(ep_cc_numeric(cc_of("DE")), 276);
	CHECK_EQ(ep_cc_numeric(cc_of("AD")), 20);
	CHECK_EQ(ep_cc_numeric(0), 0);
	CHECK(ep_ncountries >= 249);
	for (unsigned i = 0; i < ep_ncountries; i++) { /* every code round-trips */
		uint16_t cc = ep_cc_parse(ep_countries[i].alpha2, 2);

		if (!cc || strcmp(ep_cc_str(cc, s), ep_countries[i].alpha2) != 0)
			CHECK(!"a code does not round-trip");
	}
}

/*
 * ASN ranges joined with country ranges: an ASN range across two countries splits,
 * a country range without an ASN gives AS 0 with no country, an ASN range
 * without a country keeps its ASN with none; lookups, prefixes and counts agree.
 */
static void test_countries(void)
{
	const char *f[5] = {
		write_file("asn4.csv", "10.0.0.0,10.0.255.255,64500,Two Lands\n"
				       "10.1.0.0,10.1.0.255,64501,Nowhere\n"
				       "10.2.0.0,10.2.0.255,64502,Inner\n"),
		write_file("cc4.csv", "10.0.0.0,10.0.127.255,DE\n"
				      "10.0.128.0,10.0.255.255,FR\n"
				      "10.3.0.0,10.3.0.255,JP\n"
				      "10.2.0.0,10.2.255.255,BR\n"),
		write_file("asn6.csv", "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64496,Doc\n"),
		write_file("cc6.csv", "2001:db8:8000::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,NL\n"),
		NULL};
	struct ep_asn_map *m;
	struct ep_asn_map_info info;
	char err[256];
	uint32_t asn;

	CHECK_EQ(ep_asn_map_load(f, &m, err, sizeof(err)), 0);
	if (!m)
		return;
	CHECK(strcmp(look_cc(m, "10.0.0.1", &asn), "DE") == 0 && asn == 64500);
	CHECK(strcmp(look_cc(m, "10.0.127.255", &asn), "DE") == 0 && asn == 64500);
	CHECK(strcmp(look_cc(m, "10.0.128.0", &asn), "FR") == 0 && asn == 64500);
	CHECK(strcmp(look_cc(m, "10.0.255.255", &asn), "FR") == 0 && asn == 64500);
	CHECK(strcmp(look_cc(m, "10.1.0.7", &asn), "") == 0 && asn == 64501);
	CHECK(strcmp(look_cc(m, "10.2.0.9", &asn), "BR") == 0 && asn == 64502);
	/* AS 0 has no country, though the country file names one (as in the BPF tries). */
	CHECK(strcmp(look_cc(m, "10.2.1.0", &asn), "") == 0 && asn == 0);
	CHECK(strcmp(look_cc(m, "10.3.0.1", &asn), "") == 0 && asn == 0);
	CHECK(strcmp(look_cc(m, "10.4.0.1", &asn), "") == 0 && asn == 0);
	CHECK(strcmp(look_cc(m, "2001:db8::1", &asn), "") == 0 && asn == 64496);
	CHECK(strcmp(look_cc(m, "2001:db8:8000::1", &asn), "NL") == 0 && asn == 64496);
	CHECK(strcmp(ep_asn_map_org(m, 64500), "Two Lands") == 0);
	ep_asn_map_info(m, &info);
	CHECK_EQ(info.lines, 4);
	CHECK_EQ(info.cc_lines, 5);
	CHECK_EQ(info.countries, 5);
	/* DE, FR | none | BR+64502, BR alone | JP */
	CHECK_EQ(info.intervals4, 6);
	CHECK_EQ(info.intervals6, 2);
	{
		struct pfx_check pc = {m, 4, 0, 0, 0};

		/* Prefixes still give the ASN; AS 0 ranges (country only) are not prefixes. */
		CHECK_EQ(ep_asn_map_prefixes(m, 4, check_prefix, &pc), 0);
		CHECK_EQ(pc.bad, 0);
		CHECK_EQ(pc.v4_addrs, 65536 + 256 + 256);
	}
	ep_asn_map_free(m);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_country_codes();
	test_countries();
	test_csv();
	test_pfx2as_and_numeric();
	test_bad_files();
	test_netset();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	CHECK_DONE();
}
