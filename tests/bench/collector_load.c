/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * collector_load.c - simulated probes for the collector's load benchmark:
 * P probes x A ASNs, one window per probe every interval, each ASN with
 * realistic histograms (a few handshake samples, tens of in-flow samples,
 * one retransmission share), sent over UDP with sendmmsg.  Windows are encoded
 * once per probe with the real encoder and only their header fields (seq,
 * start, end) are patched per round.  Prints what it sent as JSON.
 *
 * usage: collector_load HOST:PORT PROBES ASNS SECONDS [INTERVAL_MS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;

struct msgs {
	uint8_t **m;
	size_t *len;
	uint32_t n, cap;
};

static int keep(const uint8_t *msg, size_t len, void *ctx)
{
	struct msgs *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->m = realloc(s->m, s->cap * sizeof(*s->m));
		s->len = realloc(s->len, s->cap * sizeof(*s->len));
	}
	s->m[s->n] = malloc(len);
	memcpy(s->m[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint32_t probes, asns, seconds, interval_ms = 100, p, a, k, round, rounds;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct msgs *enc;
	uint64_t t0, sent = 0, bytes = 0, records = 0, errors = 0, seq_per_probe;
	char host[64], *colon;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: collector_load HOST:PORT PROBES ASNS SECONDS [INTERVAL_MS]\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", argv[1]);
	colon = strrchr(host, ':');
	if (!colon)
		return 2;
	*colon = '\0';
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &sin.sin_addr);
	probes = (uint32_t)atoi(argv[2]);
	asns = (uint32_t)atoi(argv[3]);
	seconds = (uint32_t)atoi(argv[4]);
	if (argc > 5)
		interval_ms = (uint32_t)atoi(argv[5]);
	enc = calloc(probes, sizeof(*enc));
	/* One window per probe, encoded once. */
	for (p = 0; p < probes; p++) {
		struct ep_window w;
		struct ep_window_asn *wa = calloc(asns, sizeof(*wa));
		struct ep_hist **h = calloc((size_t)asns * EP_AH__COUNT, sizeof(*h));
		char id[32];

		snprintf(id, sizeof(id), "load-%03u", p);
		for (a = 0; a < asns; a++) {
			uint32_t base = 5000 + (a * 7919) % 200000; /* 5 .. 205 ms per ASN */

			wa[a].asn = 10000 + a;
			wa[a].org = "Simulated Networks Inc.";
			wa[a].c[EP_AC_flows_new] = 3;
			wa[a].c[EP_AC_flows_closed] = 3;
			wa[a].c[EP_AC_segs_out] = 40;
			wa[a].c[EP_AC_segs_in] = 30;
			wa[a].c[EP_AC_retx_out] = (a + p) % 5 == 0;
			for (k = 0; k < EP_AH__COUNT; k++) {
				uint32_t i, n = k == EP_AH_RTT_HS ? 3 : k == EP_AH_RTT_DATA ? 20 : 2;

				ep_hist_new(1, 60000000, 2, &h[a * EP_AH__COUNT + k]);
				for (i = 0; i < n; i++)
					ep_hist_record(h[a * EP_AH__COUNT + k],
						       k == EP_AH_RETX_PPM ? (i ? 0 : 25000)
									   : base + (i * 37 + p * 11) % (base / 4));
				wa[a].h[k] = h[a * EP_AH__COUNT + k];
			}
		}
		memset(&w, 0, sizeof(w));
		w.type = EP_WIN_WINDOW;
		w.probe = id;
		w.epoch = now_ns() + p;
		w.seq = 1;
		w.asns = wa;
		w.nasns = asns;
		w.stats[EP_ST_packets] = 1000;
		ep_wire_encode(&t_enc, &w, 1400, keep, &enc[p]);
		for (a = 0; a < (uint32_t)asns * EP_AH__COUNT; a++)
			ep_hist_free(h[a]);
		free(h);
		free(wa);
	}
	seq_per_probe = enc[0].n;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	{
		int sndbuf = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	rounds = seconds * 1000 / interval_ms;
	t0 = now_ns();
	t0 -= t0 % (interval_ms * 1000000ull);
	for (round = 0; round < rounds; round++) {
		uint64_t start = t0 + (uint64_t)round * interval_ms * 1000000ull,
			 end = start + interval_ms * 1000000ull;

		/* Send this round's windows as the interval ends, as probes do. */
		while (now_ns() < end) {
			struct timespec ts = {0, 200000};

			nanosleep(&ts, NULL);
		}
		for (p = 0; p < probes; p++) {
			struct msgs *s = &enc[p];
			struct mmsghdr mm[64];
			struct iovec iov[64];
			uint32_t i = 0;

			while (i < s->n) {
				uint32_t j, n = s->n - i < 64 ? s->n - i : 64;
				int r;

				for (j = 0; j < n; j++) {
					uint8_t *m = s->m[i + j];

					put64(m + 20, (uint64_t)round * seq_per_probe + i + j + 1);
					put64(m + 28, start);
					put64(m + 36, end);
					iov[j].iov_base = m;
					iov[j].iov_len = s->len[i + j];
					memset(&mm[j], 0, sizeof(mm[j]));
					mm[j].msg_hdr.msg_name = &sin;
					mm[j].msg_hdr.msg_namelen = sizeof(sin);
					mm[j].msg_hdr.msg_iov = &iov[j];
					mm[j].msg_hdr.msg_iovlen = 1;
					bytes += s->len[i + j];
				}
				r = sendmmsg(fd, mm, n, 0);
				if (r <= 0) {
					errors++;
					break;
				}
				sent += (uint64_t)r;
				i += (uint32_t)r;
			}
		}
		records += (uint64_t)probes * asns;
	}
	{
		double secs = (double)(now_ns() - t0) / 1e9;

		printf("{\"probes\":%u,\"asns\":%u,\"rounds\":%u,\"msgs_per_window\":%u,\"sent\":%llu,"
		       "\"bytes\":%llu,\"records\":%llu,\"send_errors\":%llu,\"seconds\":%.3f}\n",
		       probes, asns, rounds, enc[0].n, (unsigned long long)sent,
		       (unsigned long long)bytes, (unsigned long long)records,
		       (unsigned long long)errors, secs);
	}
	close(fd);
	return 0;
}
