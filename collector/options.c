/* SPDX-License-Identifier: BSD-3-Clause */
/* options.c - edgeprobe-collector's options: the command line over an INI file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include "api.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "utf8.h"

#ifndef EP_VERSION
#define EP_VERSION "0.0.0"
#endif
#ifndef EP_DEFAULT_WEB_DIR
#define EP_DEFAULT_WEB_DIR ""
#endif

enum {
	O_LISTEN = 1, O_HTTP, O_WEB, O_ALLOW, O_KEY, O_TIERS, O_PTIERS, O_MAXASN, O_MAXPROBES,
	O_MAXVIEWS, O_METRICSASN, O_GRACE, O_HTTPCONNS, O_TCPCONNS, O_SKEW, O_MEMCAP, O_STATE,
	O_HTTPADDR, O_HTTPTIMEOUT, O_SSEMAX, O_SSEADDR, O_HTTPHOST, O_TOKEN, O_TLSCERT, O_TLSKEY,
	O_TCPADDR, O_TCPIDLE, O_QBUDGET, O_PORTS, O_KBROKERS, O_KTOPIC, O_KMOCK, O_KQUEUE, O_KTIMEOUT,
	O_RUN, O_QUIET, O_CONFIG, O_HELP, O_VERSION, O_HISTORY, O_RETAIN, O_HQUEUE, O_HISTID,
	O_ARULES, O_AM, O_AHOOK, O_AQUEUE, O_ARESEND, O_ASTATES, O_KATOPIC, O_EXTURL, O_MPROBE,
	O_REGIONS, O_ACCEPTREG, O_QOE, O_QOEHTTP, O_QOEASN, O_QOEPROXY, O_QOERATE, O_QOESESS, O_QOEMEMCAP
};

/* The options' state: set from the configuration file, then the command line. */
static const struct option opts[] = {
	{"listen", required_argument, NULL, O_LISTEN},
	{"http", required_argument, NULL, O_HTTP},
	{"web-dir", required_argument, NULL, O_WEB},
	{"allow-probe", required_argument, NULL, O_ALLOW},
	{"key-file", required_argument, NULL, O_KEY},
	{"tiers", required_argument, NULL, O_TIERS},
	{"probe-tiers", required_argument, NULL, O_PTIERS},
	{"max-asns", required_argument, NULL, O_MAXASN},
	{"max-probes", required_argument, NULL, O_MAXPROBES},
	{"max-probe-views", required_argument, NULL, O_MAXVIEWS},
	{"metrics-top", required_argument, NULL, O_METRICSASN},
	{"grace-ms", required_argument, NULL, O_GRACE},
	{"http-max-conns", required_argument, NULL, O_HTTPCONNS},
	{"tcp-max-conns", required_argument, NULL, O_TCPCONNS},
	{"max-skew", required_argument, NULL, O_SKEW},
	{"memcap", required_argument, NULL, O_MEMCAP},
	{"state-file", required_argument, NULL, O_STATE},
	{"history", required_argument, NULL, O_HISTORY},
	{"retain", required_argument, NULL, O_RETAIN},
	{"history-queue", required_argument, NULL, O_HQUEUE},
	{"history-id", required_argument, NULL, O_HISTID},
	{"http-max-per-addr", required_argument, NULL, O_HTTPADDR},
	{"http-timeout-s", required_argument, NULL, O_HTTPTIMEOUT},
	{"sse-max", required_argument, NULL, O_SSEMAX},
	{"sse-max-per-addr", required_argument, NULL, O_SSEADDR},
	{"http-host", required_argument, NULL, O_HTTPHOST},
	{"api-token-file", required_argument, NULL, O_TOKEN},
	{"tls-cert", required_argument, NULL, O_TLSCERT},
	{"tls-key", required_argument, NULL, O_TLSKEY},
	{"tcp-max-per-addr", required_argument, NULL, O_TCPADDR},
	{"tcp-idle-s", required_argument, NULL, O_TCPIDLE},
	{"query-budget", required_argument, NULL, O_QBUDGET},
	{"ports-file", required_argument, NULL, O_PORTS},
	{"kafka-brokers", required_argument, NULL, O_KBROKERS},
	{"kafka-topic", required_argument, NULL, O_KTOPIC},
	{"kafka-mock", required_argument, NULL, O_KMOCK},
	{"kafka-queue", required_argument, NULL, O_KQUEUE},
	{"kafka-timeout-ms", required_argument, NULL, O_KTIMEOUT},
	{"metrics-probe-asns", required_argument, NULL, O_MPROBE},
	{"alert-rules", required_argument, NULL, O_ARULES},
	{"regions", required_argument, NULL, O_REGIONS},
	{"accept-region", required_argument, NULL, O_ACCEPTREG},
	{"qoe", no_argument, NULL, O_QOE},
	{"qoe-http", required_argument, NULL, O_QOEHTTP},
	{"qoe-asn-db", required_argument, NULL, O_QOEASN},
	{"qoe-trusted-proxy", required_argument, NULL, O_QOEPROXY},
	{"qoe-rate", required_argument, NULL, O_QOERATE},
	{"qoe-max-sessions", required_argument, NULL, O_QOESESS},
	{"qoe-memcap", required_argument, NULL, O_QOEMEMCAP},
	{"alertmanager", required_argument, NULL, O_AM},
	{"alert-webhook", required_argument, NULL, O_AHOOK},
	{"alert-queue", required_argument, NULL, O_AQUEUE},
	{"alert-resend-s", required_argument, NULL, O_ARESEND},
	{"alert-max-states", required_argument, NULL, O_ASTATES},
	{"kafka-alert-topic", required_argument, NULL, O_KATOPIC},
	{"external-url", required_argument, NULL, O_EXTURL},
	{"run-seconds", required_argument, NULL, O_RUN},
	{"quiet", no_argument, NULL, O_QUIET},
	{"config", required_argument, NULL, O_CONFIG},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

static void opts_default(struct ep_coll_opts *o)
{
	memset(o, 0, sizeof(*o));
	ep_collector_cfg_default(&o->cfg);
	o->qcfg.rate = 100;
	o->qcfg.max_sessions = 262144;
	o->qcfg.memcap = 1ull << 30;
	o->hcfg = (struct ep_http_cfg){.addr = "127.0.0.1:8080", .web_dir = EP_DEFAULT_WEB_DIR,
				       .max_conns = 64, .timeout_s = 15};
	o->ncfg = (struct ep_net_cfg){.max_conns = 256, .per_addr = 16, .idle_s = 30};
	o->histcfg.queue_max = 64u << 20;
	o->histcfg.flush_ns = 1000000000ull;
	ep_history_parse_retain(&o->histcfg, "1s=1d,1m=90d,1h=400d");
	o->ktopic = "edgeprobe-windows";
	o->grace_ms = 500;
	o->kqueue = 100000;
	o->ktimeout = 30000;
	o->kalert_topic = "edgeprobe-alerts";
	o->alert_queue = 10000;
	o->alert_resend_s = 60;
	o->alert_max_states = 100000;
}

/* One option. @return 0, 1 to exit 0 (help, version), -1 on a bad value (said). */
static int apply(struct ep_coll_opts *o, int opt, const char *optarg)
{
	uint32_t u;

	switch (opt) {
	case O_LISTEN:
		if (o->nlisten == MAX_LISTEN) {
			fprintf(stderr, "edgeprobe-collector: --listen: at most %d\n", MAX_LISTEN);
			return -1;
		}
		o->listen_urls[o->nlisten++] = optarg;
		return 0;
	case O_HTTP:
		o->hcfg.addr = strcmp(optarg, "off") ? optarg : NULL;
		return 0;
	case O_WEB:
		o->hcfg.web_dir = optarg;
		return 0;
	case O_ALLOW:
		if (o->nallow == MAX_ALLOW || !*optarg || strlen(optarg) > EP_WIRE_PROBE_MAX) {
			fprintf(stderr, "edgeprobe-collector: --allow-probe '%s': 1..%d bytes, at most %d ids\n",
				optarg, EP_WIRE_PROBE_MAX, MAX_ALLOW);
			return -1;
		}
		o->allow[o->nallow++] = optarg;
		return 0;
	case O_KEY:
		if (ep_opt_read_key(optarg, &o->cfg) < 0)
			return -1;
		return 0;
	case O_TIERS:
		if (ep_opt_tiers("--tiers", optarg, &o->cfg.ntiers, o->cfg.steps, o->cfg.counts) < 0)
			return -1;
		return 0;
	case O_PTIERS:
		if (ep_opt_tiers("--probe-tiers", optarg, &o->cfg.probe_ntiers, o->cfg.probe_steps,
				o->cfg.probe_counts) < 0)
			return -1;
		return 0;
	case O_MAXASN:
		if (ep_opt_u32("--max-asns", optarg, 1, 16777215, &o->cfg.max_asns) < 0)
			return -1;
		return 0;
	case O_MAXPROBES:
		if (ep_opt_u32("--max-probes", optarg, 1, EP_MAX_PROBES_LIMIT, &o->cfg.max_probes) < 0)
			return -1;
		return 0;
	case O_MAXVIEWS:
		if (ep_opt_u32("--max-probe-views", optarg, 0, EP_MAX_PROBES_LIMIT, &o->cfg.max_probe_views) < 0)
			return -1;
		return 0;
	case O_METRICSASN:
		if (ep_opt_u32("--metrics-top", optarg, 0, 1000000, &o->cfg.metrics_top) < 0)
			return -1;
		return 0;
	case O_GRACE:
		if (ep_opt_u32("--grace-ms", optarg, 0, 600000, &o->grace_ms) < 0)
			return -1;
		o->cfg.grace_ns = (uint64_t)o->grace_ms * 1000000ull;
		return 0;
	case O_HTTPCONNS:
		if (ep_opt_u32("--http-max-conns", optarg, 1, 65536, &u) < 0)
			return -1;
		o->hcfg.max_conns = u;
		return 0;
	case O_TCPCONNS:
		if (ep_opt_u32("--tcp-max-conns", optarg, 1, 65536, &u) < 0)
			return -1;
		o->ncfg.max_conns = u;
		return 0;
	case O_TCPADDR:
		if (ep_opt_u32("--tcp-max-per-addr", optarg, 1, 65536, &u) < 0)
			return -1;
		o->ncfg.per_addr = u;
		return 0;
	case O_TCPIDLE:
		if (ep_opt_u32("--tcp-idle-s", optarg, 0, 86400, &u) < 0)
			return -1;
		o->ncfg.idle_s = u;
		return 0;
	case O_SKEW:
		if (ep_parse_duration(optarg, &o->cfg.max_skew_ns) < 0 || !o->cfg.max_skew_ns)
			return ep_opt_bad("--max-skew", optarg, "a duration such as 2s or 1m");
		return 0;
	case O_MEMCAP:
		if (ep_opt_size(optarg, 64ull << 20, &o->cfg.memcap) < 0)
			return ep_opt_bad("--memcap", optarg, "bytes with K, M or G (at least 64M), or 0");
		return 0;
	case O_QBUDGET:
		if (ep_opt_u32("--query-budget", optarg, 1000, UINT32_MAX, &u) < 0)
			return -1;
		o->cfg.query_budget = u;
		return 0;
	case O_HISTORY:
		o->histcfg.path = strcmp(optarg, "none") ? optarg : NULL;
		return 0;
	case O_HISTID:
		if (!*optarg || strlen(optarg) > 63 || !ep_utf8_valid(optarg, strlen(optarg)))
			return ep_opt_bad("--history-id", optarg, "a name of 1-63 bytes of UTF-8");
		o->histcfg.id = optarg;
		return 0;
	case O_RETAIN:
		if (ep_history_parse_retain(&o->histcfg, optarg) < 0)
			return ep_opt_bad("--retain", optarg, "STEP=SPAN,... such as 1s=1d,1m=90d");
		return 0;
	case O_HQUEUE: {
		uint64_t v;

		if (ep_opt_size(optarg, 1u << 20, &v) < 0 || !v)
			return ep_opt_bad("--history-queue", optarg, "bytes with K, M or G (at least 1M)");
		o->histcfg.queue_max = (size_t)v;
		return 0;
	}
	case O_STATE:
		o->state_file = optarg;
		return 0;
	case O_PORTS:
		o->ports_file = optarg;
		return 0;
	case O_HTTPADDR:
		if (ep_opt_u32("--http-max-per-addr", optarg, 1, 65536, &u) < 0)
			return -1;
		o->hcfg.per_addr = u;
		return 0;
	case O_HTTPTIMEOUT:
		if (ep_opt_u32("--http-timeout-s", optarg, 1, 3600, &u) < 0)
			return -1;
		o->hcfg.timeout_s = u;
		return 0;
	case O_SSEMAX:
		if (ep_opt_u32("--sse-max", optarg, 1, 4096, &u) < 0)
			return -1;
		o->hcfg.sse_max = u;
		return 0;
	case O_SSEADDR:
		if (ep_opt_u32("--sse-max-per-addr", optarg, 1, 4096, &u) < 0)
			return -1;
		o->hcfg.sse_per_addr = u;
		return 0;
	case O_HTTPHOST:
		if (o->nhosts == EP_HTTP_MAX_HOSTS || !*optarg)
			return ep_opt_bad("--http-host", optarg, "a name (at most 16)");
		o->hcfg.hosts[o->nhosts++] = optarg;
		return 0;
	case O_TOKEN:
		free(o->token);
		if (!(o->token = ep_opt_read_small("--api-token-file", optarg, 1)))
			return -1;
		o->hcfg.token = o->token;
		return 0;
	case O_TLSCERT:
		free(o->tls_cert);
		if (!(o->tls_cert = ep_opt_read_small("--tls-cert", optarg, 0)))
			return -1;
		o->hcfg.tls_cert = o->tls_cert;
		return 0;
	case O_TLSKEY:
		free(o->tls_key);
		if (!(o->tls_key = ep_opt_read_small("--tls-key", optarg, 0)))
			return -1;
		o->hcfg.tls_key = o->tls_key;
		return 0;
	case O_KBROKERS:
		o->kbrokers = optarg;
		return 0;
	case O_KTOPIC:
		o->ktopic = optarg;
		return 0;
	case O_KMOCK:
		if (ep_opt_u32("--kafka-mock", optarg, 1, 16, &o->kmock) < 0)
			return -1;
		return 0;
	case O_KQUEUE:
		if (ep_opt_u32("--kafka-queue", optarg, 1, 10000000, &o->kqueue) < 0)
			return -1;
		return 0;
	case O_KTIMEOUT:
		if (ep_opt_u32("--kafka-timeout-ms", optarg, 1, 600000, &o->ktimeout) < 0)
			return -1;
		return 0;
	case O_ARULES:
		o->alert_rules = optarg;
		return 0;
	case O_REGIONS:
		o->regions = optarg;
		return 0;
	case O_ACCEPTREG:
		if (o->naccept_regions == 16) {
			fprintf(stderr, "edgeprobe-collector: --accept-region: at most 16\n");
			return -1;
		}
		o->accept_regions[o->naccept_regions++] = optarg;
		return 0;
	case O_QOE:
		o->qoe = 1;
		return 0;
	case O_QOEHTTP:
		o->qoe = 1;
		o->qoe_http = optarg;
		return 0;
	case O_QOEASN:
		if (o->nqoe_asn_db == EP_ASN_MAX_ARGS) {
			fprintf(stderr, "edgeprobe-collector: --qoe-asn-db: at most %d\n",
				EP_ASN_MAX_ARGS);
			return -1;
		}
		o->qoe_asn_db[o->nqoe_asn_db++] = optarg;
		return 0;
	case O_QOEPROXY: {
		struct ep_http_qoe_cfg *pc = &o->qoe_proxies;

		if (pc->ntrusted == EP_QOE_MAX_PROXIES) {
			fprintf(stderr, "edgeprobe-collector: --qoe-trusted-proxy: at most %d\n",
				EP_QOE_MAX_PROXIES);
			return -1;
		}
		if (inet_pton(AF_INET, optarg, pc->trusted[pc->ntrusted].addr) == 1) {
			pc->trusted[pc->ntrusted++].family = 4;
		} else if (inet_pton(AF_INET6, optarg, pc->trusted[pc->ntrusted].addr) == 1) {
			pc->trusted[pc->ntrusted++].family = 6;
		} else {
			fprintf(stderr, "edgeprobe-collector: --qoe-trusted-proxy '%s': not an IP "
				"address\n", optarg);
			return -1;
		}
		return 0;
	}
	case O_QOERATE:
		return ep_opt_u32("--qoe-rate", optarg, 0, 1000000, &o->qcfg.rate) < 0 ? -1 : 0;
	case O_QOEMEMCAP:
		if (ep_opt_size(optarg, 16ull << 20, &o->qcfg.memcap) < 0)
			return ep_opt_bad("--qoe-memcap", optarg,
					 "bytes with K, M or G (at least 16M), or 0");
		return 0;
	case O_QOESESS:
		return ep_opt_u32("--qoe-max-sessions", optarg, 1024, 1u << 28,
				 &o->qcfg.max_sessions) < 0 ? -1 : 0;
	case O_MPROBE:
		return ep_opt_u32("--metrics-probe-asns", optarg, 0, 10000, &o->cfg.metrics_probe_asns) <
			       0 ? -1 : 0;
	case O_AM:
	case O_AHOOK:
		if ((opt == O_AM ? o->nalertmanagers : o->nwebhooks) == MAX_ALERT_URLS) {
			fprintf(stderr, "edgeprobe-collector: --%s: at most %d\n",
				opt == O_AM ? "alertmanager" : "alert-webhook", MAX_ALERT_URLS);
			return -1;
		}
		if (opt == O_AM)
			o->alertmanagers[o->nalertmanagers++] = optarg;
		else
			o->webhooks[o->nwebhooks++] = optarg;
		return 0;
	case O_AQUEUE:
		return ep_opt_u32("--alert-queue", optarg, 1, 1000000, &o->alert_queue) < 0 ? -1 : 0;
	case O_ARESEND:
		return ep_opt_u32("--alert-resend-s", optarg, 1, 3600, &o->alert_resend_s) < 0 ? -1 : 0;
	case O_ASTATES:
		return ep_opt_u32("--alert-max-states", optarg, 16, 10000000, &o->alert_max_states) < 0
			       ? -1 : 0;
	case O_KATOPIC:
		o->kalert_topic = optarg;
		return 0;
	case O_EXTURL:
		o->external_url = optarg;
		return 0;
	case O_RUN:
		if (ep_opt_u32("--run-seconds", optarg, 1, 31536000, &o->run_s) < 0)
			return -1;
		return 0;
	case O_CONFIG:
		return 0; /* read before the other options */
	case O_QUIET:
		ep_log_max = EP_LOG_ERR;
		return 0;
	case O_HELP:
		ep_coll_usage(stdout);
		return 1;
	case O_VERSION:
		printf("edgeprobe-collector %s\n", EP_VERSION);
		return 1;
	default:
		fprintf(stderr, "edgeprobe-collector: unknown option or missing argument\n");
		return -1;
	}
	return 0;
}

static int apply_cfg(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	if (apply(ctx, id, arg) < 0) {
		snprintf(err, errlen, "bad value '%s' (see above)", arg ? arg : "");
		return -1;
	}
	return 0;
}
/*
 * A step under 1 s named by --retain (100ms=10m) persists that tier too,
 * for the span given; it must be one of --tiers' steps.  @return 0 or -1
 */
static int fine_history(struct ep_coll_opts *o)
{
	uint32_t i, t;

	for (i = 0; i < o->histcfg.nretain; i++) {
		uint64_t step = o->histcfg.retain_step[i];

		if (step >= 1000000000ull)
			continue;
		for (t = 0; t < o->cfg.ntiers && o->cfg.steps[t] != step; t++)
			;
		if (t == o->cfg.ntiers) {
			fprintf(stderr, "edgeprobe-collector: --retain: %" PRIu64 "ms is not a step of "
					"--tiers (a step under 1 s is kept only if memory has it)\n",
				step / 1000000);
			return -1;
		}
		if (!o->cfg.persist_min_ns || step < o->cfg.persist_min_ns)
			o->cfg.persist_min_ns = step;
	}
	return 0;
}

int ep_coll_opts_parse(struct ep_coll_opts *o, int argc, char **argv)
{
	const char *config = ep_config_arg(argc, argv);
	int given[64], ngiven = 0, opt, ret;
	char err[512];

	opts_default(o);
	/* The command line wins: note what it sets, apply the file, then the command line. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == '?') {
			fprintf(stderr, "edgeprobe-collector: unknown option or missing argument: '%s'\n",
				argv[optind - 1]);
			ep_coll_usage(stderr);
			return -1;
		}
		if (ngiven < 64)
			given[ngiven++] = opt;
	}
	if (config && ep_config_load(&o->store, config, "edgeprobe-collector", opts, given,
				     ngiven, apply_cfg, o, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-collector: %s\n", err);
		return -1;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		ret = apply(o, opt, optarg);
		if (ret)
			return ret > 0 ? 1 : -1;
	}
	if (optind < argc) {
		fprintf(stderr, "edgeprobe-collector: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return fine_history(o);
}

void ep_coll_opts_fini(struct ep_coll_opts *o)
{
	free(o->token);
	free(o->tls_cert);
	free(o->tls_key);
}
