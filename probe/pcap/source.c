/* SPDX-License-Identifier: BSD-3-Clause */
/* source.c - edgeprobe-pcap's packet source: files in blocks or by libpcap, live capture. */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeprobe/ep_parse.h"
#include "log.h"
#include "source.h"
#include "wallclock.h"

static int adopt(struct ep_asn_map *m, void *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	ep_tracker_set_asn_map(ctx, m);
	return 0;
}

/* SIGHUP: reopen --json-out and load the ASN data again.  SIGUSR1: reopen only. */
static void maybe_reload(struct src *s)
{
	ep_probe_poll_signals(&s->probe, s->po, s->sig, adopt, s->probe.tracker);
}

/* Parse one frame according to the capture's link type. */
static inline __attribute__((always_inline)) enum ep_parse_res
parse_frame(int linktype, const uint8_t *p, const uint8_t *end, struct ep_pkt *pkt)
{
	switch (linktype) {
	case DLT_EN10MB:
		return ep_parse_eth(p, end, pkt);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return ep_parse_ip(p, end, pkt);
	case DLT_LINUX_SLL:
		if (EP_SHORT(p, 16, end))
			return EP_PARSE_TRUNC_L2;
		return ep_parse_ethertype(ep_be16(p + 14), p + 16, end, pkt);
	case DLT_LINUX_SLL2:
		if (EP_SHORT(p, 20, end))
			return EP_PARSE_TRUNC_L2;
		return ep_parse_ethertype(ep_be16(p), p + 20, end, pkt);
	case DLT_NULL:
	case DLT_LOOP:
		if (EP_SHORT(p, 4, end))
			return EP_PARSE_TRUNC_L2;
		return ep_parse_ip(p + 4, end, pkt);
	default:
		return EP_PARSE_NOT_IP;
	}
}

static int linktype_supported(int lt)
{
	return lt == DLT_EN10MB || lt == DLT_RAW || lt == DLT_IPV4 || lt == DLT_IPV6 ||
	       lt == DLT_LINUX_SLL || lt == DLT_LINUX_SLL2 || lt == DLT_NULL || lt == DLT_LOOP;
}

/* --realtime: wait until the wall clock reaches t, closing windows on time meanwhile. */
static void pace(struct src *s, uint64_t t)
{
	for (;;) {
		uint64_t now = ep_wall_ns();
		struct timespec ts = {0, 10000000};

		if (now >= t || s->stop)
			return;
		maybe_reload(s);
		if (t - now < 10000000)
			ts.tv_nsec = (long)(t - now);
		nanosleep(&ts, NULL);
		ep_tracker_advance(s->probe.tracker, ep_wall_ns() < t ? ep_wall_ns() : t);
	}
}

/* Parse a frame and count its class. @return 1 when it is a TCP segment to track. */
static __attribute__((always_inline)) inline int parse_counted(struct src *s, const u_char *bytes,
							      uint32_t caplen, struct ep_pkt *pkt)
{
	enum ep_parse_res res = parse_frame(s->linktype, bytes, bytes + caplen, pkt);

	ep_tracker_count_parse(s->probe.tracker, res);
	if (res != EP_PARSE_OK)
		return 0;
	/* Each loop's flows are new flows: both ports changed alike keep directions paired. */
	if (EP_UNLIKELY(s->port_xor)) {
		pkt->sport ^= s->port_xor;
		pkt->dport ^= s->port_xor;
	}
	return 1;
}

/*
 * The measured path (scripts/bench counts its instructions): parse one frame,
 * count its class, track it.  Out of line so that the count excludes libpcap's
 * callback and the timestamp handling around it.
 */
static __attribute__((noinline)) void track_frame(struct src *s, const u_char *bytes,
						  uint32_t caplen, uint64_t now)
{
	struct ep_pkt pkt;

	if (parse_counted(s, bytes, caplen, &pkt))
		ep_tracker_packet(s->probe.tracker, &pkt, now);
}

