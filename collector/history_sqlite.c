/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * history_sqlite.c - the history in one SQLite file (WAL): a row per bucket
 * and a row per (bucket, ASN) with its counters and V2 histograms.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "country.h"
#include "history_int.h"

/* PRAGMA application_id of an edgeprobe history: "EPH1". */
#define EP_SQLITE_APP_ID 0x45504831
#define EP_SQLITE_SCHEMA 3 /* 2: a country per row, 3: rtt_data_timed (1, 2 are migrated) */

struct sqlite_be {
	sqlite3 *w, *r;           /* the writer's and the readers' connections */
	sqlite3_stmt *ins_bucket, *ins_row, *ins_org;
	struct ep_hdr_cfg hcfg;
	uint8_t *enc;             /* the writer's encoding buffer */
	size_t enc_cap;
	struct ep_hist_codec rcodec; /* the readers' decoder */
	struct ep_hbin *rbins;    /* the readers' scratch: bins, entries */
	size_t rbins_cap, rbins_n;
	struct ep_centry *rent;
	uint32_t rent_cap;
};

/* Rows of (ASN, country): cc is country.h's number, 0 unknown. */
#define ASN_TABLE                                                                                  \
	"(step_ns INTEGER NOT NULL, probe TEXT NOT NULL,"                                          \
	" start_ns INTEGER NOT NULL, asn INTEGER NOT NULL, cc INTEGER NOT NULL,"                   \
	" flows_new INTEGER, flows_closed INTEGER, segs_out INTEGER, segs_in INTEGER,"             \
	" retx_out INTEGER, retx_in INTEGER, syn_unsampled INTEGER, rtt_data_timed INTEGER,"       \
	" rtt_hs BLOB, rtt_data BLOB, retx_ppm BLOB,"                                              \
	" PRIMARY KEY(step_ns, probe, start_ns, asn, cc)) WITHOUT ROWID"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS org(asn INTEGER PRIMARY KEY, name TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS bucket(step_ns INTEGER NOT NULL, probe TEXT NOT NULL,"
	" start_ns INTEGER NOT NULL, newest_end_ns INTEGER NOT NULL, windows INTEGER NOT NULL,"
	" PRIMARY KEY(step_ns, probe, start_ns)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS asn" ASN_TABLE ";";

/*
 * The older schemas, rebuilt into this one (the row insert is positional): schema 1 had no
 * cc column (its rows are of no known country), 1 and 2 no rtt_data_timed (0: wire version 3
 * did not carry it).
 */
static const char *const migrate[] = {
	"ALTER TABLE asn RENAME TO asn_schema1;"
	"CREATE TABLE asn" ASN_TABLE ";"
	"INSERT INTO asn SELECT step_ns, probe, start_ns, asn, 0, flows_new, flows_closed,"
	" segs_out, segs_in, retx_out, retx_in, syn_unsampled, 0, rtt_hs, rtt_data, retx_ppm"
	" FROM asn_schema1;"
	"DROP TABLE asn_schema1;",
	"ALTER TABLE asn RENAME TO asn_schema2;"
	"CREATE TABLE asn" ASN_TABLE ";"
	"INSERT INTO asn SELECT step_ns, probe, start_ns, asn, cc, flows_new, flows_closed,"
	" segs_out, segs_in, retx_out, retx_in, syn_unsampled, 0, rtt_hs, rtt_data, retx_ppm"
	" FROM asn_schema2;"
	"DROP TABLE asn_schema2;",
};

/* The columns above follow the counters and histograms of the wire protocol. */
_Static_assert(EP_AC__COUNT == 8 && EP_AH__COUNT == 3, "history columns follow ep_tcp.h");

static int fail(char *err, size_t errlen, sqlite3 *db, const char *what, int ret)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return ret;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* One integer from a query (0 when no row). @return 0 or -EIO */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* Stamp a new file, or check that an existing one is ours, in our histogram configuration. */
static int check_identity(struct sqlite_be *s, char *err, size_t errlen)
{
	char want[96], have[96] = "";
	int64_t app, tables;
	int v;
	sqlite3_stmt *st;

	if (query_int(s->w, "PRAGMA application_id", &app) < 0)
		return fail(err, errlen, s->w, "not a readable SQLite file", -EINVAL);
	if (query_int(s->w, "SELECT count(*) FROM sqlite_master", &tables) < 0)
		return fail(err, errlen, s->w, "not a readable SQLite file", -EINVAL);
	if (app != EP_SQLITE_APP_ID && (app != 0 || tables != 0)) {
		snprintf(err, errlen, "an SQLite file of another application (application_id %" PRId64
			 ", %" PRId64 " tables): not an edgeprobe history", app, tables);
		return -EINVAL;
	}
	snprintf(want, sizeof(want), "schema %d, hist %" PRId64 " %" PRId64 " %d", EP_SQLITE_SCHEMA,
		 s->hcfg.lowest, s->hcfg.highest, s->hcfg.sig_digits);
	if (exec(s->w, "BEGIN IMMEDIATE") < 0)
		return fail(err, errlen, s->w, "cannot write", -EIO);
	snprintf(have, sizeof(have), "PRAGMA application_id = %d", EP_SQLITE_APP_ID);
	if (exec(s->w, schema) < 0 || exec(s->w, have) < 0) {
		fail(err, errlen, s->w, "cannot create the tables", -EIO);
		exec(s->w, "ROLLBACK");
		return -EIO;
	}
	have[0] = '\0';
	if (sqlite3_prepare_v2(s->w, "SELECT v FROM meta WHERE k = 'format'", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(have, sizeof(have), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	for (v = 1; v < EP_SQLITE_SCHEMA && have[0] && strcmp(have, want); v++) {
		char old[96];

		snprintf(old, sizeof(old), "schema %d, hist %" PRId64 " %" PRId64 " %d", v,
			 s->hcfg.lowest, s->hcfg.highest, s->hcfg.sig_digits);
		if (!strcmp(have, old)) {
			char sql[160];

			snprintf(sql, sizeof(sql), "UPDATE meta SET v = '%s' WHERE k = 'format'", want);
			if (exec(s->w, migrate[v - 1]) < 0 || exec(s->w, sql) < 0) {
				snprintf(sql, sizeof(sql), "migrating schema %d to %d", v,
					 EP_SQLITE_SCHEMA);
				fail(err, errlen, s->w, sql, -EIO);
				exec(s->w, "ROLLBACK");
				return -EIO;
			}
			snprintf(have, sizeof(have), "%s", want);
		}
	}
	if (have[0] && strcmp(have, want)) {
		exec(s->w, "ROLLBACK");
		snprintf(err, errlen, "written as '%s', this collector uses '%s' (--hist-* options)",
			 have, want);
		return -EINVAL;
	}
	if (!have[0]) {
		char sql[160];

		snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES('format', '%s')", want);
		if (exec(s->w, sql) < 0) {
			fail(err, errlen, s->w, "cannot write", -EIO);
			exec(s->w, "ROLLBACK");
			return -EIO;
		}
	}
	if (exec(s->w, "COMMIT") < 0)
		return fail(err, errlen, s->w, "cannot write", -EIO);
	return 0;
}

static void sq_close(void *be)
{
	struct sqlite_be *s = be;

	if (!s)
		return;
	sqlite3_finalize(s->ins_bucket);
	sqlite3_finalize(s->ins_row);
	sqlite3_finalize(s->ins_org);
	sqlite3_close(s->w);
	sqlite3_close(s->r);
	ep_hist_codec_fini(&s->rcodec);
	free(s->enc);
	free(s->rbins);
	free(s->rent);
	free(s);
}

static int sq_open(void **out, const struct ep_history_cfg *cfg, const struct ep_hdr_cfg *hcfg,
		   char *err, size_t errlen)
{
	const char *path = cfg->path;
	struct sqlite_be *s = calloc(1, sizeof(*s));
	int64_t mode;
	int ret;

	if (!s)
		return fail(err, errlen, NULL, path, -ENOMEM);
	s->hcfg = *hcfg;
	if (sqlite3_open_v2(path, &s->w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		ret = fail(err, errlen, s->w, "cannot open", -EIO);
		goto out;
	}
	sqlite3_busy_timeout(s->w, 2000);
	ret = check_identity(s, err, errlen);
	if (ret < 0)
		goto out;
	/* WAL: readers never block the writer; NORMAL: durable across a crash of the process. */
	if (query_int(s->w, "PRAGMA journal_mode = WAL", &mode) < 0 ||
	    exec(s->w, "PRAGMA synchronous = NORMAL") < 0) {
		ret = fail(err, errlen, s->w, "cannot set WAL mode", -EIO);
		goto out;
	}
	if (sqlite3_prepare_v2(s->w, "INSERT OR REPLACE INTO bucket VALUES(?1, ?2, ?3, ?4, ?5)", -1,
			       &s->ins_bucket, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->w, "INSERT OR REPLACE INTO asn VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			       " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", -1, &s->ins_row,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->w, "INSERT OR REPLACE INTO org VALUES(?1, ?2)", -1, &s->ins_org,
			       NULL) != SQLITE_OK) {
		ret = fail(err, errlen, s->w, "cannot prepare", -EIO);
		goto out;
	}
	if (sqlite3_open_v2(path, &s->r, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		ret = fail(err, errlen, s->r, "cannot open for reading", -EIO);
		goto out;
	}
	sqlite3_busy_timeout(s->r, 2000);
	*out = s;
	return 0;
out:
	sq_close(s);
	return ret;
}

/* Bind one histogram, V2-encoded, or NULL when empty. @return 0 or -errno */
static int bind_hist(struct sqlite_be *s, struct ep_hist_codec *codec, int col,
		     const struct ep_hbin *b, uint32_t n)
{
	long need, len;

	if (!n)
		return sqlite3_bind_null(s->ins_row, col) == SQLITE_OK ? 0 : -EIO;
	need = ep_hist_encode_bins(codec, &s->hcfg, b, n, NULL, 0);
	if ((size_t)need > s->enc_cap) {
		uint8_t *p = realloc(s->enc, (size_t)need);

		if (!p)
			return -ENOMEM;
		s->enc = p;
		s->enc_cap = (size_t)need;
	}
	len = ep_hist_encode_bins(codec, &s->hcfg, b, n, s->enc, s->enc_cap);
	if (len < 0)
		return (int)len;
	return sqlite3_bind_blob(s->ins_row, col, s->enc, (int)len, SQLITE_TRANSIENT) == SQLITE_OK
		       ? 0 : -EIO;
}

static int write_bucket(struct sqlite_be *s, const struct ep_hbatch *b, struct ep_hist_codec *codec)
{
	sqlite3_stmt *st = s->ins_bucket;
	uint32_t i, k;
	int ret;

	sqlite3_bind_int64(st, 1, (int64_t)b->step_ns);
	sqlite3_bind_text(st, 2, b->probe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)b->start_ns);
	sqlite3_bind_int64(st, 4, (int64_t)b->newest_end_ns);
	sqlite3_bind_int64(st, 5, (int64_t)b->windows);
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_reset(st);
	st = s->ins_row;
	for (i = 0; i < b->n && ret == 0; i++) {
		const struct ep_hrow *r = &b->rows[i];

		sqlite3_bind_int64(st, 1, (int64_t)b->step_ns);
		sqlite3_bind_text(st, 2, b->probe, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)b->start_ns);
		sqlite3_bind_int64(st, 4, r->asn);
		sqlite3_bind_int64(st, 5, r->cc);
		for (k = 0; k < EP_AC__COUNT; k++)
			sqlite3_bind_int64(st, 6 + (int)k, (int64_t)r->c[k]);
		for (k = 0; k < EP_AH__COUNT && ret == 0; k++)
			ret = bind_hist(s, codec, 6 + EP_AC__COUNT + (int)k, b->bins + r->off[k],
					r->nb[k]);
		if (ret == 0 && sqlite3_step(st) != SQLITE_DONE)
			ret = -EIO;
		sqlite3_reset(st);
	}
	return ret;
}

static int sq_write(void *be, const struct ep_hbatch *list, struct ep_hist_codec *codec,
		    uint64_t *rows, char *err, size_t errlen)
{
	struct sqlite_be *s = be;
	const struct ep_hbatch *b;
	int ret = 0;

	*rows = 0;
	if (exec(s->w, "BEGIN IMMEDIATE") < 0)
		return fail(err, errlen, s->w, "begin", -EIO);
	for (b = list; b && ret == 0; b = b->next) {
		if (b->org) {
			sqlite3_bind_int64(s->ins_org, 1, b->org_asn);
			sqlite3_bind_text(s->ins_org, 2, b->org, -1, SQLITE_STATIC);
			ret = sqlite3_step(s->ins_org) == SQLITE_DONE ? 0 : -EIO;
			sqlite3_reset(s->ins_org);
			continue;
		}
		ret = write_bucket(s, b, codec);
		*rows += b->n;
	}
	if (ret == 0 && exec(s->w, "COMMIT") == 0)
		return 0;
	fail(err, errlen, s->w, "write", ret ? ret : -EIO);
	exec(s->w, "ROLLBACK");
	*rows = 0;
	return ret ? ret : -EIO;
}

/*
 * Per probe, so that each DELETE is a range of the primary key (step, probe,
 * start): no full scan of the step's rows.  The probes are listed first: no
 * reading a table while deleting from it.
 */
static long sq_expire(void *be, uint64_t step_ns, uint64_t before_ns)
{
	struct sqlite_be *s = be;
	sqlite3_stmt *st = NULL, *d[2] = {NULL, NULL};
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	long rows = 0;
	int rc, ok = 0, k;

	if (sqlite3_prepare_v2(s->w, "SELECT DISTINCT probe FROM bucket WHERE step_ns = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)step_ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);

		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*nn));

			if (!nn)
				goto out;
			names = nn;
		}
		if (!(names[n] = strdup(p ? p : "")))
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(s->w, "DELETE FROM asn WHERE step_ns = ?1 AND probe = ?2 AND"
			       " start_ns < ?3", -1, &d[0], NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->w, "DELETE FROM bucket WHERE step_ns = ?1 AND probe = ?2 AND"
			       " start_ns < ?3", -1, &d[1], NULL) != SQLITE_OK ||
	    exec(s->w, "BEGIN IMMEDIATE") < 0)
		goto out;
	ok = 1;
	for (i = 0; i < n && ok; i++)
		for (k = 0; k < 2 && ok; k++) {
			sqlite3_bind_int64(d[k], 1, (int64_t)step_ns);
			sqlite3_bind_text(d[k], 2, names[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(d[k], 3, (int64_t)before_ns);
			ok = sqlite3_step(d[k]) == SQLITE_DONE;
			if (k == 0)
				rows += sqlite3_changes(s->w);
			sqlite3_reset(d[k]);
		}
	if (exec(s->w, ok ? "COMMIT" : "ROLLBACK") < 0)
		ok = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(d[0]);
	sqlite3_finalize(d[1]);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok ? rows : -EIO;
}

/* Decode one histogram column into the readers' bins. @return 0, or -EINVAL */
static int read_hist(struct sqlite_be *s, sqlite3_stmt *st, int col, struct ep_shist *h)
{
	const uint8_t *p = sqlite3_column_blob(st, col);
	int len = sqlite3_column_bytes(st, col);
	struct ep_hdr_cfg cfg;
	long n;
	uint32_t j;

	memset(h, 0, sizeof(*h));
	if (!p || len <= 0)
		return 0;
	if (s->rbins_cap - s->rbins_n < (size_t)s->hcfg.counts_len) {
		/* Entries point into the scratch: grow it only between buckets (see sq_read). */
		return -ENOSPC;
	}
	n = ep_hist_decode_bins(&s->rcodec, p, (size_t)len, &cfg, s->rbins + s->rbins_n,
				(size_t)s->hcfg.counts_len);
	if (n < 0 || cfg.lowest != s->hcfg.lowest || cfg.highest != s->hcfg.highest ||
	    cfg.sig_digits != s->hcfg.sig_digits)
		return -EINVAL;
	h->b = s->rbins + s->rbins_n;
	h->n = h->cap = (uint32_t)n;
	for (j = 0; j < h->n; j++)
		h->total += h->b[j].count;
	s->rbins_n += (size_t)n;
	return 0;
}

/* Room for entry n. */
static int reserve(struct sqlite_be *s, uint32_t n)
{
	if (n + 1 > s->rent_cap) {
		uint32_t cap = s->rent_cap ? 2 * s->rent_cap : 256;
		struct ep_centry *e = realloc(s->rent, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->rent = e;
		s->rent_cap = cap;
	}
	return 0;
}

/* Read the ASN rows of one bucket into the scratch and hand them to cb. */
static int read_bucket(struct sqlite_be *s, sqlite3_stmt *rows, sqlite3_stmt *bk,
		       ep_history_cb cb, void *ctx, uint64_t *corrupt)
{
	uint32_t n = 0, k;
	int64_t cc;
	int rc, bad;

	s->rbins_n = 0;
	while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
		struct ep_centry *e;

		if (reserve(s, n) < 0)
			return -ENOMEM;
		/* Bins for three more histograms at their largest: grow by moving nothing yet in use. */
		if (s->rbins_cap - s->rbins_n < EP_AH__COUNT * (size_t)s->hcfg.counts_len) {
			size_t cap = s->rbins_cap * 2 + EP_AH__COUNT * (size_t)s->hcfg.counts_len;
			struct ep_hbin *nb = realloc(s->rbins, cap * sizeof(*nb));
			uint32_t i;

			if (!nb)
				return -ENOMEM;
			for (i = 0; i < n; i++)
				for (k = 0; k < EP_AH__COUNT; k++)
					if (s->rent[i].h[k].b)
						s->rent[i].h[k].b = nb + (s->rent[i].h[k].b - s->rbins);
			s->rbins = nb;
			s->rbins_cap = cap;
		}
		e = &s->rent[n];
		memset(e, 0, sizeof(*e));
		e->asn = (uint32_t)sqlite3_column_int64(rows, 0);
		cc = sqlite3_column_int64(rows, 1);
		e->cc = cc >= 0 && cc <= EP_CC_MAX ? (uint16_t)cc : 0;
		for (k = 0; k < EP_AC__COUNT; k++)
			e->c[k] = (uint64_t)sqlite3_column_int64(rows, 2 + (int)k);
		bad = cc < 0 || cc > EP_CC_MAX;
		for (k = 0; k < EP_AH__COUNT && !bad; k++)
			bad = read_hist(s, rows, 2 + EP_AC__COUNT + (int)k, &e->h[k]) < 0;
		if (bad) {
			(*corrupt)++;
			continue;
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		return -EIO;
	return cb((uint64_t)sqlite3_column_int64(bk, 0), (uint64_t)sqlite3_column_int64(bk, 1),
		  (uint64_t)sqlite3_column_int64(bk, 2), s->rent, n, ctx) ? 1 : 0;
}

/* One collector writes a file: its own rows are every row, and there are no others'. */
static long sq_read(void *be, const char *probe, uint64_t step_ns, uint64_t start_ns,
		    uint64_t end_ns, const struct ep_read *want, ep_history_cb cb, void *ctx,
		    uint64_t *corrupt)
{
	struct sqlite_be *s = be;
	sqlite3_stmt *bk = NULL, *rows = NULL;
	long n = 0;
	int rc, ret = 0;

	if (want->whose == EP_WHOSE_OTHERS)
		return 0;
	if (sqlite3_prepare_v2(s->r, "SELECT start_ns, newest_end_ns, windows FROM bucket WHERE step_ns = ?1 AND"
			       " probe = ?2 AND start_ns >= ?3 AND start_ns < ?4 ORDER BY start_ns",
			       -1, &bk, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->r, "SELECT asn, cc, flows_new, flows_closed, segs_out, segs_in,"
			       " retx_out, retx_in, syn_unsampled, rtt_data_timed, rtt_hs, rtt_data,"
			       " retx_ppm FROM asn"
			       " WHERE step_ns = ?1 AND probe = ?2 AND start_ns = ?3"
			       " AND asn >= ?4 AND asn <= ?5", -1, &rows,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(bk);
		return -EIO;
	}
	/* Read in one transaction: a consistent snapshot while the writer goes on. */
	if (exec(s->r, "BEGIN") < 0) {
		sqlite3_finalize(bk);
		sqlite3_finalize(rows);
		return -EIO;
	}
	sqlite3_bind_int64(bk, 1, (int64_t)step_ns);
	sqlite3_bind_text(bk, 2, probe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(bk, 3, (int64_t)start_ns);
	sqlite3_bind_int64(bk, 4, end_ns > INT64_MAX ? INT64_MAX : (int64_t)end_ns);
	while (ret == 0 && (rc = sqlite3_step(bk)) == SQLITE_ROW) {
		uint64_t start = (uint64_t)sqlite3_column_int64(bk, 0);

		sqlite3_bind_int64(rows, 1, (int64_t)step_ns);
		sqlite3_bind_text(rows, 2, probe, -1, SQLITE_STATIC);
		sqlite3_bind_int64(rows, 3, (int64_t)start);
		/* A range, not "?4 = 0 OR asn = ?4": the planner can seek the key's
		 * asn column with a range, and scanned every ASN of the bucket with the OR. */
		sqlite3_bind_int64(rows, 4, (int64_t)want->asn);
		sqlite3_bind_int64(rows, 5, want->asn ? (int64_t)want->asn : (int64_t)UINT32_MAX);
		ret = read_bucket(s, rows, bk, cb, ctx, corrupt);
		sqlite3_reset(rows);
		if (ret >= 0)
			n++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -EIO;
	exec(s->r, "COMMIT");
	sqlite3_finalize(bk);
	sqlite3_finalize(rows);
	return ret < 0 ? ret : n;
}

static int sq_probes(void *be, uint64_t step_ns, uint64_t since_ns,
		     int (*cb)(const char *probe, void *ctx), void *ctx)
{
	struct sqlite_be *s = be;
	sqlite3_stmt *st;
	int n = 0, rc;

	if (sqlite3_prepare_v2(s->r, "SELECT DISTINCT probe FROM bucket WHERE step_ns = ?1 AND"
			       " start_ns >= ?2", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)step_ns);
	sqlite3_bind_int64(st, 2, (int64_t)since_ns);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (cb((const char *)sqlite3_column_text(st, 0), ctx))
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -EIO;
}

static int sq_bounds(void *be, const char *probe, uint64_t step_ns, enum ep_whose whose,
		     uint64_t *oldest, uint64_t *newest)
{
	struct sqlite_be *s = be;
	sqlite3_stmt *st;
	int ret = -EIO;

	if (whose == EP_WHOSE_OTHERS)
		return -ENOENT;
	if (sqlite3_prepare_v2(s->r, "SELECT min(start_ns), max(start_ns) FROM bucket WHERE"
			       " step_ns = ?1 AND probe = ?2", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)step_ns);
	sqlite3_bind_text(st, 2, probe, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ret = sqlite3_column_type(st, 0) == SQLITE_NULL ? -ENOENT : 0;
		*oldest = (uint64_t)sqlite3_column_int64(st, 0);
		*newest = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return ret;
}

static long sq_orgs(void *be, void (*cb)(uint32_t asn, const char *org, void *ctx), void *ctx)
{
	struct sqlite_be *s = be;
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	if (sqlite3_prepare_v2(s->r, "SELECT asn, name FROM org", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t asn = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (asn >= 0 && asn <= UINT32_MAX && name) {
			cb((uint32_t)asn, name, ctx);
			n++;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

const struct ep_history_ops ep_history_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.write = sq_write,
	.expire = sq_expire,
	.read = sq_read,
	.probes = sq_probes,
	.bounds = sq_bounds,
	.orgs = sq_orgs,
	.close = sq_close,
};
