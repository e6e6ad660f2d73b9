/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * history_clickhouse.c - the history in ClickHouse, over its HTTP interface
 * (libcurl): MergeTree tables keyed by (step, probe, ASN, time), the
 * histograms as bucket-index and count arrays that sumMap merges exactly,
 * partitions per step and day (retention drops whole partitions), and a
 * collector column so that several collectors share one database.
 * Rewritten buckets (late data) are new versions of a ReplacingMergeTree;
 * their bucket rows say so (dup), and only a range that holds one is read
 * with FINAL (which costs five times a plain read).  With ?cluster=NAME (a
 * cluster of the server's remote_servers), each collector writes into its
 * own server's *_local tables and reads every shard through Distributed
 * tables of the plain names.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history_clickhouse_int.h"

static void buf_reserve(struct buf *b, size_t more)
{
	char *p;
	size_t cap;

	if (b->nomem || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if (cap > CH_RESPONSE_MAX || !(p = realloc(b->p, cap))) {
		b->nomem = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (b->nomem)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ep_ch_buf_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	if (b->nomem)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* s as a TabSeparated field (backslash, tab, newline escaped). */
static void buf_tsv(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '\t' || *s == '\n') {
			char e[2] = {'\\', *s == '\t' ? 't' : *s == '\n' ? 'n' : '\\'};

			buf_add(b, e, 2);
		} else {
			buf_add(b, s, 1);
		}
	}
}

/* s as the inside of a quoted SQL string. */
void ep_ch_buf_sql(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			buf_add(b, "\\", 1);
		buf_add(b, s, 1);
	}
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	buf_add(b, p, size * n);
	return b->nomem ? 0 : size * n;
}

/*
 * POST body (a query, or "INSERT ... FORMAT TabSeparated\n" and its rows) and
 * read the answer into resp.  @return 0, or -EIO with the server's message in err
 */
int ep_ch_post(struct ch_be *c, CURL *h, const struct buf *body, struct buf *resp, char *err,
	       size_t errlen)
{
	long status = 0;
	CURLcode rc;

	resp->len = 0;
	resp->nomem = 0;
	buf_add(resp, "", 0);
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p ? body->p : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", c->url, resp->nomem ? "answer too large"
								    : curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		size_t n = strcspn(resp->p ? resp->p : "", "\n");

		snprintf(err, errlen, "%s: HTTP %ld: %.*s", c->url, status, (int)(n > 300 ? 300 : n),
			 resp->p ? resp->p : "");
		return -EIO;
	}
	return 0;
}

