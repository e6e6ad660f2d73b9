/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgeprobe-collector - receives every probe's windows, merges them per ASN,
 * keeps roll-ups, and serves the dashboard, the JSON API, /metrics, the
 * stream of closed windows and (optionally) Kafka.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert_out.h"
#include "api.h"
#include "backlog.h"
#include "collector.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "qoe.h"
#include "wallclock.h"
#ifdef EP_HAVE_KAFKA
#include "kafka.h"
#endif

#define EP_INGEST_BACKLOG_BYTES (32u << 20) /* messages held while a query has the lock */

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_reload = 1;
	else
		g_stop = 1;
}


struct app {
	struct ep_collector c;
	struct ep_history *history;      /* NULL: memory only */
	struct ep_backlog backlog;       /* messages held while a reader has the lock */
	uint64_t deferred, waited;       /* counted outside the lock, published under it */
	uint64_t version_said;           /* when another wire version was last logged */
	struct ep_http *http;
	struct ep_http *qoe_http;        /* --qoe-http: the players' listener */
	struct ep_qoe qoe;               /* --qoe: players' CMCD reports */
	struct ep_alert_out alerts;
#ifdef EP_HAVE_KAFKA
	struct ep_kafka *kafka;
#endif
};

/*
 * Merge one message.  One of another wire version is refused (counted as
 * version); its sender is named in the log, at most once a minute.
 */
static void ingest(struct app *a, const uint8_t *msg, size_t len, uint64_t now)
{
	if (ep_collector_ingest(&a->c, msg, len, now) == EP_WIRE_E_VERSION &&
	    now - a->version_said >= 60 * 1000000000ull) {
		a->version_said = now;
		ep_log_warn("refused a message of wire version %u: this collector speaks version %u "
			    "(probe and collector must be of releases with the same wire version; "
			    "docs/wire-protocol.md)", len > 4 ? msg[4] : 0, EP_WIRE_VERSION);
	}
}

static void ingest_held(const uint8_t *msg, size_t len, uint64_t now_ns, void *ctx)
{
	ingest(ctx, msg, len, now_ns);
}

/* Under the lock: merge what was held, in order, and publish the ingest thread's counts. */
static void catch_up(struct app *a)
{
	ep_backlog_drain(&a->backlog, ingest_held, a);
	a->c.ctr[EP_CC_ingest_deferred] = a->deferred;
	a->c.ctr[EP_CC_ingest_waited] = a->waited;
}

/*
 * Ingest never waits for a reader: when a query holds the lock, the message is
 * held in the backlog and merged as soon as the lock is free.  Only a full
 * backlog makes ingest wait (the socket buffers hold the rest meanwhile).
 */
static void on_msg(const uint8_t *msg, size_t len, void *ctx)
{
	struct app *a = ctx;
	uint64_t now = ep_wall_ns();

	if (pthread_mutex_trylock(&a->c.lock) != 0) {
		if (ep_backlog_put(&a->backlog, msg, len, now) == 0) {
			a->deferred++;
			return;
		}
		a->waited++;
		pthread_mutex_lock(&a->c.lock);
	}
	catch_up(a);
	ingest(a, msg, len, now);
	pthread_mutex_unlock(&a->c.lock);
}

/* The bound ports as one JSON line, replaced atomically (tests listen on port 0). */
static int write_ports(const char *path, const struct ep_net *net, unsigned nl, unsigned http)
{
	json_t *doc = json_pack("{s:[],s:I}", "listen", "http", (json_int_t)http);
	char tmp[4200];
	unsigned i;
	FILE *fp;
	int ok;

	for (i = 0; doc && i < nl; i++)
		json_array_append_new(json_object_get(doc, "listen"),
				      json_integer(ep_net_port(net, i)));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = doc ? fopen(tmp, "w") : NULL;
	if (!fp) {
		json_decref(doc);
		return doc ? -errno : -ENOMEM;
	}
	ok = json_dumpf(doc, fp, EP_JV_FLAGS) == 0 && fputc('\n', fp) != EOF;
	json_decref(doc);
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(tmp, path) < 0)
		return -errno;
	return 0;
}

