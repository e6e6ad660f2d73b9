/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * history_clickhouse_read.c - reads from the ClickHouse history: the query for a
 * range (sums per ASN, one ASN's rows, FINAL only over ranges with rewritten
 * buckets) and the TabSeparated answer parsed into entries with their
 * histograms' bins; the stored bounds, probes and organisation names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "country.h"
#include "history_clickhouse_int.h"

static long parse_array(const char **pp, uint64_t *out, size_t cap, int sign)
{
	const char *p = *pp;
	long n = 0;

	if (*p++ != '[')
		return -1;
	while (*p && *p != ']') {
		char *end;
		long long v = sign ? strtoll(p, &end, 10) : (long long)strtoull(p, &end, 10);

		if (end == p || (size_t)n >= cap)
			return -1;
		out[n++] = (uint64_t)v;
		p = end;
		if (*p == ',')
			p++;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return n;
}

/* "([i,...],[n,...])" of sumMap into a sparse histogram in the scratch at *used. */
static int parse_map(struct ch_be *c, const char **pp, struct ep_shist *h, size_t *used)
{
	size_t room = (size_t)c->hcfg.counts_len;
	uint64_t *ix = c->nums, *ct;
	const char *p = *pp;
	long ni, nc, i;

	if (*p++ != '(')
		return -1;
	ni = parse_array(&p, ix, room, 1);
	if (ni < 0 || *p++ != ',')
		return -1;
	ct = ix + ni;
	nc = parse_array(&p, ct, room, 0);
	if (nc != ni || *p++ != ')')
		return -1;
	memset(h, 0, sizeof(*h));
	h->b = c->bins + *used;
	for (i = 0; i < ni; i++) {
		int64_t idx = (int64_t)ix[i];
		uint64_t cnt = ct[i];

		if (idx < 0 || idx >= c->hcfg.counts_len || !cnt || cnt > UINT32_MAX ||
		    (i && idx <= h->b[i - 1].idx))
			return -1;
		h->b[i].idx = (int32_t)idx;
		h->b[i].count = (uint32_t)cnt;
		h->total += cnt;
	}
	h->n = h->cap = (uint32_t)ni;
	*used += (size_t)ni;
	*pp = p;
	return 0;
}

/* Room for entry n and the bins of three more histograms at their largest (pointers kept). */
static int grow_scratch(struct ch_be *c, uint32_t n, size_t used)
{
	size_t need = used + EP_AH__COUNT * (size_t)c->hcfg.counts_len;

	if (!c->nums && !(c->nums = malloc(2 * (size_t)c->hcfg.counts_len * sizeof(*c->nums))))
		return -ENOMEM;

	if (n + 1 > c->ent_cap) {
		uint32_t cap = c->ent_cap ? 2 * c->ent_cap : 256;
		struct ep_centry *e = realloc(c->ent, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		c->ent = e;
		c->ent_cap = cap;
	}
	if (need > c->bins_cap) {
		size_t cap = c->bins_cap ? 2 * c->bins_cap : 4 * need;
		struct ep_hbin *b;
		uint32_t i, k;

		while (cap < need)
			cap *= 2;
		b = realloc(c->bins, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			for (k = 0; k < EP_AH__COUNT; k++)
				if (c->ent[i].h[k].b)
					c->ent[i].h[k].b = b + (c->ent[i].h[k].b - c->bins);
		c->bins = b;
		c->bins_cap = cap;
	}
	return 0;
}

/* One answer row "START\tASN\tCC\t[counters]\t(map)\t(map)\t(map)". @return 0 or -1 */
static int parse_row(struct ch_be *c, const char *p, uint64_t *start, struct ep_centry *e,
		     size_t *used)
{
	uint64_t cv[EP_AC__COUNT] = {0};
	unsigned long long asn, cc;
	char *end;
	uint32_t k;
	long nc;

	*start = strtoull(p, &end, 10);
	if (end == p || *end != '\t')
		return -1;
	p = end + 1;
	asn = strtoull(p, &end, 10);
	if (end == p || *end != '\t' || asn > UINT32_MAX)
		return -1;
	p = end + 1;
	cc = strtoull(p, &end, 10);
	if (end == p || *end != '\t' || cc > EP_CC_MAX)
		return -1;
	p = end + 1;
	memset(e, 0, sizeof(*e));
	e->asn = (uint32_t)asn;
	e->cc = (uint16_t)cc;
	/* Rows of wire version 3 have no rtt_data_timed: a sum over those alone is one short. */
	nc = parse_array(&p, cv, EP_AC__COUNT, 0);
	if (nc != EP_AC__COUNT && nc != EP_AC__COUNT_V3)
		return -1;
	memcpy(e->c, cv, sizeof(e->c));
	for (k = 0; k < EP_AH__COUNT; k++)
		if (*p++ != '\t' || parse_map(c, &p, &e->h[k], used) < 0)
			return -1;
	return *p ? -1 : 0;
}

/* "SELECT ... WHERE step = S AND probe = 'P' AND start in [a, b) [AND collector =/!= me]" tail. */
static void where(struct ch_be *c, struct buf *q, const char *probe, uint64_t step_ns,
		  uint64_t start_ns, uint64_t end_ns, enum ep_whose whose)
{
	ep_ch_buf_fmt(q, " WHERE step = %" PRIu64 " AND probe = '", step_ns);
	ep_ch_buf_sql(q, probe);
	ep_ch_buf_fmt(q, "' AND start >= %" PRIu64 " AND start < %" PRIu64, start_ns, end_ns);
	if (whose != EP_WHOSE_EVERY)
		ep_ch_buf_fmt(q, " AND collector %s '%s'", whose == EP_WHOSE_OWN ? "=" : "!=", c->id);
}

/*
 * The bucket list (start, newest end, windows) and the ASN rows, both ordered
 * by start, merged over the collectors want names by ClickHouse: sumForEach
 * adds the counters, sumMap the histograms, exactly.  A sum is one bucket
 * (start 0) grouped by ASN alone: ClickHouse adds up over time too.
 */
long ep_ch_read(void *be, const char *probe, uint64_t step_ns, uint64_t start_ns, uint64_t end_ns,
		const struct ep_read *want, ep_history_cb cb, void *ctx, uint64_t *corrupt)
{
	struct ch_be *c = be;
	struct buf q = {0}, *rb = &c->rbuf;
	const char *sfx = want->whose == EP_WHOSE_OWN ? c->wsfx : "";
	char err[512], *bk, *bsave = NULL, *line, *b;
	long nb = 0;
	int ret, dup;

	ep_ch_buf_fmt(&q, "SELECT %s, max(newest_end), sum(windows), max(dup) FROM %s.bucket%s FINAL",
		want->sum ? "0" : "start", c->db, sfx);
	where(c, &q, probe, step_ns, start_ns, end_ns, want->whose);
	ep_ch_buf_fmt(&q, want->sum ? " HAVING count() > 0 FORMAT TabSeparated" :
				" GROUP BY start ORDER BY start FORMAT TabSeparated");
	ret = q.nomem ? -ENOMEM : ep_ch_post(c, c->r, &q, rb, err, sizeof(err));
	if (ret < 0) {
		free(q.p);
		return ret;
	}
	bk = rb->p; /* kept while the rows are read into the buffer */
	rb->p = NULL;
	rb->len = rb->cap = 0;
	/* Rows stored twice (a rewritten bucket, a retried insert) only where a bucket says so. */
	for (line = bk, dup = 0; line && *line && !dup; line = strchr(line, '\n')) {
		unsigned long long st, ne, w, d;

		if (*line == '\n')
			line++;
		if (*line && sscanf(line, "%llu\t%llu\t%llu\t%llu", &st, &ne, &w, &d) == 4 && d)
			dup = 1;
	}
	q.len = 0;
	ep_ch_buf_fmt(&q, "SELECT %s, asn, cc, sumForEach(c), sumMap(hs_i, hs_n), sumMap(hd_i, hd_n),"
		" sumMap(hr_i, hr_n) FROM %s.pair%s%s", want->sum ? "0" : "start", c->db, sfx,
		dup ? " FINAL" : "");
	where(c, &q, probe, step_ns, start_ns, end_ns, want->whose);
	if (want->asn)
		ep_ch_buf_fmt(&q, " AND asn = %u", want->asn);
	ep_ch_buf_fmt(&q, want->sum ? " GROUP BY asn, cc ORDER BY asn, cc FORMAT TabSeparated" :
				" GROUP BY start, asn, cc ORDER BY start, asn, cc FORMAT TabSeparated");
	ret = q.nomem ? -ENOMEM : ep_ch_post(c, c->r, &q, rb, err, sizeof(err));
	free(q.p);
	if (ret < 0) {
		free(bk);
		return ret;
	}
	line = rb->p;
	for (b = strtok_r(bk, "\n", &bsave); b && ret == 0; b = strtok_r(NULL, "\n", &bsave)) {
		unsigned long long start, newest, windows;
		uint32_t n = 0;
		size_t used = 0;

		if (sscanf(b, "%llu\t%llu\t%llu", &start, &newest, &windows) != 3) {
			ret = -EIO;
			break;
		}
		while (line && *line) {
			char *next = strchr(line, '\n');
			uint64_t s;

			if (next)
				*next = '\0';
			if (grow_scratch(c, n, used) < 0) {
				ret = -ENOMEM;
				break;
			}
			if (parse_row(c, line, &s, &c->ent[n], &used) < 0) {
				(*corrupt)++;
			} else if (s > start) {
				if (next)
					*next = '\n';
				break; /* the next bucket's first row */
			} else if (s == start) {
				n++;
			} /* else: rows of a bucket the list did not name, skipped */
			line = next ? next + 1 : NULL;
		}
		if (ret == 0 && cb(start, newest, windows, c->ent, n, ctx))
			break;
		nb++;
	}
	free(bk);
	return ret < 0 ? ret : nb;
}

int ep_ch_bounds(void *be, const char *probe, uint64_t step_ns, enum ep_whose whose,
		 uint64_t *oldest, uint64_t *newest)
{
	struct ch_be *c = be;
	struct buf q = {0};
	unsigned long long lo, hi, n;
	char err[512];
	int ret;

	ep_ch_buf_fmt(&q, "SELECT min(start), max(start), count() FROM %s.bucket%s", c->db,
		whose == EP_WHOSE_OWN ? c->wsfx : "");
	where(c, &q, probe, step_ns, 0, INT64_MAX, whose);
	ep_ch_buf_fmt(&q, " FORMAT TabSeparated");
	ret = q.nomem ? -ENOMEM : ep_ch_post(c, c->r, &q, &c->rbuf, err, sizeof(err));
	free(q.p);
	if (ret < 0)
		return ret;
	if (sscanf(c->rbuf.p, "%llu\t%llu\t%llu", &lo, &hi, &n) != 3)
		return -EIO;
	*oldest = lo;
	*newest = hi;
	return n ? 0 : -ENOENT;
}

/* ClickHouse's TabSeparated escapes, undone in place. */
static void tsv_unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*d++ = *s;
			continue;
		}
		s++;
		*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 'b' ? '\b' :
		       *s == 'f' ? '\f' : *s == '0' ? '\0' : *s;
	}
	*d = '\0';
}

