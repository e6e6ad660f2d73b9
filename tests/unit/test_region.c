/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_region.c - region files: the shipped UN M49 file (every assigned country but
 * those M49 leaves out, continuation lines), an operator's EMEA/APAC/AMER file, and
 * each refusal with the line it names.
 * Usage: test_region REGIONS_M49_INI
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "country.h"
#include "region.h"

static struct ep_regions r;

static uint16_t cc(const char *a)
{
	return ep_cc_parse(a, 2);
}

static void expect(const char *text, const char *want)
{
	char err[256] = "";

	CHECK_EQ(ep_regions_parse(text, "r.ini", &r, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want)) {
		fprintf(stderr, "want '%s', got '%s'\n", want, err);
		CHECK(!"the error names the line and the reason");
	}
	CHECK_EQ(r.n, 0);
}

int main(int argc, char **argv)
{
	char err[256] = "";

	if (argc != 2)
		return 2;
	/* The shipped default: UN M49 sub-regions. */
	CHECK_EQ(ep_regions_load(argv[1], &r, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	CHECK_EQ(r.n, 17);
	CHECK_EQ(r.countries, 247); /* 249 assigned codes less AQ and TW, which M49 places nowhere */
	CHECK(strcmp(ep_region_name(&r, ep_region_of(&r, cc("DE"))), "Western Europe") == 0);
	CHECK(strcmp(ep_region_name(&r, ep_region_of(&r, cc("BR"))),
		     "Latin America and the Caribbean") == 0);
	/* A continuation line: PR is on the third line of its section. */
	CHECK(ep_region_of(&r, cc("PR")) == ep_region_of(&r, cc("AG")));
	CHECK(strcmp(ep_region_name(&r, ep_region_of(&r, cc("KE"))), "Sub-Saharan Africa") == 0);
	CHECK_EQ(ep_region_of(&r, cc("TW")), EP_REGION_NONE);
	CHECK_EQ(ep_region_of(&r, EP_CC_NONE), EP_REGION_NONE);
	CHECK(strcmp(ep_region_name(&r, EP_REGION_NONE), "") == 0);

	/* An operator's own, commas and spaces, the key repeated. */
	CHECK_EQ(ep_regions_parse("# ours\n[EMEA]\ncountries = DE, FR,GB\ncountries = ZA\n"
				  "[APAC]\ncountries = JP SG\n[AMER]\ncountries=US BR\n",
				  "own.ini", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(r.countries, 8);
	CHECK_EQ(ep_region_of(&r, cc("ZA")), ep_region_find(&r, "EMEA"));
	CHECK_EQ(ep_region_of(&r, cc("SG")), ep_region_find(&r, "APAC"));
	CHECK_EQ(ep_region_of(&r, cc("CN")), EP_REGION_NONE);
	CHECK_EQ(ep_region_find(&r, "emea"), EP_REGION_NONE);

	expect("[EU]\ncountries = DE XX\n", "r.ini:2: 'XX' is not an ISO 3166-1 alpha-2");
	expect("[EU]\ncountries = de\n", "r.ini:2: 'de' is not an ISO 3166-1 alpha-2");
	expect("[EU]\ncountries = DEU\n", "r.ini:2: 'DEU' is not an ISO 3166-1 alpha-2");
	expect("[EU]\ncountries = DE\n[DACH]\ncountries = AT DE\n",
	       "r.ini:4: DE is already in region 'EU' (line 2)");
	expect("countries = DE\n", "r.ini:1: 'countries' outside a [region] section");
	expect("[EU]\nmembers = DE\n", "r.ini:2: unknown key 'members'");
	expect("[EU]\ncountries = DE\n[US]\ncountries = US\n[EU]\ncountries = FR\n",
	       "r.ini:5: region 'EU' is defined twice");
	expect("[EU]\ncountries = DE\n[Empty]\n", "r.ini:3: region 'Empty' has no countries");
	expect("[Empty]\n# nothing\n[EU]\ncountries = DE\n", "r.ini:1: region 'Empty' has no countries");
	expect("[EU]\ncountries = , ,\n", "r.ini:1: region 'EU' has no countries");
	expect("[EU]\ncountries = DE\njunk\n", "r.ini:3: not an INI line");
	expect("[This name is far too long for a region because it goes on and on and on]\n"
	       "countries = DE\n", "r.ini:1: region name");
	CHECK_EQ(ep_regions_load("/nonexistent/regions.ini", &r, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/regions.ini") != NULL);
	CHECK_DONE();
}
