/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_map.c - ASN file loaders and longest-prefix-match lookup. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "asn_map.h"
#include "utf8.h"
#include "edgeprobe/ep_types.h"

typedef unsigned __int128 u128;

struct prefix {
	u128 first;
	uint32_t asn;
	uint32_t org;   /* offset into the string pool */
	uint32_t order; /* load order: a later duplicate wins */
	uint8_t len;
};

struct interval {
	u128 first;
	u128 last;
	uint32_t asn;
	uint32_t org;
};

struct family_table {
	struct interval *iv;
	size_t n;
	size_t prefixes;
};

struct asn_org {
	uint32_t asn;
	uint32_t org;
	uint8_t used;
};

struct ep_asn_map {
	struct family_table v4, v6;
	uint32_t *idx4;       /* 65537 entries: intervals with first < (t << 16) */
	char *pool;           /* organisation names, NUL-separated; offset 0 is "" */
	size_t pool_len, pool_cap;
	struct asn_org *orgs; /* open addressing asn -> org */
	size_t orgs_cap, orgs_n;
	size_t lines;
	size_t org_fixed;     /* bytes of names replaced by '?' (not UTF-8) */
};

/* Scratch state while loading. */
struct loader {
	struct ep_asn_map *m;
	struct prefix *p4, *p6;
	size_t n4, n6, cap4, cap6;
	uint32_t order;
	char *err;
	size_t errlen;
	const char *file;
	size_t line;
};