/*
 * Write the replay window: taken under the lock, written outside it, replaced
 * atomically.  Without wait, a reader holding the lock defers it (-EBUSY).
 */
static int save_state(struct ep_collector *c, const char *path, int wait)
{
	char tmp[4200];
	size_t len = 0;
	char *text;
	FILE *fp;
	int ok;

	if (wait)
		pthread_mutex_lock(&c->lock);
	else if (pthread_mutex_trylock(&c->lock) != 0)
		return -EBUSY;
	text = ep_collector_state_text(c, &len);
	pthread_mutex_unlock(&c->lock);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = text ? fopen(tmp, "w") : NULL;
	ok = fp && fwrite(text, 1, len, fp) == len;
	if (fp)
		ok = (fclose(fp) == 0) && ok;
	ok = ok && rename(tmp, path) == 0;
	free(text);
	if (!ok) {
		pthread_mutex_lock(&c->lock);
		if (!c->ctr[EP_CC_state_errors]++)
			ep_log_warn("state file %s: cannot write: %s", path, strerror(errno));
		pthread_mutex_unlock(&c->lock);
	}
	return 0;
}

static void on_publish(const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct app *a = ctx;

	ep_alerts_window(a->c.alerts, &a->c, b, step_ns, ep_wall_ns());

	if (a->http) {
		size_t len;
		/* every entry's quantiles: only for a subscriber (8 us an entry, under the lock) */
		char *json = ep_http_wants_windows(a->http)
				 ? ep_api_window_json(&a->c, b, step_ns, &len)
				 : NULL;

		if (json)
			ep_http_publish(a->http, json, len);
		free(json);
		/* The window's close alone, for pages that only need to know (?events=tick). */
		json = ep_jv_dump(json_pack("{s:o,s:o,s:I}", "start_ns", ep_jv_u64(b->start),
					    "end_ns", ep_jv_u64(b->start + step_ns), "entries",
					    (json_int_t)b->set.n),
				  &len);
		if (json)
			ep_http_publish_event(a->http, "tick", json, len);
		free(json);
	}
#ifdef EP_HAVE_KAFKA
	if (a->kafka)
		ep_kafka_window(a->kafka, &a->c, b, step_ns);
#endif
}

static void on_persist(const char *probe, const struct ep_bucket *b, uint64_t step_ns, void *ctx)
{
	struct app *a = ctx;

	ep_history_put(a->history, probe, b, step_ns, ep_wall_ns());
}

static void on_persist_org(uint32_t asn, const char *org, void *ctx)
{
	struct app *a = ctx;

	ep_history_put_org(a->history, asn, org, ep_wall_ns());
}

static long read_older(void *ctx, const char *probe, uint64_t step_ns, uint64_t start_ns,
		       uint64_t end_ns, const struct ep_read *want, ep_store_rows_cb cb,
		       void *cb_ctx)
{
	struct app *a = ctx;

	return ep_history_read(a->history, probe, step_ns, start_ns, end_ns, want, cb, cb_ctx);
}

static int others_hold(void *ctx, uint64_t step_ns, uint64_t start_ns, uint64_t end_ns)
{
	struct app *a = ctx;

	return ep_history_others(a->history, step_ns, start_ns, end_ns);
}

static int probe_stored(void *ctx, const char *probe, uint64_t step_ns)
{
	struct app *a = ctx;
	uint64_t lo, hi;

	return ep_history_bounds(a->history, probe, step_ns, EP_WHOSE_EVERY, &lo, &hi) == 0;
}

/* Under the lock: the history's counters into the collector's. */
static void history_counters(struct app *a, uint64_t now)
{
	struct ep_history_stats hs;

	if (!a->history)
		return;
	ep_history_stats(a->history, &hs, now);
	a->c.ctr[EP_CC_history_buckets_written] = hs.ctr[EP_HC_buckets_written];
	a->c.ctr[EP_CC_history_rows_written] = hs.ctr[EP_HC_rows_written];
	a->c.ctr[EP_CC_history_buckets_dropped] = hs.ctr[EP_HC_buckets_dropped];
	a->c.ctr[EP_CC_history_write_errors] = hs.ctr[EP_HC_write_errors];
	a->c.ctr[EP_CC_history_read_errors] = hs.ctr[EP_HC_read_errors];
	a->c.ctr[EP_CC_history_rows_expired] = hs.ctr[EP_HC_rows_expired];
	a->c.ctr[EP_CC_history_rows_corrupt] = hs.ctr[EP_HC_rows_corrupt];
	a->c.history_queue_bytes = hs.queue_bytes;
	a->c.history_lag_ns = hs.lag_ns;
}

