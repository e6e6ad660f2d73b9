/* SPDX-License-Identifier: BSD-3-Clause */
/* probe.c - common probe options and assembly of the measurement pipeline. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hmac.h"
#include "log.h"
#include "config.h"
#include "privdrop.h"
#include "utf8.h"
#include "probe.h"
#include "stats.h"
#include "wire.h"

enum {
	O_ASN_DB = EP_OPT_BASE,
	O_LOCAL_NET,
	O_INTERVAL,
	O_MAX_FLOWS,
	O_MAX_ASNS,
	O_IDLE,
	O_PAYLOAD,
	O_PROBE_ID,
	O_COLLECTOR,
	O_JSON_OUT,
	O_REPORT,
	O_QUIET,
	O_KEY_FILE,
	O_USER,
	O_CONFIG,
	O_BACKLOG,
};

const struct option ep_probe_longopts[] = {
	{"asn-db", required_argument, NULL, O_ASN_DB},
	{"local-net", required_argument, NULL, O_LOCAL_NET},
	{"interval-ms", required_argument, NULL, O_INTERVAL},
	{"max-flows", required_argument, NULL, O_MAX_FLOWS},
	{"max-asns", required_argument, NULL, O_MAX_ASNS},
	{"idle-timeout-s", required_argument, NULL, O_IDLE},
	{"max-payload", required_argument, NULL, O_PAYLOAD},
	{"probe-id", required_argument, NULL, O_PROBE_ID},
	{"collector", required_argument, NULL, O_COLLECTOR},
	{"json-out", required_argument, NULL, O_JSON_OUT},
	{"report", no_argument, NULL, O_REPORT},
	{"quiet", no_argument, NULL, O_QUIET},
	{"key-file", required_argument, NULL, O_KEY_FILE},
	{"user", required_argument, NULL, O_USER},
	{"config", required_argument, NULL, O_CONFIG},
	{"backlog-kb", required_argument, NULL, O_BACKLOG},
	{NULL, 0, NULL, 0},
};

const char ep_probe_usage[] =
	"Measurement options (shared by every probe):\n"
	"  --asn-db FILE[,FILE]   ASN data: ip-location-db CSV or CAIDA pfx2as (repeatable;\n"
	"                         'none' for no ASN data). Default: " EP_DEFAULT_ASN_DIR "/asn-ipv{4,6}.csv\n"
	"  --local-net CIDR[,..]  the probe's side; the other side of a flow is the remote\n"
	"                         (default: the connection's initiator is the remote)\n"
	"  --interval-ms N        window length (default 100)\n"
	"  --max-flows N          flow table capacity, evicts beyond (default 1048576)\n"
	"  --max-asns N           distinct ASNs before the 'other' bucket (default 65536)\n"
	"  --idle-timeout-s N     established flow idle timeout (default 300)\n"
	"  --probe-id ID          probe name on the wire (default: host name)\n"
	"  --collector URL        udp://HOST:PORT, tcp://HOST:PORT, unix:PATH or file:PATH\n"
	"                         (repeatable)\n"
	"  --max-payload BYTES    wire message budget (default 1400)\n"
	"  --backlog-kb N         per TCP collector, messages kept while it is unreachable;\n"
	"                         beyond, whole windows are dropped, oldest first (default 65536)\n"
	"  --key-file PATH        sign every message with HMAC-SHA256 and this shared key\n"
	"  --user NAME            after setup, run as NAME with no (or only the needed) capabilities\n"
	"  --config FILE          options from an INI file (key = value, keys are option names;\n"
	"                         the command line wins)\n"
	"  --json-out FILE|-      one JSON object per window, then a summary line\n"
	"  --report               print the per-ISP latency table at the end\n"
	"  --quiet                only errors on stderr\n";

void ep_probe_opts_defaults(struct ep_probe_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ms = 100;
	o->max_flows = 1u << 20;
	o->max_asns = 65536;
	o->idle_timeout_s = 300;
	o->max_payload = EP_WIRE_DEFAULT_PAYLOAD;
	o->backlog_kb = (uint32_t)(EP_SINK_DEFAULT_BACKLOG >> 10);
}

struct apply {
	struct ep_probe_opts *po;
	ep_probe_own_opt own_opt;
	void *ctx;
};

static int apply_opt(int id, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct apply *a = ctx;

	return id >= EP_OPT_BASE ? ep_probe_opt(a->po, id, arg, err, errlen)
				 : a->own_opt(id, arg, a->ctx, err, errlen);
}

int ep_probe_parse_args(int argc, char **argv, const struct option *own, size_t n,
			ep_probe_own_opt own_opt, void *ctx, struct ep_probe_opts *po, char *err,
			size_t errlen)
{
	struct apply ap = {po, own_opt, ctx};
	struct option opts[64];
	const char *config = ep_config_arg(argc, argv), *prog;
	int given[64], ngiven = 0;
	size_t i, k = 0;
	int c, ret;

	for (i = 0; i < n && k < 63; i++)
		opts[k++] = own[i];
	for (i = 0; ep_probe_longopts[i].name && k < 63; i++)
		opts[k++] = ep_probe_longopts[i];
	memset(&opts[k], 0, sizeof(opts[k]));
	opterr = 0;
	/* First pass: which options the command line sets (they win over the file). */
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?') {
			snprintf(err, errlen, "unknown option or missing argument: '%s'",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (ngiven < 64)
			given[ngiven++] = c;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (config) {
		prog = strrchr(argv[0], '/');
		prog = prog ? prog + 1 : argv[0];
		ret = ep_config_load(&po->config, config, prog, opts, given, ngiven, apply_opt, &ap, err,
				     errlen);
		if (ret < 0)
			return -EINVAL;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		ret = apply_opt(c, optarg, &ap, err, errlen);
		if (ret != 0)
			return ret < 0 ? -EINVAL : 1;
	}
	return 0;
}

