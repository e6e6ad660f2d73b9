/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_history_sqlite.c - an SQLite history written by an older collector (schema 1: no
 * country; schema 2: no rtt_data_timed) is migrated when a collector opens it: its rows
 * read back with every counter they had, rtt_data_timed 0, and the file then opens as
 * the current schema.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "history.h"
#include "stats.h"

/* CHECK with a message of what differed. */
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		check_run++;                                                                       \
		if (!(cond)) {                                                                     \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);                    \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define STEP 1000000000ull
#define START 1700000000000000000ull

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A file as a collector of schema v (1 or 2) left it: one bucket, one ASN row. */
static int write_old(const char *path, int v, const struct ep_hdr_cfg *h)
{
	char sql[1024];
	sqlite3 *db;
	int ret;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	snprintf(sql, sizeof(sql),
		 "PRAGMA application_id = %d;"
		 "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
		 "CREATE TABLE org(asn INTEGER PRIMARY KEY, name TEXT NOT NULL);"
		 "CREATE TABLE bucket(step_ns INTEGER NOT NULL, probe TEXT NOT NULL,"
		 " start_ns INTEGER NOT NULL, newest_end_ns INTEGER NOT NULL,"
		 " windows INTEGER NOT NULL, PRIMARY KEY(step_ns, probe, start_ns)) WITHOUT ROWID;"
		 "CREATE TABLE asn(step_ns INTEGER NOT NULL, probe TEXT NOT NULL,"
		 " start_ns INTEGER NOT NULL, asn INTEGER NOT NULL,%s flows_new INTEGER,"
		 " flows_closed INTEGER, segs_out INTEGER, segs_in INTEGER, retx_out INTEGER,"
		 " retx_in INTEGER, syn_unsampled INTEGER, rtt_hs BLOB, rtt_data BLOB, retx_ppm BLOB,"
		 " PRIMARY KEY(step_ns, probe, start_ns, asn%s)) WITHOUT ROWID;"
		 "INSERT INTO meta VALUES('format', 'schema %d, hist %" PRId64 " %" PRId64 " %d');"
		 "INSERT INTO bucket VALUES(%llu, 'p1', %llu, %llu, 10);"
		 "INSERT INTO asn VALUES(%llu, 'p1', %llu, 64500,%s 1, 2, 3, 4, 5, 6, 7,"
		 " NULL, NULL, NULL);",
		 0x45504831, v == 1 ? "" : " cc INTEGER NOT NULL,", v == 1 ? "" : ", cc", v,
		 h->lowest, h->highest, h->sig_digits, STEP, START, START + STEP, STEP, START,
		 v == 1 ? "" : " 0,");
	ret = exec(db, sql);
	sqlite3_close(db);
	return ret;
}

struct seen {
	uint32_t n;
	struct ep_centry e;
};

static int on_rows(uint64_t start_ns, uint64_t newest_end_ns, uint64_t windows,
		   const struct ep_centry *e, uint32_t n, void *ctx)
{
	struct seen *s = ctx;

	(void)newest_end_ns;
	(void)windows;
	if (start_ns == START && n == 1)
		s->e = e[0];
	s->n += n;
	return 0;
}

/* Open path as the collector does and read its one row back. */
static void check_read(const char *path, const struct ep_hdr_cfg *h, const char *what)
{
	struct ep_history_cfg cfg = {.path = path, .queue_max = 1 << 20, .flush_ns = STEP};
	struct ep_read want = {.whose = EP_WHOSE_EVERY};
	struct ep_history *hist = NULL;
	struct seen s = {0};
	char err[256] = "";
	long n;
	int k;

	if (ep_history_open(&hist, &cfg, h, err, sizeof(err)) < 0) {
		CHECK_MSG(0, "%s: open: %s", what, err);
		return;
	}
	n = ep_history_read(hist, "p1", STEP, START, START + STEP, &want, on_rows, &s);
	CHECK_MSG(n == 1 && s.n == 1, "%s: %ld buckets, %u rows read", what, n, s.n);
	CHECK_MSG(s.e.asn == 64500, "%s: ASN %u", what, s.e.asn);
	for (k = 0; k < EP_AC_rtt_data_timed; k++)
		CHECK_MSG(s.e.c[k] == (uint64_t)k + 1, "%s: counter %s is %" PRIu64, what,
			  ep_asn_counter_names[k], s.e.c[k]);
	CHECK_MSG(s.e.c[EP_AC_rtt_data_timed] == 0, "%s: rtt_data_timed %" PRIu64, what,
		  s.e.c[EP_AC_rtt_data_timed]);
	ep_history_close(hist);
}

int main(void)
{
	struct ep_hdr_cfg h;
	char path[64];
	int v;

	CHECK(ep_hdr_cfg_init(&h, 1, 60000000, 3) == 0);
	for (v = 1; v <= 2; v++) {
		char what[32];

		snprintf(path, sizeof(path), "/tmp/ep-test-history-%d-%d.db", (int)getpid(), v);
		unlink(path);
		CHECK(write_old(path, v, &h) == 0);
		snprintf(what, sizeof(what), "schema %d", v);
		check_read(path, &h, what);
		snprintf(what, sizeof(what), "schema %d, reopened", v);
		check_read(path, &h, what); /* now the current schema: no migration this time */
		unlink(path);
	}
	CHECK_DONE();
}
