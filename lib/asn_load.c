/* SPDX-License-Identifier: BSD-3-Clause */
/* asn_load.c - ASN and country files to prefixes: the CSV and pfx2as line parsers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asn_map_int.h"
#include "utf8.h"
#include "edgeprobe/ep_types.h"

int ep_asn_fail(struct loader *ld, int ret, const char *fmt, ...)
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

size_t ep_asn_org_slot(const struct ep_asn_map *m, uint32_t asn)
{
	size_t i = (size_t)((asn * 0x9e3779b1u) >> 7) & (m->orgs_cap - 1);

	while (m->orgs[i].used && m->orgs[i].asn != asn)
		i = (i + 1) & (m->orgs_cap - 1);
	return i;
}

int ep_asn_pool_add(struct ep_asn_map *m, const char *s, size_t len, uint32_t *off)
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
			m->orgs[ep_asn_org_slot(m, old[i].asn)] = old[i];
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
			i = ep_asn_org_slot(m, asn);
			if (m->orgs[i].used)
				*off = m->orgs[i].org;
		}
		return 0;
	}
	if ((m->orgs_n + 1) * 2 > m->orgs_cap && (ret = orgs_grow(m)) < 0)
		return ret;
	i = ep_asn_org_slot(m, asn);
	if (m->orgs[i].used && strlen(m->pool + m->orgs[i].org) == len &&
	    memcmp(m->pool + m->orgs[i].org, org, len) == 0) {
		*off = m->orgs[i].org;
		return 0;
	}
	ret = ep_asn_pool_add(m, org, len, off);
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
	struct prefix_vec *pv = ld->country ? (family == 4 ? &ld->cc4 : &ld->cc6)
					    : (family == 4 ? &ld->asn4 : &ld->asn6);

	if (pv->n == pv->cap) {
		size_t c = pv->cap ? pv->cap * 2 : 65536;
		struct prefix *p = realloc(pv->v, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		pv->v = p;
		pv->cap = c;
	}
	pv->v[pv->n].first = first;
	pv->v[pv->n].len = (uint8_t)len;
	pv->v[pv->n].asn = asn;
	pv->v[pv->n].org = org;
	pv->v[pv->n].order = ld->order++;
	pv->n++;
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
		uint32_t v;
		int n = parse_u32(s, &v);

		if (n < 0 || s[n])
			return -1;
		*family = 4;
		*out = v;
		return 0;
	}
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
		return ep_asn_fail(ld, -EINVAL, "unterminated quoted field");
	if (n < 0 || n > 4)
		return ep_asn_fail(ld, -EINVAL, "expected 4 fields (first_ip,last_ip,asn,org), got more");
	if (n < 3)
		return ep_asn_fail(ld, -EINVAL, "expected 4 fields (first_ip,last_ip,asn,org), got %d", n);
	if ((r = parse_addr(f[0], &fa, &a)) < 0)
		return ep_asn_fail(ld, -EINVAL, "bad first address '%s'", f[0]);
	if ((r = parse_addr(f[1], &fb, &b)) < 0)
		return ep_asn_fail(ld, -EINVAL, "bad last address '%s'", f[1]);
	if (fa != fb)
		return ep_asn_fail(ld, -EINVAL, "first and last address are of different families");
	if (b < a)
		return ep_asn_fail(ld, -EINVAL, "last address is below the first");
	r = parse_u32(f[2], &asn);
	if (r < 0 || f[2][r] != '\0')
		return ep_asn_fail(ld, -EINVAL, "bad ASN '%s'", f[2]);
	if (n == 4) /* a name goes out on the wire and into label values: printable UTF-8 */
		ld->m->org_fixed += ep_utf8_sanitize(f[3], strlen(f[3]));
	if (org_intern(ld->m, asn, n == 4 ? f[3] : "", n == 4 ? strlen(f[3]) : 0, &org) < 0)
		return ep_asn_fail(ld, -ENOMEM, "out of memory");
	if (add_range(ld, fa, a, b, asn, org) < 0)
		return ep_asn_fail(ld, -ENOMEM, "out of memory");
	return 0;
}

/* A country file (ip-location-db asn-country / geo-whois-asn-country): first_ip,last_ip,CC. */
static int load_country_line(struct loader *ld, char *line)
{
	char *f[4];
	int n = csv_split(line, f, 4), fa, fb;
	uint16_t cc;
	u128 a, b;

	if (n != 3)
		return ep_asn_fail(ld, -EINVAL, "expected 3 fields (first_ip,last_ip,country)");
	if (parse_addr(f[0], &fa, &a) < 0)
		return ep_asn_fail(ld, -EINVAL, "bad first address '%s'", f[0]);
	if (parse_addr(f[1], &fb, &b) < 0)
		return ep_asn_fail(ld, -EINVAL, "bad last address '%s'", f[1]);
	if (fa != fb)
		return ep_asn_fail(ld, -EINVAL, "first and last address are of different families");
	if (b < a)
		return ep_asn_fail(ld, -EINVAL, "last address is below the first");
	cc = ep_cc_parse(f[2], strlen(f[2]));
	if (cc == EP_CC_NONE)
		return ep_asn_fail(ld, -EINVAL,
				   "'%.16s' is not an ISO 3166-1 alpha-2 country code", f[2]);
	ld->m->cc_seen[cc] = 1;
	if (add_range(ld, fa, a, b, cc, 0) < 0)
		return ep_asn_fail(ld, -ENOMEM, "out of memory");
	return 0;
}

