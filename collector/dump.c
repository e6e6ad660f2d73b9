/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-dump - receives the wire protocol on the collector's listener
 * (net.c), or reads saved messages, and prints the same JSON lines as a
 * probe's --json-out, so scripts can consume probes without the collector.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "json_out.h"
#include "net.h"
#include "wire.h"

#define MAX_PENDING 256
#define MAX_CLIENTS 16

/* A window whose parts are being collected. */
struct pending {
	int used;
	struct ep_wire_msg *parts; /* indexed by part */
	uint8_t *have;
	uint16_t nparts, got;
	uint64_t first_seq;
	char probe[EP_WIRE_PROBE_MAX + 1];
	uint64_t epoch;
};

struct dump {
	struct ep_hist_codec codec;
	struct pending pend[MAX_PENDING];
	uint64_t windows, summaries, rejected, duplicates, incomplete;
	uint64_t limit;
	int until_summary;
	int done;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void pending_free(struct pending *p)
{
	uint16_t i;

	for (i = 0; i < p->nparts; i++)
		if (p->have[i])
			ep_wire_msg_free(&p->parts[i]);
	free(p->parts);
	free(p->have);
	memset(p, 0, sizeof(*p));
}

static void emit(struct dump *d, struct pending *p)
{
	struct ep_window w;
	uint32_t n = 0, i, k;
	uint16_t j;

	memset(&w, 0, sizeof(w));
	for (j = 0; j < p->nparts; j++)
		n += p->parts[j].nasns;
	w.asns = calloc(n ? n : 1, sizeof(*w.asns));
	if (!w.asns) {
		fprintf(stderr, "edgeprobe-dump: out of memory\n");
		return;
	}
	w.type = p->parts[0].type == EP_WIRE_T_SUMMARY ? EP_WIN_SUMMARY : EP_WIN_WINDOW;
	w.probe = p->probe;
	w.epoch = p->epoch;
	w.seq = p->first_seq;
	w.start_ns = p->parts[0].start_ns;
	w.end_ns = p->parts[0].end_ns;
	for (j = 0; j < p->nparts; j++) {
		if (p->parts[j].has_stats)
			for (k = 0; k < EP_ST__COUNT; k++)
				w.stats[k] = p->parts[j].stats[k];
		for (k = 0; k < p->parts[j].nsrc && w.nsrc < EP_WINDOW_MAX_SOURCES; k++)
			w.src[w.nsrc++] = p->parts[j].src[k];
		if (p->parts[j].dataset[0])
			w.dataset = p->parts[j].dataset;
		for (i = 0; i < p->parts[j].nasns; i++)
			w.asns[w.nasns++] = p->parts[j].asns[i];
	}
	ep_json_write_window(stdout, &w, &d->codec);
	fflush(stdout);
	free(w.asns);
	if (w.type == EP_WIN_SUMMARY) {
		d->summaries++;
		if (d->until_summary)
			d->done = 1;
	} else {
		d->windows++;
	}
	if (d->limit && d->windows + d->summaries >= d->limit)
		d->done = 1;
}

static void handle(struct dump *d, const uint8_t *buf, size_t len)
{
	struct ep_wire_msg m;
	enum ep_wire_err err = ep_wire_decode(&d->codec, buf, len, &m);
	struct pending *p = NULL, *free_slot = NULL;
	uint64_t first;
	int i;

	if (err != EP_WIRE_OK) {
		d->rejected++;
		fprintf(stderr, "edgeprobe-dump: rejected a %zu-byte message: %s\n", len,
			ep_wire_err_names[err]);
		return;
	}
	first = m.seq - m.part;
	for (i = 0; i < MAX_PENDING; i++) {
		if (!d->pend[i].used) {
			if (!free_slot)
				free_slot = &d->pend[i];
			continue;
		}
		if (d->pend[i].first_seq == first && d->pend[i].epoch == m.epoch &&
		    !strcmp(d->pend[i].probe, m.probe)) {
			p = &d->pend[i];
			break;
		}
	}
	if (!p) {
		if (!free_slot) { /* evict the oldest incomplete window */
			free_slot = &d->pend[0];
			for (i = 1; i < MAX_PENDING; i++)
				if (d->pend[i].first_seq < free_slot->first_seq)
					free_slot = &d->pend[i];
			d->incomplete++;
			pending_free(free_slot);
		}
		p = free_slot;
		p->parts = calloc(m.parts, sizeof(*p->parts));
		p->have = calloc(m.parts, 1);
		if (!p->parts || !p->have) {
			pending_free(p);
			ep_wire_msg_free(&m);
			return;
		}
		p->used = 1;
		p->nparts = m.parts;
		p->first_seq = first;
		p->epoch = m.epoch;
		strcpy(p->probe, m.probe);
	}
	if (m.parts != p->nparts || p->have[m.part]) {
		d->duplicates++;
		ep_wire_msg_free(&m);
		return;
	}
	p->parts[m.part] = m;
	p->have[m.part] = 1;
	if (++p->got == p->nparts) {
		emit(d, p);
		pending_free(p);
	}
}

/* Saved messages: u32 big-endian length, then the message, repeated. */
static int read_file(struct dump *d, const char *path)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t hdr[4], *buf = malloc(EP_WIRE_MAX_MESSAGE);
	size_t off = 0;
	int ret = 0;

