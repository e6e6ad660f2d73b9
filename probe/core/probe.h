/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * probe.h - what every probe binary shares: the common command-line options
 * (--asn-db, --local-net, --interval-ms, --max-flows, --probe-id,
 * --collector, --json-out, ...) and assembling ASN map, tracker, exporter and
 * sinks from them.  Sources (libpcap, DPDK, BPF) only feed packets.
 */
#ifndef EP_PROBE_H
#define EP_PROBE_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "asn_map.h"
#include "config.h"
#include "log.h"
#include "edgeprobe/ep_wire.h"
#include "exporter.h"
#include "netset.h"
#include "tracker.h"

#define EP_PROBE_MAX_FILES EP_ASN_MAX_ARGS
#define EP_PROBE_MAX_SINKS 8


struct ep_probe_opts {
	struct ep_config_store config;       /* --config's values (the pointers below may point in) */
	const char *asn_db[EP_PROBE_MAX_FILES];
	int n_asn_db;
	char local_net[1024];
	uint32_t interval_ms;
	uint32_t max_flows;
	uint32_t max_asns;
	uint32_t idle_timeout_s;
	uint32_t max_payload;
	const char *probe_id;
	const char *collectors[EP_PROBE_MAX_SINKS];
	int ncollectors;
	const char *json_out;
	int report;                  /* print the per-ISP table at the end */
	uint8_t key[EP_WIRE_KEY_MAX];  /* --key-file: HMAC-SHA256 key of the wire messages */
	size_t keylen;
	const char *user;            /* --user: drop to this user after setup */
	uint32_t backlog_kb;         /* --backlog-kb: per TCP collector */
};

/* Option ids of ep_probe_longopts start here. */
#define EP_OPT_BASE 1000

extern const struct option ep_probe_longopts[];
extern const char ep_probe_usage[];

void ep_probe_opts_defaults(struct ep_probe_opts *o);

/*
 * A probe's own option: @return 0 when handled, 1 to stop and exit 0 (--help,
 * --version), or -EINVAL with err naming the flag.
 */
typedef int (*ep_probe_own_opt)(int id, const char *arg, void *ctx, char *err, size_t errlen);

/*
 * Parse argv (from argv[1]): the probe's own options (n entries) go to own_opt,
 * the common ones into po; unknown options and stray arguments are errors.
 * @return 0 to go on, 1 to exit 0, -EINVAL with err saying what is wrong.
 */
int ep_probe_parse_args(int argc, char **argv, const struct option *own, size_t n,
			ep_probe_own_opt own_opt, void *ctx, struct ep_probe_opts *po, char *err,
			size_t errlen);

/*
 * Handle option id with its argument.
 * @return 0 when handled, 1 when id is not a common option, -EINVAL with err
 *         naming the flag and the problem.
 */
int ep_probe_opt(struct ep_probe_opts *o, int id, const char *arg, char *err, size_t errlen);

/* Conditions watched between windows and logged, rate-limited (ep_probe_watch). */
enum { EP_WATCH_MALFORMED, EP_WATCH_EVICTED, EP_WATCH_ASN_OVERFLOW, EP_WATCH_BACKWARDS,
       EP_WATCH_DROPPED, EP_WATCH_SRC_DROPS, EP_WATCH_MAP_FULL, EP_WATCH_NOMEM,
       EP_WATCH_SEND_ERRORS, EP_WATCH__COUNT };

struct ep_probe {
	struct ep_asn_map *asn;
	struct ep_netset local;
	struct ep_tracker *tracker;
	struct ep_exporter *exporter;
	struct ep_sink *sinks[EP_PROBE_MAX_SINKS];
	int nsinks;
	FILE *json;
	char probe_id[65];
	char dataset[128];   /* versions of the ASN (and country) data loaded, for every summary */
	uint64_t watch_last[EP_ST__COUNT];
	struct ep_ratelimit watch_rl[EP_WATCH__COUNT];
	uint64_t watch_connects, watch_backlog;
	uint32_t watch_malformed_last;       /* stat id of the latest malformation seen */
};

/*
 * Set by the signal handlers ep_probe_signals_init() installs; read and cleared by the
 * probe's loop.  SIGHUP asks for a reload (and a reopen), SIGUSR1 for a reopen of
 * --json-out only, SIGINT and SIGTERM (ep_probe_signals_stop) for the end.
 */
struct ep_probe_signals {
	volatile sig_atomic_t stop, reload, reopen;
};

/*
 * Install the SIGHUP and SIGUSR1 handlers (before anything slow: a rotation or
 * reload asked during start-up must not kill).  @return the process's flags
 */
struct ep_probe_signals *ep_probe_signals_init(void);