/* One record of a file or a capture, time-stamped now (capture time, ns). */
static inline void on_record(struct src *s, const u_char *bytes, uint32_t caplen, uint64_t now)
{
	if (EP_UNLIKELY(s->pace > 0)) {
		if (!s->have_first) {
			s->first_ts = now;
			s->pace_wall0 = ep_wall_ns();
			s->have_first = 1;
		}
		if (now > s->first_ts) {
			uint64_t at = s->pace_wall0 + (uint64_t)((double)(now - s->first_ts) / s->pace);

			while (!s->stop && ep_wall_ns() < at) {
				uint64_t left = at - ep_wall_ns();
				struct timespec ts = {0, left > 10000000 ? 10000000 : (long)left};

				nanosleep(&ts, NULL);
			}
		}
	} else if (EP_UNLIKELY(s->realtime)) {
		if (!s->have_first) {
			s->first_ts = now;
			s->have_first = 1;
		}
		s->last_ts = now;
		now = (uint64_t)((int64_t)now + s->shift);
		pace(s, now);
	}
	track_frame(s, bytes, caplen, now);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct src *s = (struct src *)user;

	on_record(s, bytes, h->caplen,
		  (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * s->ts_mult);
}

int ep_pcap_open_source(struct src *s, const char *file, const char *iface, uint32_t snaplen,
			int promisc, const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	int ret;

	s->ts_mult = 1;
	if (file) {
		/* Our own FILE with a large buffer: stdio's default means a read() per 4 KiB. */
		FILE *fp = strcmp(file, "-") ? fopen(file, "rb") : stdin;

		if (!fp) {
			ep_log_err("--read %s: %s", file, strerror(errno));
			return -1;
		}
		setvbuf(fp, NULL, _IOFBF, 4 << 20);
		s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO,
								   errbuf);
		if (!s->pcap) {
			ep_log_err("--read %s: %s", file, errbuf);
			if (fp != stdin)
				fclose(fp);
			return -1;
		}
		ret = ep_pcapfile_open(file, &s->pf, errbuf, sizeof(errbuf));
		if (ret < 0) {
			ep_log_err("%s", errbuf);
			return -1;
		}
		s->use_pf = ret == 0;
	} else {
		s->pcap = pcap_create(iface, errbuf);
		if (!s->pcap) {
			ep_log_err("--iface %s: %s", iface, errbuf);
			return -1;
		}
		pcap_set_snaplen(s->pcap, (int)snaplen);
		pcap_set_promisc(s->pcap, promisc);
		pcap_set_timeout(s->pcap, 50);
		pcap_set_buffer_size(s->pcap, 32 << 20);
		s->ts_mult = pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0 ? 1 : 1000;
		ret = pcap_activate(s->pcap);
		if (ret < 0) {
			if (ret == PCAP_ERROR_NO_SUCH_DEVICE)
				ep_log_err("--iface %s: no such interface", iface);
			else if (ret == PCAP_ERROR_PERM_DENIED)
				ep_log_err("--iface %s: permission denied (run as root or grant "
					   "CAP_NET_RAW and CAP_NET_ADMIN)",
					   iface);
			else
				ep_log_err("--iface %s: %s", iface, pcap_geterr(s->pcap));
			return -1;
		}
		if (ret > 0)
			ep_log_warn("--iface %s: %s", iface, pcap_statustostr(ret));
	}
	s->linktype = pcap_datalink(s->pcap);
	if (!linktype_supported(s->linktype)) {
		ep_log_err("%s: link type %s is not supported (Ethernet, raw IP, Linux cooked, "
			   "loopback are)",
			   file ? file : iface, pcap_datalink_val_to_name(s->linktype));
		return -1;
	}
	if (filter) {
		if (pcap_compile(s->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
		    pcap_setfilter(s->pcap, &prog) < 0) {
			ep_log_err("--filter '%s': %s", filter, pcap_geterr(s->pcap));
			pcap_freecode(&prog);
			return -1;
		}
		if (s->use_pf) {
			s->prog = prog; /* applied per record by next_record() */
			s->have_prog = 1;
		} else {
			pcap_freecode(&prog);
		}
	}
	return 0;
}

void ep_pcap_close_source(struct src *s)
{
	if (s->have_prog)
		pcap_freecode(&s->prog);
	s->have_prog = 0;
	ep_pcapfile_close(&s->pf);
	s->use_pf = 0;
	if (s->pcap)
		pcap_close(s->pcap);
	s->pcap = NULL;
}

/*
 * The next record of a file read in blocks that passes --filter.
 * @return 1, 0 at the end of the file, -1 for a truncated or impossible record (logged).
 */
static inline int next_record(struct src *s, const char *file, struct ep_pcaprec *r)
{
	char err[256];

	for (;;) {
		int ret = ep_pcapfile_next(&s->pf, r, err, sizeof(err));

		if (EP_UNLIKELY(ret != 1)) {
			if (ret < 0)
				ep_log_err("--read %s: %s", file, err);
			return ret;
		}
		if (EP_UNLIKELY(s->have_prog)) {
			struct pcap_pkthdr h = {.caplen = r->caplen, .len = r->origlen};

			if (!pcap_offline_filter(&s->prog, &h, r->data))
				continue;
		}
		return 1;
	}
}

/*
 * The measured path for files (scripts/bench counts its instructions): parse
 * records into bursts for ep_tracker_burst(), which prefetches the flows of a
 * burst before it tracks them.  A burst never spans a window boundary: the
 * packet that closes a window goes alone, after the burst before it, so the
 * windows (and the counters they carry) are those of packet-by-packet tracking.
 */
static __attribute__((noinline)) int read_bursts(struct src *s, const char *file)
{
	struct ep_tracker *t = s->probe.tracker;
	struct ep_pkt pk[EP_TRACKER_BURST];
	uint64_t ts[EP_TRACKER_BURST], start = 0, end = 0, iv = (uint64_t)s->po->interval_ms * 1000000ull;
	struct ep_pcaprec r;
	uint32_t n = 0;
	int ret = 0;

	while (!s->stop && (ret = next_record(s, file, &r)) == 1) {
		if (!parse_counted(s, r.data, r.caplen, &pk[n]))
			continue;
		if (EP_LIKELY(r.ts_ns - start < end - start)) {
			ts[n] = r.ts_ns;
			if (++n == EP_TRACKER_BURST) {
				ep_tracker_burst(t, pk, ts, n);
				n = 0;
			}
			continue;
		}
		/* Outside the open window (or none open yet): the burst so far, then this one alone. */
		if (n)
			ep_tracker_burst(t, pk, ts, n);
		ep_tracker_burst(t, &pk[n], &r.ts_ns, 1);
		n = 0;
		start = ep_tracker_window_start(t);
		end = start ? start + iv : 0;
	}
	if (n)
		ep_tracker_burst(t, pk, ts, n);
	return ret;
}

/* Every record of a file read in blocks.  @return 0, -1 on a bad record. */
static int read_in_place(struct src *s, const char *file)
{
	struct ep_pcaprec r;
	int ret = 0;

	if (s->realtime || s->pace > 0) {
		while (!s->stop && (ret = next_record(s, file, &r)) == 1)
			on_record(s, r.data, r.caplen, r.ts_ns);
	} else {
		ret = read_bursts(s, file);
	}
	return s->stop ? 0 : ret;
}

int ep_pcap_run_live(struct src *s)
{
	struct pollfd pfd = {.fd = pcap_get_selectable_fd(s->pcap), .events = POLLIN};
	struct pcap_stat ps;
	char errbuf[PCAP_ERRBUF_SIZE];

	/* Non-blocking reads and a short poll: windows close on time when the link is idle. */
	if (pfd.fd < 0 || pcap_setnonblock(s->pcap, 1, errbuf) < 0) {
		ep_log_err("capture: cannot poll this source: %s", errbuf);
		return -1;
	}
	while (!s->stop) {
		int n;

		if (poll(&pfd, 1, 10) < 0 && errno != EINTR) {
			ep_log_err("capture: poll: %s", strerror(errno));
			return -1;
		}
		n = pcap_dispatch(s->pcap, 4096, on_packet, (u_char *)s);

		if (n == PCAP_ERROR) {
			ep_log_err("capture: %s", pcap_geterr(s->pcap));
			return -1;
		}
		maybe_reload(s);
		ep_tracker_advance(s->probe.tracker, ep_wall_ns());
		if (pcap_stats(s->pcap, &ps) == 0) {
			uint64_t *st = ep_tracker_stats(s->probe.tracker);

			st[EP_ST_src_drops] = ps.ps_drop;
			st[EP_ST_src_ifdrops] = ps.ps_ifdrop;
		}
	}
	return 0;
}

int ep_pcap_run_file(struct src *s, const char *file, const char *filter, uint32_t loops)
{
	uint32_t i;

	if (s->realtime)
		s->shift = 0; /* set from the first packet */
	for (i = 0; (loops == 0 || i < loops) && !s->stop; i++) {
		int n;

		if (i > 0) {
			ep_pcap_close_source(s);
			if (ep_pcap_open_source(s, file, NULL, 0, 0, filter) < 0)
				return -1;
			s->port_xor = (uint16_t)(i * 7919u);
		}
		if (s->realtime && !s->have_first && s->use_pf) {
			/* Shift so that the first packet is now. */
			struct ep_pcaprec r;

			if (next_record(s, file, &r) == 1) {
				s->shift = (int64_t)(ep_wall_ns() - r.ts_ns);
				on_record(s, r.data, r.caplen, r.ts_ns);
			}
		} else if (s->realtime && !s->have_first) {
			struct pcap_pkthdr *h;
			const u_char *b;

			if (pcap_next_ex(s->pcap, &h, &b) == 1) {
				uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull +
					     (uint64_t)h->ts.tv_usec * s->ts_mult;

				s->shift = (int64_t)(ep_wall_ns() - t);
				on_packet((u_char *)s, h, b);
			}
		} else if (s->realtime) {
			/* The next loop starts 100 ms after this one ended. */
			s->shift += (int64_t)(s->last_ts - s->first_ts) + 100000000;
		}
		if (s->use_pf) {
			if (read_in_place(s, file) < 0)
				return -1;
			continue;
		}
		n = pcap_loop(s->pcap, -1, on_packet, (u_char *)s);
		if (n == PCAP_ERROR) {
			ep_log_err("--read %s: %s", file, pcap_geterr(s->pcap));
			return -1;
		}
	}
	return 0;
}
