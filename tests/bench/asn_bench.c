/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * asn_bench.c - the ASN data with and without the country files (issue 19): load time,
 * memory, intervals, lookup cost and how many ASNs span several countries, on the
 * real data (scripts/bench).  Each figure is the best of 3 runs; the ratio is against
 * the ASN-only map in the same run.
 * Usage: asn_bench ASN_DIR   (asn-ipv4.csv, asn-ipv6.csv, asn-country-ipv{4,6}.csv)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asn_map.h"
#include "country.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct run {
	double load_s, lookup_ns;
	struct ep_asn_map_info info;
	unsigned multi;
};

/* ASNs (below 2^20) seen in >= 2 countries over every IPv4 /24. */
static unsigned multi_country(const struct ep_asn_map *m)
{
	static uint16_t first_cc[1u << 20];
	static uint8_t multi[1u << 20];
	unsigned n = 0;
	uint64_t a;

	memset(first_cc, 0, sizeof(first_cc));
	memset(multi, 0, sizeof(multi));
	for (a = 0; a < (1ull << 32); a += 256) {
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), 0};
		uint16_t cc;
		uint32_t asn = ep_asn_map_lookup_cc(m, 4, b, NULL, &cc);

		if (!asn || !cc || asn >= (1u << 20))
			continue;
		if (!first_cc[asn])
			first_cc[asn] = cc;
		else if (first_cc[asn] != cc && !multi[asn]) {
			multi[asn] = 1;
			n++;
		}
	}
	return n;
}

static int one(const char *const *files, struct run *r, int sweep)
{
	static uint8_t addrs[1 << 20][4];
	struct ep_asn_map *m;
	char err[512];
	double t0 = now_s();
	uint32_t sink = 0, seed = 12345;
	int i;

	if (ep_asn_map_load(files, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "asn_bench: %s\n", err);
		return -1;
	}
	r->load_s = now_s() - t0;
	ep_asn_map_info(m, &r->info);
	for (i = 0; i < 1 << 20; i++) {
		seed = seed * 1103515245u + 12345u;
		memcpy(addrs[i], &seed, 4);
	}
	t0 = now_s();
	for (i = 0; i < 1 << 20; i++)
		sink += ep_asn_map_lookup(m, 4, addrs[i], NULL);
	r->lookup_ns = (now_s() - t0) * 1e9 / (1 << 20);
	r->multi = sweep ? multi_country(m) : 0;
	ep_asn_map_free(m);
	return sink == 0xffffffffu; /* keep the lookups */
}

int main(int argc, char **argv)
{
	char p[4][512];
	const char *asn_only[3] = {p[0], p[1], NULL}, *with_cc[5] = {p[0], p[1], p[2], p[3], NULL};
	struct run best[2], r;
	int k, rep;

	if (argc != 2) {
		fprintf(stderr, "usage: asn_bench ASN_DIR\n");
		return 2;
	}
	snprintf(p[0], sizeof(p[0]), "%s/asn-ipv4.csv", argv[1]);
	snprintf(p[1], sizeof(p[1]), "%s/asn-ipv6.csv", argv[1]);
	snprintf(p[2], sizeof(p[2]), "%s/asn-country-ipv4.csv", argv[1]);
	snprintf(p[3], sizeof(p[3]), "%s/asn-country-ipv6.csv", argv[1]);
	for (k = 0; k < 2; k++) {
		for (rep = 0; rep < 3; rep++) {
			if (one(k ? with_cc : asn_only, &r, k && !rep) < 0)
				return 1;
			if (!rep || r.load_s < best[k].load_s)
				best[k].load_s = r.load_s;
			if (!rep || r.lookup_ns < best[k].lookup_ns)
				best[k].lookup_ns = r.lookup_ns;
			best[k].info = r.info;
			if (!rep)
				best[k].multi = r.multi;
		}
	}
	for (k = 0; k < 2; k++)
		printf("asn map %-13s: load %.2f s, %zu + %zu intervals, %.1f MiB, lookup %.0f ns%s\n",
		       k ? "+ countries" : "ASN only", best[k].load_s, best[k].info.intervals4,
		       best[k].info.intervals6, best[k].info.bytes / 1048576.0, best[k].lookup_ns,
		       k ? "" : "");
	printf("asn map ratios: load %.2fx, memory %.2fx, lookup %.2fx; %zu countries, %u ASNs "
	       "seen in 2+ countries (IPv4)\n",
	       best[1].load_s / best[0].load_s,
	       (double)best[1].info.bytes / (double)best[0].info.bytes,
	       best[1].lookup_ns / best[0].lookup_ns, best[1].info.countries, best[1].multi);
	printf("{\"load_s\":[%.3f,%.3f],\"bytes\":[%zu,%zu],\"lookup_ns\":[%.1f,%.1f],"
	       "\"intervals\":[%zu,%zu],\"countries\":%zu,\"multi_country_asns\":%u}\n",
	       best[0].load_s, best[1].load_s, best[0].info.bytes, best[1].info.bytes,
	       best[0].lookup_ns, best[1].lookup_ns, best[0].info.intervals4 + best[0].info.intervals6,
	       best[1].info.intervals4 + best[1].info.intervals6, best[1].info.countries,
	       best[1].multi);
	return 0;
}