/* Open the history and refill the roll-ups from it. @return 0, or -1 (said why) */
static int history_start(struct app *a, const struct ep_history_cfg *cfg)
{
	static char host[64];
	struct ep_history_cfg hc = *cfg;
	char err[300];
	long n;

	if (!hc.id) {
		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			snprintf(host, sizeof(host), "collector");
		hc.id = host;
	}
	cfg = &hc;
	if (ep_history_open(&a->history, cfg, &a->c.hcfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-collector: --history '%s': %s\n", cfg->path, err);
		return -1;
	}
	n = ep_history_restore(a->history, &a->c);
	if (n < 0) {
		fprintf(stderr, "edgeprobe-collector: --history '%s': cannot read it back: %s\n",
			cfg->path, strerror((int)-n));
		return -1;
	}
	ep_log_info("history: %s (%s, as '%s'); %ld roll-up buckets reloaded", cfg->path,
		    ep_history_backend(a->history), cfg->id, n);
	a->c.persist = on_persist;
	a->c.persist_org = on_persist_org;
	a->c.persist_ctx = a;
	a->c.older = read_older;
	a->c.others = others_hold;
	a->c.stored = probe_stored;
	a->c.older_ctx = a;
	a->c.history_on = 1;
	history_counters(a, ep_wall_ns()); /* what the start did (retention), before HTTP answers */
	return 0;
}

/* --regions (or the installed default when present), then --accept-region. @return 0, -1 (said) */
static int load_regions(struct ep_collector *c, const char *path, const char *const *accept,
			int naccept)
{
	char err[512];
	int i;

	if (!path && access(EP_DEFAULT_REGIONS, R_OK) == 0)
		path = EP_DEFAULT_REGIONS;
	if (!path || !strcmp(path, "none")) {
		if (naccept) {
			fprintf(stderr, "edgeprobe-collector: --accept-region needs --regions\n");
			return -1;
		}
		ep_log_info("no --regions (and none at %s): region= knows no region",
			    EP_DEFAULT_REGIONS);
		return 0;
	}
	if (ep_regions_load(path, &c->regions, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-collector: --regions: %s\n", err);
		return -1;
	}
	ep_log_info("regions: %u from %s (%u countries)", c->regions.n, path, c->regions.countries);
	for (i = 0; i < naccept; i++) {
		unsigned id = ep_region_find(&c->regions, accept[i]);

		if (!id) {
			fprintf(stderr, "edgeprobe-collector: --accept-region '%s': no such region in "
					"%s\n", accept[i], path);
			return -1;
		}
		c->accept_region[id] = 1;
		c->accept_limited = 1;
		ep_log_info("keeping only records of countries in region '%s'", accept[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	static struct ep_coll_opts o; /* large (the collector's configuration), as long as the run */
	struct ep_net *net = NULL;
	char err[512];
	uint64_t start, last_tick = 0, last_save = 0;
	int ret = 1;
	unsigned i;

	ret = ep_coll_opts_parse(&o, argc, argv);
	if (ret)
		return ret > 0 ? 0 : 2;
	ret = 1;
	o.allow[o.nallow] = NULL;
	if (o.nallow)
		o.cfg.allow = o.allow;
	if (!o.nlisten)
		o.listen_urls[o.nlisten++] = "udp://127.0.0.1:4739";
	o.cfg.mem_extra = EP_INGEST_BACKLOG_BYTES;
	ret = ep_collector_init(&app.c, &o.cfg);
	if (ret == -ENOSPC) {
		fprintf(stderr, "edgeprobe-collector: --memcap: the fixed tables and the ingest "
				"backlog take %" PRIu64 " MiB; give at least %" PRIu64 " MiB\n",
			app.c.mem_fixed >> 20, (uint64_t)(app.c.mem_fixed + EP_MEMCAP_ROOM) >> 20);
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "edgeprobe-collector: bad roll-up configuration (each tier must hold "
				"at least one window of the next)\n");
		return 2;
	}
	if (load_regions(&app.c, o.regions, o.accept_regions, o.naccept_regions) < 0)
		return 2;
	ret = 1;
	app.c.publish = on_publish;
	app.c.publish_ctx = &app;
	if (ep_backlog_init(&app.backlog, EP_INGEST_BACKLOG_BYTES) < 0)
		goto out;
	if (!o.hcfg.tls_cert != !o.hcfg.tls_key) {
		fprintf(stderr, "edgeprobe-collector: --tls-cert and --tls-key go together\n");
		ret = 2;
		goto out;
	}
	if (o.state_file) {
		int n = ep_collector_state_load(&app.c, o.state_file);

		if (n >= 0)
			ep_log_info("state: %d probes' replay windows from %s", n, o.state_file);
		else if (n != -ENOENT) {
			app.c.ctr[EP_CC_state_errors]++;
			ep_log_warn("state file %s: %s; starting without it", o.state_file,
				    n == -EINVAL ? "malformed" : strerror(-n));
		}
	}
	if (o.histcfg.path && history_start(&app, &o.histcfg) < 0) {
		ret = 2;
		goto out;
	}
	if (!o.histcfg.path)
		ep_log_info("no --history: roll-ups are kept in memory only (lost on restart)");
	if (ep_alert_out_start(&app.alerts, &o, &app.c, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-collector: %s\n", err);
		ret = 2;
		goto out;
	}
	if (ep_net_new(&net, &o.ncfg) < 0)
		goto out;
	for (i = 0; i < o.nlisten; i++) {
		const char *u = o.listen_urls[i];

		if (ep_net_listen(net, u, err, sizeof(err)) < 0) {
			fprintf(stderr, "edgeprobe-collector: %s\n", err);
			ret = 2;
			goto out;
		}
		ep_log_info("listening on %s (port %u)", u, ep_net_port(net, i));
		if (!o.cfg.keylen && !strstr(u, "://127.") && !strstr(u, "://[::1]") &&
		    !strstr(u, "://localhost") && strncmp(u, "unix:", 5))
			ep_log_warn("%s is not loopback and no --key-file is set: anyone who reaches it "
				    "can write data (see docs/operations.md)", u);
	}
	if (o.kbrokers || o.kmock) {
#ifdef EP_HAVE_KAFKA
		if (ep_kafka_open(o.kbrokers, o.ktopic, app.alerts.engine ? o.kalert_topic : NULL,
				  (int)o.kmock, o.kqueue, o.ktimeout, &app.kafka, err, sizeof(err)) < 0) {
			fprintf(stderr, "edgeprobe-collector: %s\n", err);
			ret = 2;
			goto out;
		}
		ep_log_info("kafka: producing to topic %s at %s%s", o.ktopic,
			    ep_kafka_bootstrap(app.kafka), o.kmock ? " (librdkafka mock cluster)" : "");
		if (app.alerts.engine)
			ep_log_info("kafka: alerts to topic %s", o.kalert_topic);
		app.alerts.kafka = app.kafka;
#else
		fprintf(stderr, "edgeprobe-collector: built without librdkafka\n");
		ret = 2;
		goto out;
#endif
	}
	if (o.qoe && ep_qoe_start(&app.qoe, &app.c, app.history, &o, &app.qoe_http) < 0) {
		ret = 2;
		goto out;
	}
	if (o.hcfg.addr) {
		if (o.hcfg.web_dir && !*o.hcfg.web_dir)
			o.hcfg.web_dir = NULL;
		if (ep_http_start(&app.c, &o.hcfg, &app.http, err, sizeof(err)) < 0) {
			fprintf(stderr, "edgeprobe-collector: %s\n", err);
			ret = 2;
			goto out;
		}
		ep_log_info("http on %s (port %u): dashboard /, API /api/v1/, metrics /metrics",
			    o.hcfg.addr, ep_http_port(app.http));
		app.alerts.http = app.http;
		if (o.hcfg.web_dir) {
			struct stat st;

			if (stat(o.hcfg.web_dir, &st) < 0 || !S_ISDIR(st.st_mode))
				ep_log_warn("--web-dir '%s' is not a directory: no dashboard",
					    o.hcfg.web_dir);
		}
	}
	if (o.ports_file &&
	    write_ports(o.ports_file, net, o.nlisten, app.http ? ep_http_port(app.http) : 0) < 0) {
		fprintf(stderr, "edgeprobe-collector: --ports-file '%s': %s\n", o.ports_file,
			strerror(errno));
		ret = 2;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	start = ep_wall_ns();
	while (!g_stop) {
		uint64_t now;

		ep_net_poll(net, 50, on_msg, &app);
		if (g_reload) {
			g_reload = 0;
			ep_alert_out_reload(&app.alerts, &app.c.lock);
		}
		now = ep_wall_ns();
		/* A reader holding the lock: tick on the next round (ingest does not wait). */
		if (now - last_tick >= 20000000ull && pthread_mutex_trylock(&app.c.lock) == 0) {
			const struct ep_net_stats *ns = ep_net_stats(net);

			last_tick = now;
			catch_up(&app);
			app.c.ctr[EP_CC_frames_oversized] = ns->frames_oversized;
			app.c.ctr[EP_CC_tcp_connections] = ns->tcp_accepted;
			app.c.ctr[EP_CC_tcp_refused] = ns->tcp_refused;
			app.c.ctr[EP_CC_tcp_idle_closed] = ns->tcp_idle_closed;
			app.c.ctr[EP_CC_tcp_addr_refused] = ns->tcp_addr_refused;
			ep_collector_tick(&app.c, now, 0);
			ep_alerts_tick(app.c.alerts, &app.c, now);
			ep_alert_out_counters(&app.alerts, &app.c);
			history_counters(&app, now);
#ifdef EP_HAVE_KAFKA
			if (app.kafka) {
				struct ep_kafka_stats ks;

				ep_kafka_poll(app.kafka);
				ks = ep_kafka_stats(app.kafka);
				app.c.ctr[EP_CC_kafka_produced] = ks.produced;
				app.c.ctr[EP_CC_kafka_delivered] = ks.delivered;
				app.c.ctr[EP_CC_kafka_queue_full] = ks.queue_full;
				app.c.ctr[EP_CC_kafka_failed] = ks.failed;
			}
#endif
			pthread_mutex_unlock(&app.c.lock);
		}
		if (o.state_file && now - last_save >= 5000000000ull &&
		    save_state(&app.c, o.state_file, 0) == 0)
			last_save = now;
		if (o.run_s && now - start >= (uint64_t)o.run_s * 1000000000ull)
			break;
	}
	if (o.state_file)
		save_state(&app.c, o.state_file, 1);
	ep_http_stop(app.qoe_http); /* no more players' reports: close their last windows */
	app.qoe_http = NULL;
	ep_http_stop(app.http);
	app.http = NULL;
	app.alerts.http = NULL;
	if (app.c.qoe)
		ep_qoe_close_all(&app.qoe);
	pthread_mutex_lock(&app.c.lock);
	catch_up(&app);
	ep_collector_tick(&app.c, ep_wall_ns(), 1);
	ep_log_info("stopping: %" PRIu64 " messages received, %" PRIu64 " merged, %" PRIu64
		    " rejected, %u probes",
		    app.c.ctr[EP_CC_msgs_received], app.c.ctr[EP_CC_msgs_accepted],
		    app.c.ctr[EP_CC_msgs_rejected], app.c.nprobes);
	pthread_mutex_unlock(&app.c.lock);
	ret = 0;
out:
	ep_http_stop(app.http);
	ep_http_stop(app.qoe_http);
	app.c.qoe = NULL;
	ep_qoe_fini(&app.qoe);
	app.c.alerts = NULL;
	ep_alert_out_stop(&app.alerts, 2000);
#ifdef EP_HAVE_KAFKA
	ep_kafka_close(app.kafka, 5000);
#endif
	ep_net_free(net);
	ep_history_close(app.history); /* writes what the last tick closed */
	ep_collector_fini(&app.c);
	ep_backlog_fini(&app.backlog);
	ep_coll_opts_fini(&o);
	return ret;
}