/* A country line: three comma-separated fields, the third two letters. */
static int is_country_line(const char *line)
{
	const char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;

	return c2 && !strchr(c2 + 1, ',') && strlen(c2 + 1) == 2 &&
	       isalpha((unsigned char)c2[1]) && isalpha((unsigned char)c2[2]);
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
		return ep_asn_fail(ld, -EINVAL, "expected 3 tab-separated fields (prefix, length, asn)");
	if (parse_addr(f[0], &fam, &a) < 0 || !strpbrk(f[0], ".:"))
		return ep_asn_fail(ld, -EINVAL, "bad prefix '%s'", f[0]);
	width = fam == 4 ? 32 : 128;
	r = parse_u32(f[1], (uint32_t *)&len);
	if (r < 0 || f[1][r] != '\0' || len > width)
		return ep_asn_fail(ld, -EINVAL, "bad prefix length '%s'", f[1]);
	if (len < width && (a & ((((u128)1) << (width - len)) - 1)))
		return ep_asn_fail(ld, -EINVAL, "prefix %s/%d has host bits set", f[0], len);
	asn_s = f[2][0] == '{' ? f[2] + 1 : f[2];
	r = parse_u32(asn_s, &asn);
	if (r < 0 || (asn_s[r] != '\0' && !strchr("_,}", asn_s[r])))
		return ep_asn_fail(ld, -EINVAL, "bad origin AS '%s'", f[2]);
	if (org_intern(ld->m, asn, "", 0, &org) < 0 || add_prefix(ld, fam, a, len, asn, org) < 0)
		return ep_asn_fail(ld, -ENOMEM, "out of memory");
	return 0;
}

int ep_asn_load_file(struct loader *ld, const char *path)
{
	char line[EP_ASN_LINE_MAX + 2];
	struct stat st;
	FILE *fp = fopen(path, "r");
	size_t len;
	int fmt = 0, ret = 0; /* fmt: 1 csv, 2 pfx2as, 3 country csv */

	ld->file = path;
	ld->line = 0;
	ld->country = 0;
	if (!fp)
		return ep_asn_fail(ld, -errno, "%s", strerror(errno));
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return ep_asn_fail(ld, -EINVAL, "not a regular file");
	}
	while (fgets(line, sizeof(line), fp)) {
		ld->line++;
		len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			ret = ep_asn_fail(ld, -EINVAL, "line longer than %d bytes", EP_ASN_LINE_MAX);
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (ld->line == 1 && (strncmp(line, "first_ip", 8) == 0 ||
				      strncmp(line, "network", 7) == 0))
			continue; /* a header line */
		if (!fmt) {
			fmt = strchr(line, '\t') ? 2 : is_country_line(line) ? 3 : 1;
			ld->country = fmt == 3;
		}
		ret = fmt == 1 ? load_csv_line(ld, line)
		      : fmt == 2 ? load_pfx2as_line(ld, line) : load_country_line(ld, line);
		if (ret < 0)
			break;
		if (fmt == 3)
			ld->m->cc_lines++;
		else
			ld->m->lines++;
	}
	if (!ret && ferror(fp))
		ret = ep_asn_fail(ld, -EIO, "read error");
	fclose(fp);
	return ret;
}

int ep_asn_map_load_args(const char *const *args, int nargs, struct ep_asn_map **out, char *err,
			 size_t errlen)
{
	const char *files[EP_ASN_MAX_ARGS * 4 + 1];
	char *copies[EP_ASN_MAX_ARGS] = {0}, v4[512], v6[512], c4[512], c6[512];
	int n = 0, i, ret, none = 0;

	for (i = 0; i < nargs; i++) {
		char *tok, *save = NULL;

		copies[i] = strdup(args[i]);
		if (!copies[i]) {
			ret = -ENOMEM;
			goto cleanup;
		}
		for (tok = strtok_r(copies[i], ",", &save); tok && n < EP_ASN_MAX_ARGS * 4;
		     tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "none"))
				none = 1;
			else
				files[n++] = tok;
		}
	}
	if (!nargs) {
		const char *dir = getenv("EDGEPROBE_ASN_DIR");

		if (!dir)
			dir = EP_DEFAULT_ASN_DIR;
		snprintf(v4, sizeof(v4), "%s/asn-ipv4.csv", dir);
		snprintf(v6, sizeof(v6), "%s/asn-ipv6.csv", dir);
		if (access(v4, R_OK) != 0) {
			snprintf(err, errlen,
				 "no ASN data in %s: run scripts/setup, or pass --asn-db FILE "
				 "(or --asn-db none)",
				 dir);
			ret = -ENOENT;
			goto cleanup;
		}
		files[n++] = v4;
		if (access(v6, R_OK) == 0)
			files[n++] = v6;
		/* The countries of the same release (scripts/setup), when present. */
		snprintf(c4, sizeof(c4), "%s/asn-country-ipv4.csv", dir);
		snprintf(c6, sizeof(c6), "%s/asn-country-ipv6.csv", dir);
		if (access(c4, R_OK) == 0)
			files[n++] = c4;
		if (access(c6, R_OK) == 0)
			files[n++] = c6;
	}
	files[n] = NULL;
	if (none && n == 0)
		ret = ep_asn_map_empty(out);
	else
		ret = ep_asn_map_load(files, out, err, errlen);
cleanup:
	for (i = 0; i < nargs; i++)
		free(copies[i]);
	return ret;
}