static int fail(struct loader *ld, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!ld->err || !ld->errlen)
		return ret;
	if (ld->line)
		n = snprintf(ld->err, ld->errlen, "%s:%zu: ", ld->file, ld->line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->file);
	if (n < 0 || (size_t)n >= ld->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Organisation names                                                         */
/* ------------------------------------------------------------------------ */

static size_t org_slot(const struct ep_asn_map *m, uint32_t asn)
{
	size_t i = (size_t)((asn * 0x9e3779b1u) >> 7) & (m->orgs_cap - 1);

	while (m->orgs[i].used && m->orgs[i].asn != asn)
		i = (i + 1) & (m->orgs_cap - 1);
	return i;
}

static int pool_add(struct ep_asn_map *m, const char *s, size_t len, uint32_t *off)
{
	if (m->pool_len + len + 1 > m->pool_cap) {
		size_t cap = m->pool_cap ? m->pool_cap * 2 : 65536;
		char *p;

		while (cap < m->pool_len + len + 1)
			cap *= 2;
		p = realloc(m->pool, cap);
		if (!p)
			return -ENOMEM;
		m->pool = p;
		m->pool_cap = cap;
	}
	memcpy(m->pool + m->pool_len, s, len);
	m->pool[m->pool_len + len] = '\0';
	*off = (uint32_t)m->pool_len;
	m->pool_len += len + 1;
	return 0;
}

static int orgs_grow(struct ep_asn_map *m)
{
	struct asn_org *old = m->orgs;
	size_t i, cap = m->orgs_cap;

	m->orgs_cap = cap ? cap * 2 : 4096;
	m->orgs = calloc(m->orgs_cap, sizeof(*m->orgs));
	if (!m->orgs) {
		m->orgs = old;
		m->orgs_cap = cap;
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++)
		if (old[i].used)
			m->orgs[org_slot(m, old[i].asn)] = old[i];
	free(old);
	return 0;
}

/* The pool offset of org for asn, adding it when new or different. */
static int org_intern(struct ep_asn_map *m, uint32_t asn, const char *org, size_t len,
		      uint32_t *off)
{
	size_t i;
	int ret;

	if (len == 0) {
		*off = 0;
		if (m->orgs_cap) {
			i = org_slot(m, asn);
			if (m->orgs[i].used)
				*off = m->orgs[i].org;
		}
		return 0;
	}
	if ((m->orgs_n + 1) * 2 > m->orgs_cap && (ret = orgs_grow(m)) < 0)
		return ret;
	i = org_slot(m, asn);
	if (m->orgs[i].used && strlen(m->pool + m->orgs[i].org) == len &&
	    memcmp(m->pool + m->orgs[i].org, org, len) == 0) {
		*off = m->orgs[i].org;
		return 0;
	}
	ret = pool_add(m, org, len, off);
	if (ret < 0)
		return ret;
	if (!m->orgs[i].used)
		m->orgs_n++;
	m->orgs[i].used = 1;
	m->orgs[i].asn = asn;
	m->orgs[i].org = *off;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Prefixes                                                                   */
/* ------------------------------------------------------------------------ */

static int add_prefix(struct loader *ld, int family, u128 first, int len, uint32_t asn,
		      uint32_t org)
{
	struct prefix **v = family == 4 ? &ld->p4 : &ld->p6;
	size_t *n = family == 4 ? &ld->n4 : &ld->n6, *cap = family == 4 ? &ld->cap4 : &ld->cap6;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 65536;
		struct prefix *p = realloc(*v, c * sizeof(**v));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[*n].first = first;
	(*v)[*n].len = (uint8_t)len;
	(*v)[*n].asn = asn;
	(*v)[*n].org = org;
	(*v)[*n].order = ld->order++;
	(*n)++;
	return 0;
}

static int ctz128(u128 v, int width)
{
	int n = 0;

	if (v == 0)
		return width;
	while (!(v & 1)) {
		v >>= 1;
		n++;
	}
	return n;
}

static int log2_128(u128 v)
{
	int n = -1;

	while (v) {
		v >>= 1;
		n++;
	}
	return n;
}

/* Split [first, last] into CIDR prefixes. */
static int add_range(struct loader *ld, int family, u128 first, u128 last, uint32_t asn,
		     uint32_t org)
{
	int width = family == 4 ? 32 : 128, ret;
	u128 top = family == 4 ? (u128)0xffffffffu : ~(u128)0;

	for (;;) {
		int bits = ctz128(first, width);
		u128 span = last - first; /* size - 1 */
		int fit = span == top ? width : log2_128(span + 1);

		if (fit < bits)
			bits = fit;
		ret = add_prefix(ld, family, first, width - bits, asn, org);
		if (ret < 0)
			return ret;
		if (bits == width)
			return 0;
		{
			u128 next = first + ((u128)1 << bits);

			if (next - 1 >= last || next == 0)
				return 0;
			first = next;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Line parsers                                                               */
/* ------------------------------------------------------------------------ */

static int parse_addr(const char *s, int *family, u128 *out)
{
	uint8_t b[16];
	int i;

	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, b) != 1)
			return -1;
		*family = 6;
		*out = 0;
		for (i = 0; i < 16; i++)
			*out = *out << 8 | b[i];
		return 0;
	}
	if (strchr(s, '.')) {
		if (inet_pton(AF_INET, s, b) != 1)
			return -1;
		*family = 4;
		*out = (u128)ep_be32(b);
		return 0;
	}
	/* Numeric IPv4 (asn-ipv4-num.csv). */
	{
		char *end;
		unsigned long long v;

		if (!isdigit((unsigned char)s[0]))
			return -1;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || *end || v > 0xffffffffull)
			return -2;
		*family = 4;
		*out = v;
		return 0;
	}
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > 0xffffffffull)
		return -1;
	*out = (uint32_t)v;
	return (int)(end - s);
}

/* Split one CSV line in place (RFC 4180 quoting).  @return field count or -1. */
static int csv_split(char *line, char **f, int maxf)
{
	int n = 0;
	char *r = line, *w;

	while (n < maxf) {
		f[n++] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return -1; /* unterminated quote */
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r != ',' && *r != '\0')
				return -1;
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
		}
		if (*r == '\0') {
			*w = '\0';
			return n;
		}
		*w = '\0';
		r++;
	}
	return -2; /* too many fields */
}

