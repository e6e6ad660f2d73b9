/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_lines_bench.c - the probes' JSON lines written by lib/json_out.c (stdio) against the
 * same lines built as a jansson tree and dumped (issue 16 asks for the comparison before the
 * probes move to jansson).  Both writers get the same windows; each line must parse to the
 * same JSON value, else the run fails.  TSC cycles per ASN record, the best of 5 rounds.
 * Usage: json_lines_bench [ASNS [WINDOWS]]   (scripts/bench; not part of the test suite)
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "country.h"
#include "hist.h"
#include "json_out.h"
#include "stats.h"
#include "xorshift.h"

#define JV_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static json_t *u64(uint64_t v) { return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v); }

static json_t *hist_obj(struct ep_hist_codec *hc, const struct ep_hist *h, const char *unit)
{
	json_t *o = json_object();
	char key[16], stack[2048], *b64 = stack;
	long n, cap;

	snprintf(key, sizeof(key), "min%s", unit);
	json_object_set_new(o, "n", json_integer(h ? h->total : 0));
	json_object_set_new(o, key, json_integer(h && h->total ? ep_hist_min(h) : 0));
	snprintf(key, sizeof(key), "p50%s", unit);
	json_object_set_new(o, key, json_integer(h && h->total ? ep_hist_percentile(h, 50) : 0));
	snprintf(key, sizeof(key), "p90%s", unit);
	json_object_set_new(o, key, json_integer(h && h->total ? ep_hist_percentile(h, 90) : 0));
	snprintf(key, sizeof(key), "p99%s", unit);
	json_object_set_new(o, key, json_integer(h && h->total ? ep_hist_percentile(h, 99) : 0));
	snprintf(key, sizeof(key), "max%s", unit);
	json_object_set_new(o, key, json_integer(h && h->total ? ep_hist_max(h) : 0));
	if (!h || !h->total) {
		json_object_set_new(o, "hdr", json_string(""));
		return o;
	}
	cap = ep_hist_encode(hc, h, NULL, 0) / 3 * 4 + 8;
	if (cap > (long)sizeof(stack))
		b64 = malloc((size_t)cap);
	n = b64 ? ep_hist_encode_b64(hc, h, b64, (size_t)cap) : -1;
	json_object_set_new(o, "hdr", json_string(n < 0 ? "" : b64));
	if (b64 != stack)
		free(b64);
	return o;
}

struct jbuf {
	char *p;
	size_t n, cap;
};

static struct jbuf jb;	 /* the dump buffer, reused */
static uint64_t nallocs; /* jansson's allocations */

static void *count_malloc(size_t n)
{
	nallocs++;
	return malloc(n);
}

static int append(const char *b, size_t n, void *arg)
{
	struct jbuf *j = arg;

	if (j->n + n > j->cap) {
		size_t cap = (j->n + n) * 2;
		char *p = realloc(j->p, cap);

		if (!p)
			return -1;
		j->p = p;
		j->cap = cap;
	}
	memcpy(j->p + j->n, b, n);
	j->n += n;
	return 0;
}

/* The line of lib/json_out.c, as a tree (a window: no sources, no dataset). */
static int write_jansson(FILE *fp, const struct ep_window *w, struct ep_hist_codec *hc)
{
	json_t *doc = json_object(), *stats = json_object(), *asns = json_array();
	uint32_t i, k;
	char cc[3];
	int ret;

	json_object_set_new(doc, "v", json_integer(1));
	json_object_set_new(doc, "type", json_string("window"));
	json_object_set_new(doc, "probe", json_string(w->probe));
	json_object_set_new(doc, "epoch", u64(w->epoch));
	json_object_set_new(doc, "seq", u64(w->seq));
	json_object_set_new(doc, "start_ns", u64(w->start_ns));
	json_object_set_new(doc, "end_ns", u64(w->end_ns));
	for (i = 0; i < EP_ST__COUNT; i++)
		json_object_set_new(stats, ep_stat_names[i], u64(w->stats[i]));
	json_object_set_new(doc, "stats", stats);
	json_object_set_new(doc, "asns", asns);
	for (i = 0; i < w->nasns; i++) {
		const struct ep_window_asn *a = &w->asns[i];
		json_t *o = json_object();

		json_object_set_new(o, "asn", json_integer(a->asn));
		json_object_set_new(o, "country",
				    a->cc ? json_string(ep_cc_str(a->cc, cc)) : json_null());
		json_object_set_new(o, "org", json_string(a->org));
		for (k = 0; k < EP_AC__COUNT; k++)
			json_object_set_new(o, ep_asn_counter_names[k], u64(a->c[k]));
		for (k = 0; k < EP_AH__COUNT; k++)
			json_object_set_new(
			    o, ep_asn_hist_names[k],
			    hist_obj(hc, a->h[k], k == EP_AH_RETX_PPM ? "" : "_us"));
		json_array_append_new(asns, o);
	}
	/* into one buffer, written at once (jansson's json_dumpf writes token by token) */
	ret = json_dump_callback(doc, append, &jb, JV_FLAGS);
	if (ret == 0 && (append("\n", 1, &jb) < 0 || fwrite(jb.p, 1, jb.n, fp) != jb.n))
		ret = -1;
	jb.n = 0;
	json_decref(doc);
	return ret;
}

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
	json_t *x = json_loadb(a, alen, 0, NULL), *y = json_loadb(b, blen, 0, NULL);
	int eq = x && y && json_equal(x, y);

	json_decref(x);
	json_decref(y);
	return eq;
}

