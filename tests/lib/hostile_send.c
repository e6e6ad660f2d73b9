/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hostile_send.c - crafted wire messages for the collector's adversarial
 * suite (tests/e2e/hostile.py), built with the real encoder.  Each command sends
 * one kind of message over UDP (or TCP frames with --tcp) and prints a JSON
 * line of what it sent.
 *
 * usage: hostile_send [--tcp] [--bind ADDR] HOST:PORT COMMAND ARGS...
 *   honest ID SECONDS        a probe: one window per 100 ms, ASN 64500, 10 in-flow
 *                            samples at 20 ms each (current time)
 *   window ID EPOCH SEQ END_NS [ORG]   one window of ASN 64511 (1 sample at 20 ms)
 *   future ID                one window ending in 2100
 *   dense N                  N datagrams of ~60 KB: ASNs whose histograms have every
 *                            other bucket set, each datagram a new minute of the past day
 *   cardinality PER_S SECONDS  windows naming PER_S new ASNs every second (current time)
 *   absurd ID                counters at 2^64-1 and every bucket at 2^32-1
 *   junk N                   N probe ids, one message each
 *   past IDS EPOCH N END_NS  N consecutive 100 ms windows, the first ending at END_NS
 *                            (sequence 1..N), each naming three of eight ASNs with
 *                            varied counters and RTT samples, from each probe of the
 *                            comma-separated IDS in turn (for history tests)
 *   day N STEP_S ASNS END_NS [US]  N windows STEP_S apart, the last ending at END_NS, each
 *                            naming ASNS ASNs (5 RTT samples each), in datagrams of up
 *                            to 60,000 bytes (for history benchmarks), US microseconds
 *                            apart per ASN record (4)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;

#define MS 1000000ull
#define DENSE_ASNS 90 /* ASN records per "dense" window: about one datagram */

struct out {
	int fd, tcp;
	uint64_t msgs, bytes, errors;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	while (now_ns() < t) {
		struct timespec ts = {0, 500000};

		nanosleep(&ts, NULL);
	}
}

static int emit(const uint8_t *msg, size_t len, void *ctx)
{
	struct out *o = ctx;
	ssize_t r;

	if (o->tcp) {
		uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				  (uint8_t)len};

		r = send(o->fd, hdr, 4, MSG_NOSIGNAL);
		if (r == 4)
			r = send(o->fd, msg, len, MSG_NOSIGNAL);
	} else {
		r = send(o->fd, msg, len, 0);
	}
	if (r != (ssize_t)len) {
		o->errors++;
		return 0;
	}
	o->msgs++;
	o->bytes += len;
	return 0;
}

static void one(struct out *o, const char *id, uint64_t epoch, uint64_t seq, uint64_t end,
		struct ep_window_asn *a, uint32_t n, size_t max_payload)
{
	struct ep_window w;

	memset(&w, 0, sizeof(w));
	w.type = EP_WIN_WINDOW;
	w.probe = id;
	w.epoch = epoch;
	w.seq = seq;
	w.end_ns = end;
	w.start_ns = end - 100 * MS;
	w.asns = a;
	w.nasns = n;
	ep_wire_encode(&t_enc, &w, max_payload, emit, o);
}

static struct ep_hist *made[8]; /* freed at exit (the sanitizer build checks for leaks) */
static int nmade;

static struct ep_hist *hist_of(int64_t value, uint32_t n)
{
	struct ep_hist *h;
	uint32_t i;