static int load_csv_line(struct loader *ld, char *line)
{
	char *f[5];
	int n = csv_split(line, f, 5), fa, fb, r;
	u128 a, b;
	uint32_t asn, org;

	if (n == -1)
		return fail(ld, -EINVAL, "unterminated quoted field");
	if (n < 0 || n > 4)
		return fail(ld, -EINVAL, "expected 4 fields (first_ip,last_ip,asn,org), got more");
	if (n < 3)
		return fail(ld, -EINVAL, "expected 4 fields (first_ip,last_ip,asn,org), got %d", n);
	if ((r = parse_addr(f[0], &fa, &a)) < 0)
		return fail(ld, -EINVAL, "bad first address '%s'", f[0]);
	if ((r = parse_addr(f[1], &fb, &b)) < 0)
		return fail(ld, -EINVAL, "bad last address '%s'", f[1]);
	if (fa != fb)
		return fail(ld, -EINVAL, "first and last address are of different families");
	if (b < a)
		return fail(ld, -EINVAL, "last address is below the first");
	r = parse_u32(f[2], &asn);
	if (r < 0 || f[2][r] != '\0')
		return fail(ld, -EINVAL, "bad ASN '%s'", f[2]);
	if (n == 4) /* a name goes out on the wire and into label values: printable UTF-8 */
		ld->m->org_fixed += ep_utf8_sanitize(f[3], strlen(f[3]));
	if (org_intern(ld->m, asn, n == 4 ? f[3] : "", n == 4 ? strlen(f[3]) : 0, &org) < 0)
		return fail(ld, -ENOMEM, "out of memory");
	if (add_range(ld, fa, a, b, asn, org) < 0)
		return fail(ld, -ENOMEM, "out of memory");
	return 0;
}

/* CAIDA pfx2as: prefix TAB length TAB asn, where asn may be "a_b" or "{a,b}". */
static int load_pfx2as_line(struct loader *ld, char *line)
{
	char *f[4], *s = line, *asn_s;
	int n = 0, fam, width, len, r;
	uint32_t asn, org;
	u128 a;

	while (n < 4) {
		f[n++] = s;
		s = strchr(s, '\t');
		if (!s)
			break;
		*s++ = '\0';
	}
	if (n != 3)
		return fail(ld, -EINVAL, "expected 3 tab-separated fields (prefix, length, asn)");
	if (parse_addr(f[0], &fam, &a) < 0 || !strpbrk(f[0], ".:"))
		return fail(ld, -EINVAL, "bad prefix '%s'", f[0]);
	width = fam == 4 ? 32 : 128;
	r = parse_u32(f[1], (uint32_t *)&len);
	if (r < 0 || f[1][r] != '\0' || len > width)
		return fail(ld, -EINVAL, "bad prefix length '%s'", f[1]);
	if (len < width && (a & ((((u128)1) << (width - len)) - 1)))
		return fail(ld, -EINVAL, "prefix %s/%d has host bits set", f[0], len);
	asn_s = f[2][0] == '{' ? f[2] + 1 : f[2];
	r = parse_u32(asn_s, &asn);
	if (r < 0 || (asn_s[r] != '\0' && !strchr("_,}", asn_s[r])))
		return fail(ld, -EINVAL, "bad origin AS '%s'", f[2]);
	if (org_intern(ld->m, asn, "", 0, &org) < 0 || add_prefix(ld, fam, a, len, asn, org) < 0)
		return fail(ld, -ENOMEM, "out of memory");
	return 0;
}

static int load_file(struct loader *ld, const char *path)
{
	char line[EP_ASN_LINE_MAX + 2];
	struct stat st;
	FILE *fp = fopen(path, "r");
	size_t len;
	int fmt = 0, ret = 0; /* fmt: 1 csv, 2 pfx2as */

	ld->file = path;
	ld->line = 0;
	if (!fp)
		return fail(ld, -errno, "%s", strerror(errno));
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return fail(ld, -EINVAL, "not a regular file");
	}
	while (fgets(line, sizeof(line), fp)) {
		ld->line++;
		len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			ret = fail(ld, -EINVAL, "line longer than %d bytes", EP_ASN_LINE_MAX);
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (ld->line == 1 && (strncmp(line, "first_ip", 8) == 0 ||
				      strncmp(line, "network", 7) == 0))
			continue; /* a header line */
		if (!fmt)
			fmt = strchr(line, '\t') ? 2 : 1;
		ret = fmt == 1 ? load_csv_line(ld, line) : load_pfx2as_line(ld, line);
		if (ret < 0)
			break;
		ld->m->lines++;
	}
	if (!ret && ferror(fp))
		ret = fail(ld, -EIO, "read error");
	fclose(fp);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Flattening prefixes into disjoint intervals                                */
