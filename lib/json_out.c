/* SPDX-License-Identifier: BSD-3-Clause */
/* json_out.c - window and summary objects as JSON lines. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "country.h"
#include "json_out.h"
#include "utf8.h"
#include "stats.h"

void ep_json_write_string(FILE *fp, const char *s)
{
	size_t n = strlen(s);

	fputc('"', fp);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t l;

		if (c == '"' || c == '\\') {
			fprintf(fp, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
		} else if (c >= 0x80) {
			/* Bytes that are not UTF-8 (e.g. a query's %ff) become U+FFFD. */
			l = ep_utf8_char_len(s, n);
			if (l) {
				fwrite(s, 1, l, fp);
				s += l;
				n -= l;
				continue;
			}
			fputs("\\ufffd", fp);
		} else {
			fputc(c, fp);
		}
		s++;
		n--;
	}
	fputc('"', fp);
}

static int write_hist(struct ep_hist_codec *hc, FILE *fp, const char *name, const struct ep_hist *h,
		      const uint8_t *enc, uint32_t enc_len, const char *unit)
{
	char stack[2048], *b64 = stack;
	size_t cap;
	long n = 0;

	if (!h || !h->total) {
		fprintf(fp, "\"%s\":{\"n\":0,\"min%s\":0,\"p50%s\":0,\"p90%s\":0,\"p99%s\":0,"
			    "\"max%s\":0,\"hdr\":\"\"}",
			name, unit, unit, unit, unit, unit);
		return 0;
	}
	n = enc ? (long)enc_len : ep_hist_encode(hc, h, NULL, 0);
	cap = (size_t)n / 3 * 4 + 8;
	if (cap > sizeof(stack) && !(b64 = malloc(cap)))
		return -ENOMEM;
	n = enc ? ep_b64_encode(enc, enc_len, b64, cap) : ep_hist_encode_b64(hc, h, b64, cap);
	fprintf(fp,
		"\"%s\":{\"n\":%" PRId64 ",\"min%s\":%" PRId64 ",\"p50%s\":%" PRId64
		",\"p90%s\":%" PRId64 ",\"p99%s\":%" PRId64 ",\"max%s\":%" PRId64 ",\"hdr\":\"%s\"}",
		name, h->total, unit, ep_hist_min(h), unit, ep_hist_percentile(h, 50.0), unit,
		ep_hist_percentile(h, 90.0), unit, ep_hist_percentile(h, 99.0), unit,
		ep_hist_max(h), n < 0 ? "" : b64);
	if (b64 != stack)
		free(b64);
	return n < 0 ? (int)n : 0;
}

int ep_json_write_window(FILE *fp, const struct ep_window *w, struct ep_hist_codec *hc)
{
	uint32_t i, k;
	int first = 1, ret = 0;

	fprintf(fp, "{\"v\":1,\"type\":\"%s\",\"probe\":",
		w->type == EP_WIN_SUMMARY ? "summary" : "window");
	ep_json_write_string(fp, w->probe ? w->probe : "");
	fprintf(fp,
		",\"epoch\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"start_ns\":%" PRIu64
		",\"end_ns\":%" PRIu64,
		w->epoch, w->seq, w->start_ns, w->end_ns);
	if (w->type == EP_WIN_SUMMARY && w->dataset && *w->dataset) {
		/* where the summary's (ASN, country) keys come from (windows: on the wire only) */
		fputs(",\"dataset\":", fp);
		ep_json_write_string(fp, w->dataset);
	}
	fputs(",\"stats\":{", fp);
	for (i = 0; i < EP_ST__COUNT; i++) {
		fprintf(fp, "%s\"%s\":%" PRIu64, first ? "" : ",", ep_stat_names[i], w->stats[i]);
		first = 0;
	}
	fputc('}', fp);
	if (w->nsrc) {
		static const char *const names[3][4] = {
			{"", "", "", ""},
			{"rx_packets", "imissed", "rx_nombuf", "ierrors"},
			{"packets", "flows", "evictions", "cycles_per_packet"},
		};
		int kind;

		for (kind = EP_SRC_PORT; kind <= EP_SRC_WORKER; kind++) {
			int n = 0;

			fprintf(fp, ",\"%s\":[", kind == EP_SRC_PORT ? "ports" : "workers");
			for (i = 0; i < w->nsrc; i++) {
				if (w->src[i].kind != kind)
					continue;
				fprintf(fp, "%s{\"id\":%u", n++ ? "," : "", w->src[i].id);
				for (k = 0; k < 4; k++)
					fprintf(fp, ",\"%s\":%" PRIu64, names[kind][k], w->src[i].v[k]);
				fputc('}', fp);
			}
			fputc(']', fp);
		}
	}
	fputs(",\"asns\":[", fp);
	for (i = 0; i < w->nasns && !ret; i++) {
		const struct ep_window_asn *a = &w->asns[i];
		char cc[3];

		fprintf(fp, "%s{\"asn\":%" PRIu32 ",\"country\":", i ? "," : "", a->asn);
		if (a->cc)
			fprintf(fp, "\"%s\"", ep_cc_str(a->cc, cc));
		else
			fputs("null", fp);
		fputs(",\"org\":", fp);
		ep_json_write_string(fp, a->org ? a->org : "");
		for (k = 0; k < EP_AC__COUNT; k++)
			fprintf(fp, ",\"%s\":%" PRIu64, ep_asn_counter_names[k], a->c[k]);
		for (k = 0; k < EP_AH__COUNT && !ret; k++) {
			fputc(',', fp);
			ret = write_hist(hc, fp, ep_asn_hist_names[k], a->h[k], a->enc[k], a->enc_len[k],
					 k == EP_AH_RETX_PPM ? "" : "_us");
		}
		fputc('}', fp);
	}
	fputs("]}\n", fp);
	if (!ret && ferror(fp))
		ret = -EIO;
	return ret;
}