int main(int argc, char **argv)
{
	uint32_t nasns = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000;
	uint32_t nwin = argc > 2 ? (uint32_t)atoi(argv[2]) : 20, i, k, s, r, wi;
	struct ep_window w = {.type = EP_WIN_WINDOW, .probe = "bench-probe", .epoch = 1, .seq = 1};
	struct ep_hist_codec hc = {0};
	struct ep_hist **hs = calloc((size_t)nasns * EP_AH__COUNT, sizeof(*hs));
	uint64_t best[2] = {UINT64_MAX, UINT64_MAX}, rng = 0x9e3779b97f4a7c15ull, allocs;
	char *buf[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	FILE *null = fopen("/dev/null", "w");

	w.asns = calloc(nasns, sizeof(*w.asns));
	if (!hs || !w.asns || !null || nasns == 0 || nwin == 0)
		return 1;
	w.nasns = nasns;
	w.start_ns = 1700000000000000000ull;
	w.end_ns = w.start_ns + 100000000;
	for (i = 0; i < EP_ST__COUNT; i++)
		w.stats[i] = i * 1000 + 7;
	for (i = 0; i < nasns; i++) {
		struct ep_window_asn *a = &w.asns[i];

		a->asn = 64496 + i;
		a->cc = ep_cc_parse("NL", 2);
		a->org = i % 7 ? "Example Networks B.V." : "Exemple Réseau \"SA\"";
		for (k = 0; k < EP_AC__COUNT; k++)
			a->c[k] = xorshift64(&rng) % 5000;
		/* a window of a busy ISP: RTT samples 5 .. 205 ms, a few handshakes, retx ppm */
		for (k = 0; k < EP_AH__COUNT; k++) {
			uint32_t n = k == 0 ? 40 : 5;

			if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
					EP_HIST_DEFAULT_DIGITS, &hs[i * EP_AH__COUNT + k]) < 0)
				return 1;
			for (s = 0; s < n; s++)
				ep_hist_record(hs[i * EP_AH__COUNT + k],
					       5000 + (int64_t)(xorshift64(&rng) % 200000));
			a->h[k] = hs[i * EP_AH__COUNT + k];
		}
	}
	for (r = 0; r < 5; r++) {
		for (wi = 0; wi < 2; wi++) {
			uint64_t c0 = __rdtsc();

			for (s = 0; s < nwin; s++)
				if ((wi ? write_jansson(null, &w, &hc)
					: ep_json_write_window(null, &w, &hc)) < 0)
					return 1;
			c0 = __rdtsc() - c0;
			if (c0 < best[wi])
				best[wi] = c0;
		}
	}
	for (wi = 0; wi < 2; wi++) {
		FILE *m = open_memstream(&buf[wi], &len[wi]);

		if (!m || (wi ? write_jansson(m, &w, &hc) : ep_json_write_window(m, &w, &hc)) < 0)
			return 1;
		fclose(m);
	}
	json_set_alloc_funcs(count_malloc, free);
	nallocs = 0;
	if (write_jansson(null, &w, &hc) < 0)
		return 1;
	allocs = nallocs;
	if (!same(buf[0], len[0], buf[1], len[1])) {
		fprintf(stderr, "json_lines_bench: the two writers' lines differ\n");
		return 1;
	}
	printf("json_lines %u ASNs: stdio %.0f cycles per ASN record, jansson %.0f (%.2fx, %.0f "
	       "allocations per record), %zu bytes per line, equal JSON\n",
	       nasns, (double)best[0] / nwin / nasns, (double)best[1] / nwin / nasns,
	       (double)best[1] / (double)best[0], (double)allocs / nasns, len[0]);
	for (i = 0; i < nasns * EP_AH__COUNT; i++)
		ep_hist_free(hs[i]);
	free(hs);
	free(w.asns);
	free(buf[0]);
	free(buf[1]);
	ep_hist_codec_fini(&hc);
	free(jb.p);
	fclose(null);
	return 0;
}