/* One statement, no answer wanted. */
int ep_ch_exec(struct ch_be *c, CURL *h, char *err, size_t errlen, const char *fmt, ...)
{
	struct buf q = {0};
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(&q, (size_t)n);
	if (q.nomem)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(q.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	q.len = (size_t)n;
	ret = ep_ch_post(c, h, &q, &c->resp, err, errlen);
	free(q.p);
	return ret;
}

static CURL *handle(void)
{
	CURL *h = curl_easy_init();

	if (h) {
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	}
	return h;
}

static void ch_close(void *be)
{
	struct ch_be *c = be;

	if (!c)
		return;
	curl_easy_cleanup(c->w);
	curl_easy_cleanup(c->r);
	free(c->req.p);
	free(c->resp.p);
	free(c->rbuf.p);
	free(c->bins);
	free(c->nums);
	free(c->ent);
	free(c);
}

/* The tables: %1$s database, %2$s the suffix of the stored tables ("_local" in a cluster). */
static const char *const ch_tables[] = {
	"CREATE TABLE IF NOT EXISTS %1$s.meta (k String, v String) ENGINE = TinyLog",
	"CREATE TABLE IF NOT EXISTS %1$s.bucket%2$s (step UInt64, collector String, probe String,"
	" start UInt64, newest_end UInt64, windows UInt64, written UInt64, dup UInt8)"
	" ENGINE = ReplacingMergeTree(written) PARTITION BY (step, " CH_PERIOD ")"
	" ORDER BY (step, probe, start, collector)",
	"CREATE TABLE IF NOT EXISTS %1$s.pair%2$s (step UInt64, collector String, probe String,"
	" start UInt64, asn UInt32, cc UInt16, written UInt64, c Array(UInt64),"
	" hs_i Array(Int32), hs_n Array(UInt64), hd_i Array(Int32), hd_n Array(UInt64),"
	" hr_i Array(Int32), hr_n Array(UInt64))"
	" ENGINE = ReplacingMergeTree(written) PARTITION BY (step, " CH_PERIOD ")"
	" ORDER BY (step, probe, asn, cc, start, collector)",
	"CREATE TABLE IF NOT EXISTS %1$s.org%2$s (asn UInt32, name String, written UInt64)"
	" ENGINE = ReplacingMergeTree(written) ORDER BY asn",
};

/* In a cluster, the tables read: every shard's *_local table. */
static const char *const ch_distributed[] = {"bucket", "pair", "org"};

/*
 * Schema 2 kept rows per ASN in table asn: copied into pair as of no known
 * country (cc 0), then the format stamp replaced (meta is a TinyLog: dropped
 * and made again).  The old table is left for the operator to drop.
 */
static int migrate_2(struct ch_be *c, const char *want, char *err, size_t errlen)
{
	int ret = ep_ch_exec(c, c->w, err, errlen,
			     "INSERT INTO %1$s.pair%2$s SELECT step, collector, probe, start, asn, 0,"
			     " written, c, hs_i, hs_n, hd_i, hd_n, hr_i, hr_n FROM %1$s.asn%2$s",
			     c->db, c->wsfx);

	if (ret == 0)
		ret = ep_ch_exec(c, c->w, err, errlen, "DROP TABLE %s.meta", c->db);
	if (ret == 0)
		ret = ep_ch_exec(c, c->w, err, errlen, ch_tables[0], c->db, c->wsfx);
	if (ret == 0)
		ret = ep_ch_exec(c, c->w, err, errlen, "INSERT INTO %s.meta VALUES ('format', '%s')",
				 c->db, want);
	return ret;
}

static int name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return n > 0;
}

/*
 * clickhouse://HOST:PORT[/DATABASE][?cluster=NAME] into the base URL, the
 * database and the cluster.  @return 0 or -EINVAL
 */
static int parse_url(struct ch_be *c, const char *path)
{
	const char *hp = path + strlen("clickhouse://"), *qm = strchr(hp, '?'), *cl = "";
	size_t n = strcspn(hp, "/?"), dn, i;
	const char *db = hp[n] == '/' ? hp + n + 1 : hp + n;

	dn = qm ? (size_t)(qm - db) : strlen(db);
	if (!dn) {
		db = "edgeprobe";
		dn = strlen(db);
	}
	if (qm) {
		if (strncmp(qm, "?cluster=", 9))
			return -EINVAL;
		cl = qm + 9;
		if (!name_ok(cl, strlen(cl)) || strlen(cl) >= sizeof(c->cluster))
			return -EINVAL;
	}
	if (!n || n > 200 || dn >= sizeof(c->db) || !name_ok(db, dn))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!(hp[i] == '.' || hp[i] == ':' || hp[i] == '-' || hp[i] == '[' || hp[i] == ']' ||
		      (hp[i] >= '0' && hp[i] <= '9') || (hp[i] >= 'a' && hp[i] <= 'z') ||
		      (hp[i] >= 'A' && hp[i] <= 'Z')))
			return -EINVAL;
	snprintf(c->url, sizeof(c->url), "http://%.*s/", (int)n, hp);
	snprintf(c->db, sizeof(c->db), "%.*s", (int)dn, db);
	snprintf(c->cluster, sizeof(c->cluster), "%s", cl);
	c->wsfx = *cl ? "_local" : "";
	return 0;
}