int ep_ch_probes(void *be, uint64_t step_ns, uint64_t since_ns,
		 int (*cb)(const char *probe, void *ctx), void *ctx)
{
	struct ch_be *c = be;
	char err[512], *line, *save = NULL;
	int n = 0;

	if (ep_ch_exec(c, c->r, err, sizeof(err), "SELECT DISTINCT probe FROM %s.bucket%s WHERE step = %"
		    PRIu64 " AND start >= %" PRIu64 " AND collector = '%s' FORMAT TabSeparated",
		    c->db, c->wsfx, step_ns, since_ns, c->id) < 0)
		return -EIO;
	for (line = strtok_r(c->resp.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		tsv_unescape(line);
		n++;
		if (cb(line, ctx))
			break;
	}
	return n;
}

long ep_ch_orgs(void *be, void (*cb)(uint32_t asn, const char *org, void *ctx), void *ctx)
{
	struct ch_be *c = be;
	char err[512], *line, *save = NULL;
	long n = 0;

	/* Every shard's names; while another shard lacks the tables, this one's. */
	if (ep_ch_exec(c, c->r, err, sizeof(err), "SELECT asn, argMax(name, written) FROM %s.org"
		    " GROUP BY asn FORMAT TabSeparated", c->db) < 0 &&
	    (!*c->cluster || ep_ch_exec(c, c->r, err, sizeof(err), "SELECT asn, argMax(name, written)"
				     " FROM %s.org_local GROUP BY asn FORMAT TabSeparated", c->db) < 0))
		return -EIO;
	for (line = strtok_r(c->resp.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *end;
		unsigned long long asn = strtoull(line, &end, 10);

		if (!tab || end != tab || asn > UINT32_MAX)
			continue;
		tsv_unescape(tab + 1);
		cb((uint32_t)asn, tab + 1, ctx);
		n++;
	}
	return n;
}
