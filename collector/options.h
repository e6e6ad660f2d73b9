/* SPDX-License-Identifier: BSD-3-Clause */
/* options.h - edgeprobe-collector's options, parsed into each part's configuration. */
#ifndef EP_COLL_OPTIONS_H
#define EP_COLL_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "collector.h"
#include "config.h"
#include "history.h"
#include "http.h"
#include "http_qoe.h"
#include "asn_map.h"
#include "net.h"

#define MAX_LISTEN 16
#define MAX_ALLOW 256
#define MAX_ALERT_URLS 4

/* Everything the options set: the configuration of each part, filled by apply(). */
struct ep_coll_opts {
	struct ep_collector_cfg cfg;
	struct ep_http_cfg hcfg;
	struct ep_net_cfg ncfg;
	struct ep_history_cfg histcfg;
	const char *state_file, *ports_file;
	unsigned nhosts;
	char *token, *tls_cert, *tls_key;   /* file contents, owned */
	const char *listen_urls[MAX_LISTEN], *allow[MAX_ALLOW + 1];
	const char *kbrokers, *ktopic, *kalert_topic;
	const char *alert_rules;            /* NULL: the installed default, if any */
	const char *regions;                /* NULL: the installed default, if any */
	const char *accept_regions[16];     /* --accept-region */
	int naccept_regions;
	const char *alertmanagers[MAX_ALERT_URLS], *webhooks[MAX_ALERT_URLS];
	const char *external_url;
	int qoe;                            /* --qoe, --qoe-http */
	const char *qoe_http;
	const char *qoe_asn_db[EP_ASN_MAX_ARGS];
	int nqoe_asn_db;
	struct ep_http_qoe_cfg qoe_proxies;
	struct ep_qoe_cfg qcfg;
	uint32_t nalertmanagers, nwebhooks, alert_queue, alert_resend_s, alert_max_states;
	uint32_t nlisten, nallow, grace_ms, kmock;
	uint32_t run_s, kqueue, ktimeout;
	struct ep_config_store store; /* --config's values, as long as the options */
};

/*
 * The defaults, then the --config file's values for what the command line
 * does not set, then the command line.
 * @return 0 to run, 1 to exit 0 (--help, --version), -1 to exit 2 (said why on stderr)
 */
int ep_coll_opts_parse(struct ep_coll_opts *o, int argc, char **argv);
void ep_coll_opts_fini(struct ep_coll_opts *o);

/*
 * qoe_start.c: --qoe: load the ASN data, start the players' view q (reloaded from and
 * persisted to history when not NULL), hand it to the collector and the API's listener
 * configuration, and open --qoe-http's listener.  @return 0, or -1 (said why on stderr)
 */
struct ep_history;
int ep_qoe_start(struct ep_qoe *q, struct ep_collector *c, struct ep_history *history,
		 struct ep_coll_opts *o, struct ep_http **listener);

/* options_values.c: option values, each refusal said on stderr with the flag. @return 0, -1 */
int ep_opt_u32(const char *flag, const char *v, uint32_t min, uint32_t max, uint32_t *out);
int ep_opt_bad(const char *flag, const char *v, const char *want); /* says so, returns -1 */
int ep_opt_size(const char *v, uint64_t min, uint64_t *out);       /* 0, or bytes >= min */
/* A small file's contents (malloc'ed; one_line: its first line), NULL (said why). */
char *ep_opt_read_small(const char *flag, const char *path, int one_line);
/* "100ms:2m,1s:1h,1m:1d" into steps and counts. */
int ep_opt_tiers(const char *flag, const char *v, uint32_t *n, uint64_t *steps,
		 uint32_t *counts);
/* --key-file into cfg's key. */
int ep_opt_read_key(const char *path, struct ep_collector_cfg *cfg);

/* options_usage.c: the --help text. */
void ep_coll_usage(FILE *fp);

#endif