	ep_hist_new(1, 60000000, 2, &h);
	if (nmade < 8)
		made[nmade++] = h;
	for (i = 0; i < n; i++)
		ep_hist_record(h, value);
	return h;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET}, src = {.sin_family = AF_INET};
	struct ep_window_asn a;
	struct out o = {0};
	const char *cmd, *bind_addr = NULL;
	char host[64], *colon;
	int i = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--tcp"))
			o.tcp = 1;
		else if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_addr = argv[++i];
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: hostile_send [--tcp] [--bind ADDR] HOST:PORT COMMAND ARGS...\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", argv[i]);
	colon = strrchr(host, ':');
	if (!colon)
		return 2;
	*colon = '\0';
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &sin.sin_addr);
	cmd = argv[i + 1];
	argv += i + 2;
	argc -= i + 2;
	o.fd = socket(AF_INET, o.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (bind_addr) {
		inet_pton(AF_INET, bind_addr, &src.sin_addr);
		if (bind(o.fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			perror("bind");
			return 1;
		}
	}
	if (connect(o.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.asn = 64500;
	a.org = "Honest Networks";
	a.c[EP_AC_segs_out] = 20;
	a.c[EP_AC_segs_in] = 20;

	if (!strcmp(cmd, "honest") && argc >= 2) {
		uint64_t epoch = now_ns(), t = epoch - epoch % (100 * MS), stop, seq = 0;

		a.h[EP_AH_RTT_DATA] = hist_of(20000, 10);
		stop = t + (uint64_t)atoi(argv[1]) * 1000 * MS;
		for (t += 100 * MS; t <= stop; t += 100 * MS) {
			sleep_until(t + 5 * MS);
			one(&o, argv[0], epoch, ++seq, t, &a, 1, 1400);
		}
		printf("{\"windows\":%llu,\"samples\":%llu,\"epoch\":%llu,", (unsigned long long)seq,
		       (unsigned long long)seq * 10, (unsigned long long)epoch);
	} else if (!strcmp(cmd, "window") && argc >= 4) {
		a.asn = 64511; /* apart from the honest probe's ASN */
		if (argc >= 5)
			a.org = argv[4];
		a.h[EP_AH_RTT_DATA] = hist_of(20000, 1);
		one(&o, argv[0], strtoull(argv[1], NULL, 10), strtoull(argv[2], NULL, 10),
		    strtoull(argv[3], NULL, 10), &a, 1, 1400);
		printf("{");
	} else if (!strcmp(cmd, "future") && argc >= 1) {
		a.h[EP_AH_RTT_DATA] = hist_of(20000, 1);
		one(&o, argv[0], now_ns(), 1, 4102444800000000000ull, &a, 1, 1400);
		printf("{");
	} else if (!strcmp(cmd, "absurd") && argc >= 1) {
		struct ep_hist *h = hist_of(1, 1);
		int32_t k;

		for (k = 0; k < h->cfg.counts_len; k++)
			h->counts[k] = UINT32_MAX;
		h->total = (int64_t)h->cfg.counts_len * UINT32_MAX;
		h->min_idx = 0;
		h->max_idx = h->cfg.counts_len - 1;
		a.h[EP_AH_RTT_DATA] = h;
		a.c[EP_AC_segs_out] = UINT64_MAX;
		one(&o, argv[0], now_ns(), 1, now_ns() - now_ns() % (100 * MS), &a, 1, 1400);
		a.c[EP_AC_segs_out] = 20;
		one(&o, argv[0], now_ns(), 2, now_ns() - now_ns() % (100 * MS), &a, 1, 1400);
		printf("{");
	} else if (!strcmp(cmd, "dense") && argc >= 1) {
		uint32_t n = (uint32_t)atoi(argv[0]), d, k, j;
		struct ep_window_asn *as = calloc(DENSE_ASNS, sizeof(*as));
		struct ep_hist *h = hist_of(1, 0);
		uint64_t now = now_ns(), epoch = now;

		/* Every bucket non-zero. */
		for (k = 0; k < (uint32_t)h->cfg.counts_len; k++)
			ep_hist_record(h, ep_hdr_value_at_index(&h->cfg, (int32_t)k));
		for (d = 0; d < n; d++) {
			for (j = 0; j < DENSE_ASNS; j++) {
				memset(&as[j], 0, sizeof(as[j]));
				as[j].asn = 100000 + d * DENSE_ASNS + j;
				as[j].c[EP_AC_segs_out] = as[j].c[EP_AC_segs_in] = 1000000;
				for (k = 0; k < EP_AH__COUNT; k++)
					as[j].h[k] = h;
			}
			/* The encoder packs them into datagrams of up to 65,000 bytes. */
			one(&o, "dense", epoch, o.msgs + 1, now - (uint64_t)(d % 1400 + 2) * 60000 * MS,
			    as, DENSE_ASNS, 65000);
		}
		free(as);
		printf("{");
	} else if (!strcmp(cmd, "cardinality") && argc >= 2) {
		uint32_t per_s = (uint32_t)atoi(argv[0]), secs = (uint32_t)atoi(argv[1]), s, w, j;
		uint32_t per_w = per_s / 10, next = 1000000;
		struct ep_window_asn *as = calloc(per_w ? per_w : 1, sizeof(*as));
		uint64_t epoch = now_ns(), t = epoch - epoch % (100 * MS), seq = 1;
		struct ep_hist *h = hist_of(30000, 1);

		for (s = 0; s < secs; s++) {
			for (w = 0; w < 10; w++) {
				t += 100 * MS;
				sleep_until(t + 5 * MS);
				for (j = 0; j < per_w; j++) {
					memset(&as[j], 0, sizeof(as[j]));
					as[j].asn = next++;
					as[j].c[EP_AC_segs_out] = 1;
					as[j].h[EP_AH_RTT_DATA] = h;
				}
				one(&o, "cardinality", epoch, seq, t, as, per_w, 60000);
				seq = o.msgs + 1;
			}
		}
		free(as);
		printf("{\"asns\":%u,", next - 1000000);
	} else if (!strcmp(cmd, "past") && argc >= 4) {
		uint64_t epoch = strtoull(argv[1], NULL, 10), end = strtoull(argv[3], NULL, 10);
		uint32_t n = (uint32_t)atoi(argv[2]), i, j, k, p, np = 0;
		char ids[256], *id[8], *save = NULL, *t;
		struct ep_window_asn as[3];
		struct ep_hist *h[3];
		static const char *const orgs[8] = {"Past One", "Past Two", "Past Three", "Past Four",
						    "Past Five", "Past Six", "Past Seven", "Past Eight"};

		snprintf(ids, sizeof(ids), "%s", argv[0]);
		for (t = strtok_r(ids, ",", &save); t && np < 8; t = strtok_r(NULL, ",", &save))
			id[np++] = t;
		for (j = 0; j < 3; j++)
			ep_hist_new(1, 60000000, 2, &h[j]);
		for (i = 0; i < n; i++) {
			for (j = 0; j < 3; j++) {
				uint32_t which = (i + j * 3) % 8;

				memset(&as[j], 0, sizeof(as[j]));
				as[j].asn = 64520 + which;
				as[j].org = orgs[which];
				as[j].c[EP_AC_flows_new] = i % 3;
				as[j].c[EP_AC_segs_out] = 10 + i % 17;
				as[j].c[EP_AC_segs_in] = 12 + i % 5;
				as[j].c[EP_AC_retx_out] = i % 11 == 0;
				as[j].c[EP_AC_rtt_data_timed] = 1 + (i + j) % 4; /* the samples below */
				ep_hist_reset(h[j]);
				for (k = 0; k < 1 + (i + j) % 4; k++)
					ep_hist_record(h[j], 5000 + (int64_t)which * 9000 +
								     (int64_t)((i * 7919 + k * 104729) % 40000));
				as[j].h[EP_AH_RTT_DATA] = h[j];
				as[j].h[EP_AH_RTT_HS] = k > 2 ? h[j] : NULL;
			}
			for (p = 0; p < np; p++)
				one(&o, id[p], epoch + p, i + 1, end + (uint64_t)i * 100 * MS, as, 3, 1400);
			if (i % 200 == 199) {
				struct timespec ts = {0, 2000000}; /* a little air for the receive queue */

				nanosleep(&ts, NULL);
			}
		}
		for (j = 0; j < 3; j++)
			ep_hist_free(h[j]);
		printf("{");
	} else if (!strcmp(cmd, "day") && argc >= 4) {
		uint32_t n = (uint32_t)atoi(argv[0]), step_s = (uint32_t)atoi(argv[1]);
		uint32_t na = (uint32_t)atoi(argv[2]), i, j;
		uint64_t end = strtoull(argv[3], NULL, 10), epoch = now_ns();
		long pace_ns = argc >= 5 ? atol(argv[4]) * 1000 : 4000;
		struct ep_window_asn *as = calloc(na ? na : 1, sizeof(*as));
		struct ep_hist *h;

		ep_hist_new(1, 60000000, 2, &h);
		for (j = 0; j < 5; j++)
			ep_hist_record(h, 20000 + (int64_t)j * 7000);
		for (i = 0; i < n; i++) {
			for (j = 0; j < na; j++) {
				memset(&as[j], 0, sizeof(as[j]));
				as[j].asn = 200000 + j;
				as[j].c[EP_AC_segs_out] = 100 + j % 7;
				as[j].c[EP_AC_retx_out] = (i + j) % 13 == 0;
				as[j].h[EP_AH_RTT_DATA] = h;
			}
			one(&o, "day", epoch, o.msgs + 1,
			    end - (uint64_t)(n - 1 - i) * step_s * 1000 * MS, as, na, 60000);
			{
				/* 4 us per ASN record: a collector (~1 us each) with a writer beside it keeps up */
				long ns = pace_ns * (long)(na < 100000 ? na : 100000);
				struct timespec ts = {ns / 1000000000, ns % 1000000000};

				nanosleep(&ts, NULL);
			}
		}
		ep_hist_free(h);
		free(as);
		printf("{");
	} else if (!strcmp(cmd, "junk") && argc >= 1) {
		uint32_t n = (uint32_t)atoi(argv[0]), j;
		uint64_t t = now_ns();
		char id[32];

		for (j = 0; j < n; j++) {
			snprintf(id, sizeof(id), "junk-%u", j);
			one(&o, id, t, 1, t - t % (100 * MS), &a, 1, 1400);
		}
		printf("{");
	} else {
		fprintf(stderr, "hostile_send: unknown command or missing arguments: %s\n", cmd);
		return 2;
	}
	printf("\"msgs\":%llu,\"bytes\":%llu,\"errors\":%llu}\n", (unsigned long long)o.msgs,
	       (unsigned long long)o.bytes, (unsigned long long)o.errors);
	close(o.fd);
	while (nmade)
		ep_hist_free(made[--nmade]);
	return 0;
}