static int ch_open(void **out, const struct ep_history_cfg *cfg, const struct ep_hdr_cfg *hcfg,
		   char *err, size_t errlen)
{
	struct ch_be *c = calloc(1, sizeof(*c));
	char want[96];
	struct buf id = {0};
	size_t i;
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->hcfg = *hcfg;
	if (parse_url(c, cfg->path) < 0) {
		snprintf(err, errlen, "expected clickhouse://HOST:PORT[/DATABASE][?cluster=NAME] "
				      "(names: letters, digits, _)");
		ret = -EINVAL;
		goto out;
	}
	ep_ch_buf_sql(&id, cfg->id && *cfg->id ? cfg->id : "collector");
	if (id.nomem || id.len >= sizeof(c->id)) {
		free(id.p);
		snprintf(err, errlen, "--history-id: at most %zu bytes", sizeof(c->id) / 2);
		ret = -EINVAL;
		goto out;
	}
	memcpy(c->id, id.p, id.len + 1);
	free(id.p);
	c->w = handle();
	c->r = handle();
	if (!c->w || !c->r) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = ep_ch_exec(c, c->w, err, errlen, "CREATE DATABASE IF NOT EXISTS %s", c->db);
	for (i = 0; ret == 0 && i < sizeof(ch_tables) / sizeof(ch_tables[0]); i++)
		ret = ep_ch_exec(c, c->w, err, errlen, ch_tables[i], c->db, c->wsfx);
	for (i = 0; ret == 0 && *c->cluster && i < 3; i++)
		ret = ep_ch_exec(c, c->w, err, errlen, "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s_local"
			      " ENGINE = Distributed(%s, %s, %s_local)", c->db, ch_distributed[i],
			      c->db, ch_distributed[i], c->cluster, c->db, ch_distributed[i]);
	if (ret < 0)
		goto out;
	snprintf(want, sizeof(want), "schema %d, hist %" PRId64 " %" PRId64 " %d", CH_SCHEMA,
		 hcfg->lowest, hcfg->highest, hcfg->sig_digits);
	ret = ep_ch_exec(c, c->w, err, errlen, "SELECT v FROM %s.meta WHERE k = 'format' LIMIT 1",
		      c->db);
	if (ret < 0)
		goto out;
	c->resp.p[strcspn(c->resp.p, "\n")] = '\0';
	if (c->resp.p[0] && strcmp(c->resp.p, want)) {
		char v2[96];

		snprintf(v2, sizeof(v2), "schema 2, hist %" PRId64 " %" PRId64 " %d", hcfg->lowest,
			 hcfg->highest, hcfg->sig_digits);
		if (!strcmp(c->resp.p, v2)) {
			if ((ret = migrate_2(c, want, err, errlen)) < 0)
				goto out;
			c->resp.p[0] = '\0';
			goto stamped;
		}
	}
	if (c->resp.p[0] && strcmp(c->resp.p, want)) {
		snprintf(err, errlen, "database %s was written as '%s', this collector uses '%s'",
			 c->db, c->resp.p, want);
		ret = -EINVAL;
		goto out;
	}
	if (!c->resp.p[0])
		ret = ep_ch_exec(c, c->w, err, errlen, "INSERT INTO %s.meta VALUES ('format', '%s')",
			      c->db, want);
stamped:
	if (ret == 0) {
		*out = c;
		return 0;
	}
out:
	ch_close(c);
	return ret;
}

static void add_array_i(struct buf *b, const struct ep_hbin *bins, uint32_t n, int idx)
{
	uint32_t i;

	buf_add(b, "\t[", 2);
	for (i = 0; i < n; i++)
		ep_ch_buf_fmt(b, i ? ",%" PRIu64 : "%" PRIu64,
			idx ? (uint64_t)(uint32_t)bins[i].idx : (uint64_t)bins[i].count);
	buf_add(b, "]", 1);
}

