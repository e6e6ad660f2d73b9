/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qoe_load.c - simulated players for the collector's QoE benchmark: C keep-alive HTTP/1.1
 * connections, each POSTing bodies of R CMCD event-mode reports (text lines: a session's
 * state changes and 10 s reports with throughput and bitrate, every report distinct) to
 * /api/v1/qoe with an X-Forwarded-For address drawn from the ASN file's IPv4 ranges, for S
 * seconds.  Prints what was sent and answered as JSON.
 *
 * usage: qoe_load HOST:PORT CONNS REPORTS_PER_REQUEST SECONDS ASN_CSV
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RANGES 65536

struct range {
	uint32_t lo, hi;
};

static struct range ranges[MAX_RANGES];
static unsigned nranges, per_req;
static struct sockaddr_in dst;
static double stop_at;

struct worker {
	pthread_t t;
	unsigned id;
	uint64_t requests, reports, ok, refused, errors;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int load_ranges(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512], a[64], b[64];

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp) && nranges < MAX_RANGES) {
		struct in_addr x, y;

		if (sscanf(line, "%63[^,],%63[^,],", a, b) != 2 || inet_pton(AF_INET, a, &x) != 1 ||
		    inet_pton(AF_INET, b, &y) != 1)
			continue;
		ranges[nranges].lo = ntohl(x.s_addr);
		ranges[nranges++].hi = ntohl(y.s_addr);
	}
	fclose(fp);
	return nranges ? 0 : -1;
}

/* Read one response: the status, and skip its body (Content-Length). @return status, -1 */
static int response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end, *cl;
	long body;

	for (;;) {
		ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")))
			break;
		if (have == cap - 1)
			return -1;
	}
	cl = strcasestr(buf, "Content-Length:");
	body = cl && cl < end ? strtol(cl + 15, NULL, 10) : 0;
	body -= (long)(have - (size_t)(end + 4 - buf));
	while (body > 0) {
		ssize_t n = recv(fd, buf, cap, 0);

		if (n <= 0)
			return -1;
		body -= n;
	}
	return atoi(buf + 9);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	size_t cap = (size_t)per_req * 160 + 512;
	char *req = malloc(cap + 512), *body = malloc(cap), rbuf[4096];
	unsigned seed = w->id * 7919u + 1, sess = 0, sn = 0, k;
	int fd = -1, one = 1;

	while (now_s() < stop_at) {
		struct range *r = &ranges[rand_r(&seed) % nranges];
		uint32_t a = r->lo + (uint32_t)(rand_r(&seed) % (r->hi - r->lo + 1));
		uint64_t ts = wall_ms() - 20000; /* + up to 16 s: never ahead of the clock */
		size_t blen = 0;
		int hl, st;

		for (k = 0; k < per_req; k++) {
			static const char *const states[] = {"s", "p", "p", "p",
							     "r", "p", "p", "p"};

			if (sn % 64 == 0) { /* a new session every 64 reports */
				sess++;
				sn = 0;
			}
			blen += (size_t)snprintf(
			    body + blen, cap - blen,
			    "sid=\"w%u-%u\",sn=%u,e=%s,sta=%s,ts=%llu,mtp=%u,br=%u,"
			    "ot=v,v=2\n",
			    w->id, sess, sn, sn % 8 ? "t" : "ps", states[sn % 8],
			    (unsigned long long)(ts + sn * 250), (rand_r(&seed) % 400 + 10) * 100,
			    3000);
			sn++;
		}
		if (fd < 0) {
			fd = socket(AF_INET, SOCK_STREAM, 0);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
				close(fd);
				fd = -1;
				w->errors++;
				usleep(10000);
				continue;
			}
		}
		hl = snprintf(req, 512,
			      "POST /api/v1/qoe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			      "X-Forwarded-For: %u.%u.%u.%u\r\nContent-Type: text/cmcd\r\n"
			      "Content-Length: %zu\r\n\r\n",
			      a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, blen);
		memcpy(req + hl, body, blen);
		if (send(fd, req, (size_t)hl + blen, MSG_NOSIGNAL) !=
			(ssize_t)((size_t)hl + blen) ||
		    (st = response(fd, rbuf, sizeof(rbuf))) < 0) {
			close(fd);
			fd = -1;
			w->errors++;
			continue;
		}
		w->requests++;
		w->reports += per_req;
		if (st == 204)
			w->ok++;
		else
			w->refused++;
	}
	if (fd >= 0)
		close(fd);
	free(req);
	free(body);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *w;
	unsigned conns, i;
	double secs, t0;
	uint64_t req = 0, rep = 0, ok = 0, refused = 0, err = 0;
	char host[64];
	const char *colon;

	if (argc != 6 || !(colon = strrchr(argv[1], ':')) ||
	    (size_t)(colon - argv[1]) >= sizeof(host)) {
		fprintf(stderr,
			"usage: qoe_load HOST:PORT CONNS REPORTS_PER_REQUEST SECONDS ASN_CSV\n");
		return 2;
	}
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = '\0';
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(colon + 1));
	conns = (unsigned)atoi(argv[2]);
	per_req = (unsigned)atoi(argv[3]);
	secs = atof(argv[4]);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1 || !conns || conns > 256 || !per_req ||
	    per_req > 256 || secs <= 0 || load_ranges(argv[5]) < 0) {
		fprintf(stderr, "qoe_load: bad arguments (or no IPv4 range in %s)\n", argv[5]);
		return 2;
	}
	w = calloc(conns, sizeof(*w));
	t0 = now_s();
	stop_at = t0 + secs;
	for (i = 0; i < conns; i++) {
		w[i].id = i;
		pthread_create(&w[i].t, NULL, run, &w[i]);
	}
	for (i = 0; i < conns; i++) {
		pthread_join(w[i].t, NULL);
		req += w[i].requests;
		rep += w[i].reports;
		ok += w[i].ok;
		refused += w[i].refused;
		err += w[i].errors;
	}
	printf("{\"requests\":%llu,\"reports\":%llu,\"ok\":%llu,\"refused\":%llu,\"errors\":%llu,"
	       "\"seconds\":%.3f}\n",
	       (unsigned long long)req, (unsigned long long)rep, (unsigned long long)ok,
	       (unsigned long long)refused, (unsigned long long)err, now_s() - t0);
	free(w);
	return 0;
}