/* ------------------------------------------------------------------------ */

static int prefix_cmp(const void *x, const void *y)
{
	const struct prefix *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}

static void emit(struct family_table *t, u128 first, u128 last, uint32_t asn, uint32_t org)
{
	struct interval *prev = t->n ? &t->iv[t->n - 1] : NULL;

	if (prev && prev->asn == asn && prev->org == org && prev->last + 1 == first) {
		prev->last = last;
		return;
	}
	t->iv[t->n].first = first;
	t->iv[t->n].last = last;
	t->iv[t->n].asn = asn;
	t->iv[t->n].org = org;
	t->n++;
}

static int flatten(struct prefix *p, size_t n, int width, struct family_table *t)
{
	struct {
		u128 last;
		uint32_t asn, org;
		u128 first;
		uint8_t len;
	} st[130];
	int sp = 0, done = 0;
	u128 cur = 0;
	size_t i;

	if (n)
		qsort(p, n, sizeof(*p), prefix_cmp);
	/* Each prefix yields at most two intervals (before and after nested ones). */
	t->iv = malloc((2 * n + 1) * sizeof(*t->iv));
	if (!t->iv)
		return -ENOMEM;
	t->n = 0;
	t->prefixes = n;
	for (i = 0; i < n; i++) {
		u128 last = width == 128 && p[i].len == 0
				    ? ~(u128)0
				    : p[i].first + (((u128)1 << (width - p[i].len)) - 1);

		/* Close every open prefix that ends before this one starts. */
		while (sp > 0 && st[sp - 1].last < p[i].first) {
			sp--;
			if (!done && cur <= st[sp].last)
				emit(t, cur, st[sp].last, st[sp].asn, st[sp].org);
			cur = st[sp].last + 1;
		}
		if (sp > 0 && st[sp - 1].first == p[i].first && st[sp - 1].len == p[i].len) {
			st[sp - 1].asn = p[i].asn; /* duplicate: the later line wins */
			st[sp - 1].org = p[i].org;
			continue;
		}
		if (sp > 0 && cur < p[i].first)
			emit(t, cur, p[i].first - 1, st[sp - 1].asn, st[sp - 1].org);
		cur = p[i].first;
		done = 0;
		st[sp].first = p[i].first;
		st[sp].last = last;
		st[sp].len = p[i].len;
		st[sp].asn = p[i].asn;
		st[sp].org = p[i].org;
		sp++;
	}
	while (sp > 0) {
		sp--;
		if (!done && cur <= st[sp].last)
			emit(t, cur, st[sp].last, st[sp].asn, st[sp].org);
		if (st[sp].last == (width == 32 ? (u128)0xffffffffu : ~(u128)0))
			done = 1; /* cur would wrap */
		cur = st[sp].last + 1;
	}
	return 0;
}