static int ch_write(void *be, const struct ep_hbatch *list, struct ep_hist_codec *codec,
		    uint64_t *rows, char *err, size_t errlen)
{
	struct ch_be *c = be;
	struct buf *q = &c->req;
	const struct ep_hbatch *b;
	struct timespec ts;
	uint64_t now, written;
	int ret = 0, kind;

	(void)codec;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	*rows = 0;
	/* One INSERT per table: buckets, their ASN rows, names. */
	for (kind = 0; kind < 3 && ret == 0; kind++) {
		int any = 0;

		q->len = 0;
		q->nomem = 0;
		ep_ch_buf_fmt(q, "INSERT INTO %s.%s%s FORMAT TabSeparated\n", c->db,
			kind == 0 ? "bucket" : kind == 1 ? "pair" : "org", c->wsfx);
		/*
		 * Versions: the write's wall time plus the batch's place in it, so that a
		 * bucket written twice in one insert (late data) keeps its newer version
		 * (equal versions leave the choice to ClickHouse).
		 */
		for (b = list, written = now; b; b = b->next, written++) {
			uint32_t i, k;

			if ((kind == 2) != !!b->org)
				continue;
			any = 1;
			if (kind == 2) {
				ep_ch_buf_fmt(q, "%u\t", b->org_asn);
				buf_tsv(q, b->org);
				ep_ch_buf_fmt(q, "\t%" PRIu64 "\n", written);
				continue;
			}
			if (kind == 0) {
				ep_ch_buf_fmt(q, "%" PRIu64 "\t%s\t", b->step_ns, c->id);
				buf_tsv(q, b->probe);
				ep_ch_buf_fmt(q, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%d\n",
					b->start_ns, b->newest_end_ns, b->windows, written, !!b->dup);
				continue;
			}
			for (i = 0; i < b->n; i++) {
				const struct ep_hrow *r = &b->rows[i];

				ep_ch_buf_fmt(q, "%" PRIu64 "\t%s\t", b->step_ns, c->id);
				buf_tsv(q, b->probe);
				ep_ch_buf_fmt(q, "\t%" PRIu64 "\t%u\t%u\t%" PRIu64 "\t[", b->start_ns, r->asn,
					      (unsigned)r->cc, written);
				for (k = 0; k < EP_AC__COUNT; k++)
					ep_ch_buf_fmt(q, k ? ",%" PRIu64 : "%" PRIu64, r->c[k]);
				buf_add(q, "]", 1);
				for (k = 0; k < EP_AH__COUNT; k++) {
					add_array_i(q, b->bins + r->off[k], r->nb[k], 1);
					add_array_i(q, b->bins + r->off[k], r->nb[k], 0);
				}
				buf_add(q, "\n", 1);
				(*rows)++;
			}
		}
		if (q->nomem) {
			snprintf(err, errlen, "out of memory for an insert");
			return -ENOMEM;
		}
		if (any)
			ret = ep_ch_post(c, c->w, q, &c->resp, err, errlen);
	}
	if (ret < 0)
		*rows = 0;
	return ret;
}

static long ch_expire(void *be, uint64_t step_ns, uint64_t before_ns)
{
	struct ch_be *c = be;
	char err[512], *line, *save = NULL;
	/* partitions of periods (days, or hours under 1 s) before it go */
	uint64_t keep = before_ns / (step_ns < 1000000000ull ? CH_HOUR_NS : CH_DAY_NS);
	long rows = 0;
	struct buf list = {0};
	const char *const tables[] = {"pair", "bucket"};
	size_t t;

	for (t = 0; t < 2; t++) {
		if (ep_ch_exec(c, c->w, err, sizeof(err),
			    "SELECT partition, sum(rows) FROM system.parts WHERE database = '%s' AND"
			    " table = '%s%s' AND active GROUP BY partition FORMAT TabSeparated",
			    c->db, tables[t], c->wsfx) < 0)
			return -EIO;
		list.len = 0;
		buf_add(&list, c->resp.p, c->resp.len);
		if (list.nomem)
			return -ENOMEM;
		for (line = strtok_r(list.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			unsigned long long step, day, n;

			/* partition (STEP,PERIOD), rows */
			if (sscanf(line, "(%llu,%llu)\t%llu", &step, &day, &n) != 3 || step != step_ns ||
			    day >= keep)
				continue;
			/* A partition that will not drop now is tried again at the next expiry. */
			if (ep_ch_exec(c, c->w, err, sizeof(err),
				    "ALTER TABLE %s.%s%s DROP PARTITION (%llu, %llu)", c->db, tables[t],
				    c->wsfx, step, day) == 0 && t == 0)
				rows += (long)n;
		}
	}
	free(list.p);
	return rows;
}

/* "[1,2,3]" into up to cap unsigned numbers. @return count, or -1 */

const struct ep_history_ops ep_history_clickhouse = {
	.name = "clickhouse",
	.shared = 1,
	.min_interval_ns = 1000000000ull, /* about one insert per second per table */
	.open = ch_open,
	.write = ch_write,
	.expire = ch_expire,
	.read = ep_ch_read,
	.probes = ep_ch_probes,
	.bounds = ep_ch_bounds,
	.orgs = ep_ch_orgs,
	.close = ch_close,
};
