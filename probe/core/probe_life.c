/* SPDX-License-Identifier: BSD-3-Clause */
/* probe_life.c - a probe's life after set-up: signals, windows, ASN reloads, the run's end. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "probe.h"
#include "report.h"
#include "stats.h"

/*
 * The one process-wide object: a signal handler can reach nothing else.  Every
 * probe has one process, so one set of flags.
 */
static struct ep_probe_signals signals;

static void on_hup(int sig)
{
	(void)sig;
	signals.reload = 1;
	signals.reopen = 1;
}

/* SIGUSR1: reopen --json-out only (log rotation without a reload). */
static void on_usr1(int sig)
{
	(void)sig;
	signals.reopen = 1;
}

static void on_stop(int sig)
{
	(void)sig;
	signals.stop = 1;
}

struct ep_probe_signals *ep_probe_signals_init(void)
{
	signal(SIGHUP, on_hup);
	signal(SIGUSR1, on_usr1);
	return &signals;
}

void ep_probe_signals_stop(void)
{
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const struct {
	int id;
	enum ep_log_level lvl;
	const char *what;
} watch_conds[] = {
	{EP_WATCH_EVICTED, EP_LOG_WARN, "flows evicted from a full flow table (raise --max-flows)"},
	{EP_WATCH_ASN_OVERFLOW, EP_LOG_WARN, "flows counted in the 'other' ASN bucket (raise --max-asns)"},
	{EP_WATCH_BACKWARDS, EP_LOG_WARN, "packets older than the open window (clock stepped back?)"},
	{EP_WATCH_DROPPED, EP_LOG_WARN, "windows not delivered to a collector"},
	{EP_WATCH_SRC_DROPS, EP_LOG_WARN, "packets dropped by the capture source"},
	{EP_WATCH_MAP_FULL, EP_LOG_WARN, "BPF map updates failed (map full)"},
	{EP_WATCH_NOMEM, EP_LOG_ERR, "samples lost to allocation failure"},
	{EP_WATCH_SEND_ERRORS, EP_LOG_WARN, "wire messages a collector refused or could not take"},
};

static void watch_report(struct ep_probe *p, uint64_t t, const uint64_t *d, uint32_t interval_ms)
{
	uint64_t n;
	uint32_t i;

	if ((n = ep_ratelimit(&p->watch_rl[EP_WATCH_MALFORMED], d[EP_WATCH_MALFORMED], t, interval_ms)))
		ep_log_warn("%llu malformed frames (the latest: %s; every class has a counter)",
			    (unsigned long long)n, ep_stat_names[p->watch_malformed_last]);
	for (i = 0; i < sizeof(watch_conds) / sizeof(watch_conds[0]); i++)
		if ((n = ep_ratelimit(&p->watch_rl[watch_conds[i].id], d[watch_conds[i].id], t,
				      interval_ms)))
			ep_log(watch_conds[i].lvl, "%llu %s", (unsigned long long)n, watch_conds[i].what);
}

void ep_probe_watch(struct ep_probe *p, const uint64_t *stats)
{
	uint64_t d[EP_WATCH__COUNT] = {0};
	uint32_t i;

	for (i = EP_ST_PARSE_TRUNC_L2; i < EP_ST_PARSE_FIRST + EP_PARSE__COUNT; i++) {
		if (stats[i] != p->watch_last[i]) {
			d[EP_WATCH_MALFORMED] += stats[i] - p->watch_last[i];
			p->watch_malformed_last = i;
		}
	}
#define EP_D(st) (stats[EP_ST_##st] - p->watch_last[EP_ST_##st])
	d[EP_WATCH_EVICTED] = EP_D(flows_evicted);
	d[EP_WATCH_ASN_OVERFLOW] = EP_D(asn_overflow);
	d[EP_WATCH_BACKWARDS] = EP_D(time_backwards);
	d[EP_WATCH_DROPPED] = EP_D(windows_dropped);
	d[EP_WATCH_SRC_DROPS] = EP_D(src_drops) + EP_D(src_ifdrops);
	d[EP_WATCH_MAP_FULL] = EP_D(bpf_map_full);
	d[EP_WATCH_NOMEM] = EP_D(hist_nomem);
	d[EP_WATCH_SEND_ERRORS] = EP_D(send_errors);
#undef EP_D
	watch_report(p, now_ms(), d, 10000);
	/* Collector connections: each state change once. */
	if (stats[EP_ST_sink_connects] > p->watch_connects)
		ep_log_info("connected to a TCP collector (%llu connection%s so far)",
			    (unsigned long long)stats[EP_ST_sink_connects],
			    stats[EP_ST_sink_connects] == 1 ? "" : "s");
	if (stats[EP_ST_sink_backlog_bytes] && !p->watch_backlog)
		ep_log_warn("a TCP collector is not taking messages: queueing (up to --backlog-kb, "
			    "then whole windows are dropped)");
	else if (!stats[EP_ST_sink_backlog_bytes] && p->watch_backlog)
		ep_log_info("the collector backlog is drained");
	p->watch_connects = stats[EP_ST_sink_connects];
	p->watch_backlog = stats[EP_ST_sink_backlog_bytes];
	memcpy(p->watch_last, stats, sizeof(p->watch_last));
}

void ep_probe_watch_flush(struct ep_probe *p)
{
	uint64_t none[EP_WATCH__COUNT] = {0};

	watch_report(p, UINT64_MAX, none, 0);
}

void ep_probe_emit(struct ep_probe *p, const struct ep_window *w)
{
	uint64_t stats[EP_ST__COUNT];

	ep_exporter_window(w, p->exporter);
	memcpy(stats, w->stats, sizeof(stats));
	ep_exporter_patch_stats(p->exporter, stats);
	ep_probe_watch(p, stats);
}

void ep_probe_on_window(const struct ep_window *w, void *ctx)
{
	ep_probe_emit(ctx, w);
}

void ep_probe_rotate(struct ep_probe *p, const struct ep_probe_opts *o,
		     volatile sig_atomic_t *asked)
{
	char err[512];

	if (!*asked)
		return;
	*asked = 0;
	if (ep_probe_reopen_json(p, o, err, sizeof(err)) < 0)
		ep_log_err("%s", err);
}

void ep_probe_reload(struct ep_probe *p, const struct ep_probe_opts *o, ep_probe_adopt_fn adopt,
		     void *ctx)
{
	struct ep_asn_map *m;
	struct ep_asn_map_info info;
	char err[512] = "";
	int ret;

	if (ep_probe_load_asn(o, &m, err, sizeof(err)) < 0) {
		ep_log_err("SIGHUP: ASN data not reloaded, keeping the current table: %s", err);
		return;
	}
	ret = adopt(m, ctx, err, sizeof(err));
	if (ret == -EBUSY) {
		/* Still in use on the packet path: both tables are kept rather than risk a free. */
		ep_log_err("SIGHUP: %s", err);
		return;
	}
	if (ret < 0) {
		ep_log_err("SIGHUP: ASN data not reloaded, keeping the current table: %s", err);
		ep_asn_map_free(m);
		return;
	}
	ep_asn_map_free(p->asn);
	p->asn = m;
	ep_probe_set_dataset(p, o);
	ep_asn_map_info(m, &info);
	ep_log_info("SIGHUP: ASN data reloaded (%zu prefixes; %s)", info.prefixes4 + info.prefixes6,
		    p->dataset[0] ? p->dataset : "no data files");
}

void ep_probe_poll_signals(struct ep_probe *p, const struct ep_probe_opts *o,
			   struct ep_probe_signals *sig, ep_probe_adopt_fn adopt, void *ctx)
{
	ep_probe_rotate(p, o, &sig->reopen);
	if (!sig->reload)
		return;
	sig->reload = 0;
	ep_probe_reload(p, o, adopt, ctx);
}

int ep_probe_end(struct ep_probe *p, const struct ep_probe_opts *o, uint64_t *stats)
{
	int ret;

	ep_exporter_patch_stats(p->exporter, stats);
	ret = ep_exporter_finish(p->exporter, stats) < 0 ? -EIO : 0;
	if (ret < 0)
		ep_log_err("--json-out: write error");
	if (o->report)
		ep_report_print(stdout, p->exporter);
	ep_log_info("%llu packets, %llu TCP, %llu flows, %llu windows",
		    (unsigned long long)stats[EP_ST_packets],
		    (unsigned long long)stats[EP_ST_PARSE_OK],
		    (unsigned long long)stats[EP_ST_flows_created],
		    (unsigned long long)stats[EP_ST_windows]);
	return ret;
}