static int build_idx4(struct ep_asn_map *m)
{
	size_t i = 0;
	uint32_t t;

	m->idx4 = malloc(65537 * sizeof(*m->idx4));
	if (!m->idx4)
		return -ENOMEM;
	for (t = 0; t <= 65536; t++) {
		while (i < m->v4.n && m->v4.iv[i].first < ((u128)t << 16))
			i++;
		m->idx4[t] = (uint32_t)i;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

/* A map with no ranges and no index yet (its string pool holds ""). */
static struct ep_asn_map *map_new(void)
{
	struct ep_asn_map *m = calloc(1, sizeof(*m));
	uint32_t off;

	if (m && pool_add(m, "", 0, &off) < 0) {
		ep_asn_map_free(m);
		return NULL;
	}
	return m;
}

int ep_asn_map_empty(struct ep_asn_map **out)
{
	struct ep_asn_map *m = map_new();

	*out = NULL;
	if (!m || build_idx4(m) < 0) {
		ep_asn_map_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

int ep_asn_map_load(const char *const *files, struct ep_asn_map **out, char *err, size_t errlen)
{
	struct loader ld = {.err = err, .errlen = errlen};
	int ret;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	ld.m = map_new();
	if (!ld.m)
		return -ENOMEM;
	for (; *files; files++) {
		ret = load_file(&ld, *files);
		if (ret < 0)
			goto cleanup;
	}
	ld.line = 0;
	ret = flatten(ld.p4, ld.n4, 32, &ld.m->v4);
	if (!ret)
		ret = flatten(ld.p6, ld.n6, 128, &ld.m->v6);
	if (!ret)
		ret = build_idx4(ld.m);
	if (ret < 0) {
		fail(&ld, ret, "out of memory");
		goto cleanup;
	}
	*out = ld.m;
	ld.m = NULL;
cleanup:
	free(ld.p4);
	free(ld.p6);
	ep_asn_map_free(ld.m);
	return ret;
}

void ep_asn_map_free(struct ep_asn_map *m)
{
	if (!m)
		return;
	free(m->v4.iv);
	free(m->v6.iv);
	free(m->idx4);
	free(m->pool);
	free(m->orgs);
	free(m);
}

/* Index of the last interval in [lo, hi) with first <= key, or lo - 1. */
static size_t upper(const struct interval *iv, size_t lo, size_t hi, u128 key)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (iv[mid].first <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t ep_asn_map_lookup(const struct ep_asn_map *m, int family, const uint8_t *addr,
			   const char **org)
{
	const struct family_table *t;
	size_t pos;
	u128 key = 0;
	int i;

	if (family == 4) {
		uint32_t a = ep_be32(addr);

		t = &m->v4;
		key = a;
		pos = upper(t->iv, m->idx4[a >> 16], m->idx4[(a >> 16) + 1], key);
	} else {
		t = &m->v6;
		for (i = 0; i < 16; i++)
			key = key << 8 | addr[i];
		pos = upper(t->iv, 0, t->n, key);
	}
	if (pos > 0 && key <= t->iv[pos - 1].last) {
		if (org)
			*org = m->pool + t->iv[pos - 1].org;
		return t->iv[pos - 1].asn;
	}
	if (org)
		*org = m->pool;
	return EP_ASN_UNKNOWN;
}

const char *ep_asn_map_org(const struct ep_asn_map *m, uint32_t asn)
{
	size_t i;

	if (!m->orgs_cap)
		return m->pool;
	i = org_slot(m, asn);
	return m->orgs[i].used ? m->pool + m->orgs[i].org : m->pool;
}

void ep_asn_map_info(const struct ep_asn_map *m, struct ep_asn_map_info *info)
{
	info->lines = m->lines;
	info->org_fixed = m->org_fixed;
	info->prefixes4 = m->v4.prefixes;
	info->prefixes6 = m->v6.prefixes;
	info->intervals4 = m->v4.n;
	info->intervals6 = m->v6.n;
	info->asns = m->orgs_n;
	info->bytes = (m->v4.n + m->v6.n) * sizeof(struct interval) + m->pool_cap +
		      m->orgs_cap * sizeof(struct asn_org) + 65537 * sizeof(uint32_t);
}

int ep_asn_map_prefixes(const struct ep_asn_map *m, int family, ep_asn_prefix_cb cb, void *ctx)
{
	const struct family_table *t = family == 4 ? &m->v4 : &m->v6;
	int bits = family == 4 ? 32 : 128;
	size_t i;

	/* Each flattened interval as the fewest prefixes that cover exactly it. */
	for (i = 0; i < t->n; i++) {
		u128 first = t->iv[i].first, last = t->iv[i].last;

		for (;;) {
			uint8_t addr[16] = {0};
			int len = bits, j, ret;
			u128 size;

			/* Grow the block while it stays aligned and inside the interval. */
			while (len > 0 && bits - len + 1 < 128) {
				u128 bigger = (u128)1 << (bits - len + 1);

				if ((first & (bigger - 1)) != 0 || first + bigger - 1 > last)
					break;
				len--;
			}
			size = (u128)1 << (bits - len);
			for (j = 0; j < bits / 8; j++)
				addr[j] = (uint8_t)(first >> (bits - 8 - 8 * j));
			ret = cb(ctx, addr, len, t->iv[i].asn);
			if (ret)
				return ret;
			if (first + size - 1 >= last)
				break;
			first += size;
		}
	}
	return 0;
}