/* Install SIGINT and SIGTERM as stop requests (once set-up is done). */
void ep_probe_signals_stop(void);

/* Export one window, then watch its counters (ep_probe_watch). */
void ep_probe_emit(struct ep_probe *p, const struct ep_window *w);

/* ep_probe_emit as a tracker's on_window callback (ctx: the probe). */
void ep_probe_on_window(const struct ep_window *w, void *ctx);

/*
 * How a front end hands a new ASN table to its packet path.
 * @return 0 when adopted (the probe frees the old table), -EBUSY when the path
 *         may still use both (neither is freed), another negative errno when
 *         refused (the new one is freed); err says why.
 */
typedef int (*ep_probe_adopt_fn)(struct ep_asn_map *m, void *ctx, char *err, size_t errlen);

/*
 * SIGHUP: load the ASN data again and let adopt install it; a bad file, or a
 * table the front end refuses, is logged and the current table kept.
 */
void ep_probe_reload(struct ep_probe *p, const struct ep_probe_opts *o, ep_probe_adopt_fn adopt,
		     void *ctx);

/*
 * From a probe's loop: what the signals asked since the last call, a reopen of
 * --json-out (ep_probe_rotate) and an ASN reload (ep_probe_reload with adopt).
 */
void ep_probe_poll_signals(struct ep_probe *p, const struct ep_probe_opts *o,
			   struct ep_probe_signals *sig, ep_probe_adopt_fn adopt, void *ctx);

/*
 * The run's end, after the last window: the exporter's own counters into
 * stats, the summary record, --report's table and the log's last line.
 * @return 0, or -EIO when --json-out could not be written (logged)
 */
int ep_probe_end(struct ep_probe *p, const struct ep_probe_opts *o, uint64_t *stats);

/*
 * After each window: log what went wrong since the last one (malformed frames,
 * evictions, ASN overflow, clock steps, dropped windows, capture drops, map
 * and memory failures, collector connections and outages), at most one line
 * per condition every 10 s, each with the count since its last line.
 */
void ep_probe_watch(struct ep_probe *p, const uint64_t *stats);

/* Log what the watch's rate limits still hold back (at the end). */
void ep_probe_watch_flush(struct ep_probe *p);

/*
 * Load the ASN data, open the outputs and create the exporter; with
 * with_tracker, also one tracker feeding it (single-threaded probes).
 * @param reliable sinks block rather than drop (reading a file)
 * @param emit_empty emit windows without traffic (live)
 * @return 0, or a negative errno with err saying what and where.
 */
int ep_probe_setup(struct ep_probe *p, const struct ep_probe_opts *o, int reliable, int emit_empty,
		   int with_tracker, char *err, size_t errlen);

/* The tracker configuration the options ask for (the caller sets on_window and ctx). */
void ep_probe_tracker_cfg(const struct ep_probe *p, const struct ep_probe_opts *o, int emit_empty,
			  struct ep_tracker_cfg *cfg);

/*
 * Log rotation (SIGHUP, SIGUSR1): close --json-out and open its path again for
 * appending.  If the path cannot be opened the old stream is kept (counted in
 * json_reopen_errors).  Standard output is left alone.
 * @return 0, or a negative errno with err set.
 */
int ep_probe_reopen_json(struct ep_probe *p, const struct ep_probe_opts *o, char *err,
			 size_t errlen);

/*
 * From a probe's loop: when *asked (set by its signal handler), clear it and
 * reopen --json-out, logging a refusal.
 */
void ep_probe_rotate(struct ep_probe *p, const struct ep_probe_opts *o,
		     volatile sig_atomic_t *asked);

/*
 * --user: once setup is done, become that user keeping only the n capabilities
 * in keep, and log the result (or the error).  No-op without --user.
 * @return 0, or < 0 after logging why.
 */
int ep_probe_drop_privileges(const struct ep_probe_opts *o, const int *keep, int n);

/* NULL-safe in every member. */
void ep_probe_teardown(struct ep_probe *p);

/*
 * Load the ASN data the options name (--asn-db, or the default directory):
 * at start, and again on SIGHUP.  @return 0, or < 0 with err ("FILE:LINE: ...").
 */
/*
 * p->dataset from the VERSION (and COUNTRY_VERSION, when p->asn holds countries)
 * files beside the ASN data: the default directory, or that of the first
 * --asn-db file; "unknown" where a file is missing, "" with --asn-db none.
 */
void ep_probe_set_dataset(struct ep_probe *p, const struct ep_probe_opts *o);

int ep_probe_load_asn(const struct ep_probe_opts *o, struct ep_asn_map **out, char *err,
		      size_t errlen);

#endif
