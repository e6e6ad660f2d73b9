/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_api.c - libFuzzer target: the collector's HTTP query handling.  The
 * input is "PATH?QUERY" (split at the first '?', parameters at '&' and '=',
 * %XX decoded as libmicrohttpd does); it goes to ep_api_handle() over a
 * collector holding a few windows of two probes.  Every response must carry
 * a status and a body that is valid UTF-8 (JSON escaping of what is echoed).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "collector.h"
#include "utf8.h"
#include "wire.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;

#define MAX_ARGS 64
#define T0 1700000000000000000ull

struct args {
	char *k[MAX_ARGS], *v[MAX_ARGS];
	int n;
};

static const char *lookup(void *ctx, const char *name)
{
	struct args *a = ctx;
	int i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], name))
			return a->v[i];
	return NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* In place, as libmicrohttpd unescapes ('+' is a space, %XX a byte, %00 ends it). */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int keep(const uint8_t *msg, size_t len, void *ctx)
{
	ep_collector_ingest(ctx, msg, len, T0 + 60000000000ull);
	return 0;
}

static struct ep_collector coll;

static void setup(void)
{
	struct ep_collector_cfg cfg;
	struct ep_window_asn a[2];
	struct ep_window w;
	struct ep_hist *h;
	int i;

	ep_collector_cfg_default(&cfg);
	cfg.max_probes = 8;
	if (ep_collector_init(&coll, &cfg) < 0)
		abort();
	ep_hist_new(1, 60000000, 2, &h);
	for (i = 0; i < 40; i++)
		ep_hist_record(h, 1000 + i * 997);
	memset(a, 0, sizeof(a));
	a[0].asn = 64500;
	a[0].org = "One \"quoted\" \\ name";
	a[0].c[EP_AC_segs_out] = 100;
	a[0].c[EP_AC_retx_out] = 3;
	a[0].h[EP_AH_RTT_DATA] = h;
	a[0].h[EP_AH_RTT_HS] = h;
	a[1].asn = 64501;
	a[1].org = "Tw\xc3\xb6";
	a[1].h[EP_AH_RTT_DATA] = h;
	for (i = 0; i < 200; i++) {
		memset(&w, 0, sizeof(w));
		w.type = EP_WIN_WINDOW;
		w.probe = i % 2 ? "edge-a" : "edge-b";
		w.epoch = T0;
		w.seq = (uint64_t)i / 2 + 1;
		w.start_ns = T0 + (uint64_t)(i / 2) * 100000000ull;
		w.end_ns = w.start_ns + 100000000ull;
		w.asns = a;
		w.nasns = 2;
		ep_wire_encode(&t_enc, &w, 1400, keep, &coll);
	}
	ep_collector_tick(&coll, T0 + 60000000000ull, 0);
	ep_hist_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ep_api_resp resp;
	struct ep_api_req req;
	struct args a = {0};
	char *buf, *q, *tok, *save = NULL;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	q = strchr(buf, '?');
	if (q) {
		*q++ = '\0';
		for (tok = strtok_r(q, "&", &save); tok && a.n < MAX_ARGS;
		     tok = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(tok, '=');

			if (eq)
				*eq++ = '\0';
			unescape(tok);
			if (eq)
				unescape(eq);
			a.k[a.n] = tok;
			a.v[a.n++] = eq ? eq : (char *)"";
		}
	}
	unescape(buf);
	req.path = buf;
	req.arg = lookup;
	req.ctx = &a;
	if (ep_api_handle(&coll, &req, &resp)) {
		const char *line = resp.body;

		if (resp.status < 200 || resp.status > 599)
			abort();
		while (line && *line) { /* JSON is one line; /metrics many */
			size_t n = strcspn(line, "\n");

			if (!ep_utf8_valid(line, n))
				abort();
			line += n + (line[n] == '\n');
		}
		free(resp.body);
	}
	free(buf);
	return 0;
}