	if (!fp || !buf) {
		fprintf(stderr, "edgeprobe-dump: --read %s: %s\n", path, strerror(errno));
		free(buf);
		return -1;
	}
	while (!d->done && fread(hdr, 1, 4, fp) == 4) {
		uint32_t len = ep_be32(hdr);

		if (len > EP_WIRE_MAX_MESSAGE) {
			fprintf(stderr, "edgeprobe-dump: %s: offset %zu: record length %u too large\n",
				path, off, len);
			ret = -1;
			break;
		}
		if (fread(buf, 1, len, fp) != len) {
			fprintf(stderr, "edgeprobe-dump: %s: offset %zu: truncated record\n", path,
				off);
			ret = -1;
			break;
		}
		handle(d, buf, len);
		off += 4 + len;
	}
	free(buf);
	if (fp != stdin)
		fclose(fp);
	/* A file of saved messages that held corrupt ones is an error, after printing the rest. */
	return ret < 0 || d->rejected ? -1 : 0;
}

static void on_msg(const uint8_t *msg, size_t len, void *ctx)
{
	handle(ctx, msg, len);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Receive on the collector's listener (net.c) until done, a signal, or timeout_ms of silence. */
static int run_listen(struct dump *d, const char *url, uint32_t timeout_ms)
{
	struct ep_net_cfg cfg = {MAX_CLIENTS, MAX_CLIENTS, 0};
	struct ep_net *n;
	uint64_t last = mono_ms();
	char err[400];
	int ret = 0;

	if (ep_net_new(&n, &cfg) < 0) {
		fprintf(stderr, "edgeprobe-dump: out of memory\n");
		return -1;
	}
	if (ep_net_listen(n, url, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-dump: %s\n", err);
		ep_net_free(n);
		return -1;
	}
	while (!stop && !d->done) {
		if (ep_net_poll(n, 50, on_msg, d) > 0) {
			last = mono_ms();
		} else if (timeout_ms && mono_ms() - last >= timeout_ms) {
			fprintf(stderr, "edgeprobe-dump: no message for %u ms\n", timeout_ms);
			ret = 1;
			break;
		}
	}
	if (ep_net_stats(n)->frames_oversized)
		fprintf(stderr, "edgeprobe-dump: %llu stream frames over %u bytes (their clients dropped)\n",
			(unsigned long long)ep_net_stats(n)->frames_oversized, EP_WIRE_MAX_MESSAGE);
	ep_net_free(n);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"read", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},
		{"until-summary", no_argument, NULL, 's'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_url = NULL, *file = NULL;
	uint32_t timeout_ms = 0, count = 0;
	char err[200];
	int c, ret, i;
	static struct dump d;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_url = optarg;
			break;
		case 'r':
			file = optarg;
			break;
		case 'c':
			if (ep_parse_u32_arg("count", optarg, 1, UINT32_MAX, &count, err,
					     sizeof(err)) < 0) {
				fprintf(stderr, "edgeprobe-dump: %s\n", err);
				return 2;
			}
			d.limit = count;
			break;
		case 's':
			d.until_summary = 1;
			break;
		case 't':
			if (ep_parse_u32_arg("timeout-ms", optarg, 0, 86400000, &timeout_ms, err,
					     sizeof(err)) < 0) {
				fprintf(stderr, "edgeprobe-dump: %s\n", err);
				return 2;
			}
			break;
		case 'h':
			printf("usage: edgeprobe-dump (--listen URL | --read FILE) [--count N] "
			       "[--until-summary] [--timeout-ms MS] [--version]\n"
			       "Prints every received window as the probe's JSON line.\n"
			       "URL: udp://HOST:PORT, tcp://HOST:PORT or unix:PATH; FILE: what a "
			       "probe wrote with --collector file:PATH\n");
			return 0;
		case 'V':
			printf("edgeprobe-dump %s\n", EP_VERSION);
			return 0;
		default:
			fprintf(stderr, "edgeprobe-dump: bad option (see --help)\n");
			return 2;
		}
	}
	if (!listen_url == !file) {
		fprintf(stderr, "edgeprobe-dump: give exactly one of --listen URL or --read FILE\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = file ? read_file(&d, file) : run_listen(&d, listen_url, timeout_ms);
	for (i = 0; i < MAX_PENDING; i++)
		if (d.pend[i].used) {
			d.incomplete++;
			pending_free(&d.pend[i]);
		}
	fprintf(stderr,
		"edgeprobe-dump: %llu windows, %llu summaries, %llu rejected, %llu duplicates, "
		"%llu incomplete\n",
		(unsigned long long)d.windows, (unsigned long long)d.summaries,
		(unsigned long long)d.rejected, (unsigned long long)d.duplicates,
		(unsigned long long)d.incomplete);
	return ret < 0 ? 1 : ret;
}