int ep_probe_opt(struct ep_probe_opts *o, int id, const char *arg, char *err, size_t errlen)
{
	switch (id) {
	case O_ASN_DB:
		if (o->n_asn_db == EP_PROBE_MAX_FILES) {
			snprintf(err, errlen, "--asn-db: at most %d files", EP_PROBE_MAX_FILES);
			return -EINVAL;
		}
		o->asn_db[o->n_asn_db++] = arg;
		return 0;
	case O_LOCAL_NET: {
		struct ep_netset check = {0};
		char why[200];

		if (ep_netset_parse(&check, arg, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--local-net: %s", why);
			return -EINVAL;
		}
		if (strlen(o->local_net) + strlen(arg) + 2 > sizeof(o->local_net)) {
			snprintf(err, errlen, "--local-net: list too long");
			return -EINVAL;
		}
		if (o->local_net[0])
			strcat(o->local_net, ",");
		strcat(o->local_net, arg);
		return 0;
	}
	case O_INTERVAL:
		return ep_parse_u32_arg("interval-ms", arg, 1, 3600000, &o->interval_ms, err, errlen);
	case O_MAX_FLOWS:
		return ep_parse_u32_arg("max-flows", arg, 1, 1u << 30, &o->max_flows, err, errlen);
	case O_MAX_ASNS:
		return ep_parse_u32_arg("max-asns", arg, 1, EP_ASN_AGG_MAX_SLOTS - 1, &o->max_asns, err, errlen);
	case O_IDLE:
		return ep_parse_u32_arg("idle-timeout-s", arg, 1, 86400, &o->idle_timeout_s, err,
					errlen);
	case O_PAYLOAD:
		return ep_parse_u32_arg("max-payload", arg, 256, EP_WIRE_MAX_MESSAGE,
					&o->max_payload, err, errlen);
	case O_PROBE_ID:
		if (!*arg || strlen(arg) > EP_WIRE_PROBE_MAX || !ep_utf8_valid(arg, strlen(arg)) ||
		    *arg == '@') {
			snprintf(err, errlen, "--probe-id: 1 to %d bytes of printable UTF-8, not "
				 "starting with '@' (reserved)", EP_WIRE_PROBE_MAX);
			return -EINVAL;
		}
		o->probe_id = arg;
		return 0;
	case O_COLLECTOR:
		if (o->ncollectors == EP_PROBE_MAX_SINKS) {
			snprintf(err, errlen, "--collector: at most %d", EP_PROBE_MAX_SINKS);
			return -EINVAL;
		}
		o->collectors[o->ncollectors++] = arg;
		return 0;
	case O_JSON_OUT:
		o->json_out = arg;
		return 0;
	case O_REPORT:
		o->report = 1;
		return 0;
	case O_QUIET:
		ep_log_max = EP_LOG_ERR;
		return 0;
	case O_USER:
		o->user = arg;
		return 0;
	case O_BACKLOG:
		return ep_parse_u32_arg("backlog-kb", arg, 16, 1u << 26, &o->backlog_kb, err, errlen);
	case O_CONFIG:
		return 0; /* read before the other options (ep_probe_parse_args) */
	case O_KEY_FILE: {
		int loose;
		long n = ep_hmac_key_read(arg, o->key, sizeof(o->key), &loose, err, errlen);

		if (n < 0)
			return -EINVAL;
		if (loose)
			ep_log_warn("--key-file '%s' is world-readable", arg);
		o->keylen = (size_t)n;
		return 0;
	}
	default:
		return 1;
	}
}

/* Expand --asn-db values (comma lists, 'none', or the default directory). */
int ep_probe_load_asn(const struct ep_probe_opts *o, struct ep_asn_map **out, char *err,
		      size_t errlen)
{
	return ep_asn_map_load_args(o->asn_db, o->n_asn_db, out, err, errlen);
}

/* The first line of dir/name into out ("unknown" when unreadable). */
static void read_version(const char *dir, const char *name, char *out, size_t n)
{
	char path[600];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(out, n, "unknown");
	fp = fopen(path, "r");
	if (!fp)
		return;
	if (fgets(out, (int)n, fp))
		out[strcspn(out, "\r\n")] = '\0';
	if (!out[0] || !ep_utf8_valid(out, strlen(out)))
		snprintf(out, n, "unknown");
	fclose(fp);
}

void ep_probe_set_dataset(struct ep_probe *p, const struct ep_probe_opts *o)
{
	char dir[512], av[48], cv[48];
	struct ep_asn_map_info info;
	const char *d = getenv("EDGEPROBE_ASN_DIR");

	if (o->n_asn_db) {
		size_t n = strcspn(o->asn_db[0], ",");
		const char *slash;

		if (!strncmp(o->asn_db[0], "none", n) && n == 4) {
			p->dataset[0] = '\0';
			return;
		}
		snprintf(dir, sizeof(dir), "%.*s", (int)n, o->asn_db[0]);
		slash = strrchr(dir, '/');
		if (slash)
			dir[slash - dir] = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
	} else {
		snprintf(dir, sizeof(dir), "%s", d ? d : EP_DEFAULT_ASN_DIR);
	}
	read_version(dir, "VERSION", av, sizeof(av));
	ep_asn_map_info(p->asn, &info);
	if (info.cc_lines) {
		read_version(dir, "COUNTRY_VERSION", cv, sizeof(cv));
		snprintf(p->dataset, sizeof(p->dataset), "asn %s, country %s", av, cv);
	} else {
		snprintf(p->dataset, sizeof(p->dataset), "asn %s", av);
	}
}

int ep_probe_setup(struct ep_probe *p, const struct ep_probe_opts *o, int reliable, int emit_empty,
		   int with_tracker, char *err, size_t errlen)
{
	struct ep_exporter_cfg ecfg;
	struct ep_tracker_cfg tcfg;
	struct timespec now;
	int ret, i;

	/*
	 * Every probe's process: the large tables set up from here on (ASN map,
	 * flow pool, ASN slots, their indexes) are sized for the worst case and
	 * touched only as they fill, so they go in mappings of their own, whose
	 * untouched pages cost nothing.  glibc would otherwise raise its mapping
	 * threshold when the ASN loader frees its scratch, and then clear every
	 * later table of up to that size page by page.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	memset(p, 0, sizeof(*p));
	if (o->local_net[0] && (ret = ep_netset_parse(&p->local, o->local_net, err, errlen)) < 0) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "--local-net: %s", err);
		snprintf(err, errlen, "%s", tmp);
		return ret;
	}
	ret = ep_probe_load_asn(o, &p->asn, err, errlen);
	if (ret < 0)
		return ret;
	ep_probe_set_dataset(p, o);
	if (o->probe_id)
		snprintf(p->probe_id, sizeof(p->probe_id), "%s", o->probe_id);
	else if (gethostname(p->probe_id, sizeof(p->probe_id) - 1) < 0 || !p->probe_id[0])
		strcpy(p->probe_id, "edgeprobe");
	ep_utf8_sanitize(p->probe_id, strlen(p->probe_id));
	for (i = 0; i < o->ncollectors; i++) {
		ret = ep_sink_open(o->collectors[i], reliable, &p->sinks[i], err, errlen);
		if (ret < 0)
			return ret;
		ep_sink_set_backlog(p->sinks[i], (size_t)o->backlog_kb << 10);
		p->nsinks++;
	}
	if (o->json_out) {
		p->json = strcmp(o->json_out, "-") ? fopen(o->json_out, "w") : stdout;
		if (!p->json) {
			ret = -errno;
			snprintf(err, errlen, "--json-out %s: %s", o->json_out, strerror(errno));
			return ret;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	memset(&ecfg, 0, sizeof(ecfg));
	ecfg.probe = p->probe_id;
	ecfg.dataset = p->dataset;
	ecfg.epoch = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	ecfg.max_payload = o->max_payload;
	ecfg.json = p->json;
	ecfg.sinks = p->sinks;
	ecfg.nsinks = (uint32_t)p->nsinks;
	ecfg.key = o->keylen ? o->key : NULL;
	ecfg.keylen = o->keylen;
	ret = ep_exporter_new(&ecfg, &p->exporter);
	if (ret < 0) {
		snprintf(err, errlen, "exporter: %s", strerror(-ret));
		return ret;
	}
	if (!with_tracker)
		return 0;
	ep_probe_tracker_cfg(p, o, emit_empty, &tcfg);
	tcfg.on_window = ep_probe_on_window;
	tcfg.ctx = p;
	ret = ep_tracker_new(&tcfg, &p->tracker);
	if (ret < 0)
		snprintf(err, errlen, "tracker (%u flows): %s", o->max_flows, strerror(-ret));
	return ret;
}

void ep_probe_tracker_cfg(const struct ep_probe *p, const struct ep_probe_opts *o, int emit_empty,
			  struct ep_tracker_cfg *cfg)
{
	ep_tracker_cfg_defaults(cfg);
	cfg->max_flows = o->max_flows;
	cfg->max_asns = o->max_asns;
	cfg->interval_ns = (uint64_t)o->interval_ms * 1000000ull;
	cfg->idle_timeout_ns = (uint64_t)o->idle_timeout_s * 1000000000ull;
	cfg->emit_empty = emit_empty;
	cfg->asn = p->asn;
	cfg->local = &p->local;
}

int ep_probe_reopen_json(struct ep_probe *p, const struct ep_probe_opts *o, char *err,
			 size_t errlen)
{
	FILE *nf;
	int ret;

	if (!p->json || p->json == stdout || !o->json_out)
		return 0;
	/* Whole lines only: every window is flushed as it is written. */
	nf = fopen(o->json_out, "a");
	if (!nf) {
		ret = -errno;
		ep_exporter_set_json(p->exporter, NULL, 0);
		snprintf(err, errlen, "--json-out %s: not reopened, still writing the old file: %s",
			 o->json_out, strerror(errno));
		return ret;
	}
	ret = fclose(p->json) == 0 ? 0 : -EIO;
	p->json = nf;
	ep_exporter_set_json(p->exporter, nf, 1);
	if (ret < 0)
		snprintf(err, errlen, "--json-out: closing the rotated file failed: %s",
			 strerror(errno));
	return ret;
}

int ep_probe_drop_privileges(const struct ep_probe_opts *o, const int *keep, int n)
{
	char err[256];
	int ret;

	if (!o->user)
		return 0;
	ret = ep_drop_privileges(o->user, keep, n, err, sizeof(err));
	if (ret < 0) {
		ep_log_err("%s", err);
		return ret;
	}
	ep_log_info("running as %s, capabilities %#llx", o->user,
		    (unsigned long long)ep_cap_effective());
	return 0;
}

void ep_probe_teardown(struct ep_probe *p)
{
	int i;

	ep_probe_watch_flush(p);
	ep_tracker_free(p->tracker);
	ep_exporter_free(p->exporter);
	for (i = 0; i < p->nsinks; i++) {
		/* A collector that is back gets what waited for it; a bounded wait. */
		uint64_t left = ep_sink_flush(p->sinks[i], 2000);

		if (left)
			ep_log_warn("collector %s: %llu windows not delivered at exit",
				    ep_sink_url(p->sinks[i]), (unsigned long long)left);
		ep_sink_close(p->sinks[i]);
	}
	if (p->json && p->json != stdout)
		fclose(p->json);
	else if (p->json)
		fflush(p->json);
	ep_asn_map_free(p->asn);
	memset(p, 0, sizeof(*p));
}
