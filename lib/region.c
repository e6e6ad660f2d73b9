/* SPDX-License-Identifier: BSD-3-Clause */
/* region.c - the region file: countries grouped into named regions (region.h). */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini_text.h"
#include "region.h"

struct rparse {
	const char *path;
	struct ep_ini_text in;
	struct ep_regions *out;
	unsigned cur_sect;         /* the header the current region started at */
	unsigned cur;              /* its id */
	unsigned line_of[EP_CC_MAX + 1]; /* where each country was placed */
	unsigned sect_line[EP_REGION_MAX + 1];
	unsigned ncc[EP_REGION_MAX + 1];
	char *err;
	size_t errlen;
	int failed;
};

static int failf(struct rparse *p, unsigned line, const char *fmt, const char *a, const char *b)
{
	char msg[200];

	if (!p->failed) {
		snprintf(msg, sizeof(msg), fmt, a, b);
		snprintf(p->err, p->errlen, "%s:%u: %s", p->path, line, msg);
	}
	p->failed = 1;
	return 0;
}

static int open_region(struct rparse *p, const char *section)
{
	struct ep_regions *r = p->out;
	size_t len = strlen(section);
	const unsigned char *c;

	/* inih cuts a longer header at 49 bytes: a name that long may have been cut. */
	if (!len || len > EP_REGION_NAME_MAX)
		return failf(p, p->in.sect_line, "region name '%.80s...' is empty or longer than "
				 "48 bytes%s", section, "");
	for (c = (const unsigned char *)section; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\')
			return failf(p, p->in.sect_line, "region name '%.80s': control characters, "
					 "quotes and backslashes are not allowed%s", section, "");
	if (ep_region_find(r, section))
		return failf(p, p->in.sect_line, "region '%s' is defined twice%s", section, "");
	if (r->n == EP_REGION_MAX)
		return failf(p, p->in.sect_line, "more than 256 regions%s%s", "", "");
	r->n++;
	memcpy(r->name[r->n], section, len + 1);
	p->sect_line[r->n] = p->in.sect_line;
	p->cur = r->n;
	p->cur_sect = p->in.nsect;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct rparse *p = user;
	struct ep_regions *r = p->out;
	char buf[8];
	const char *s = value;

	if (p->failed)
		return 0;
	if (!section[0])
		return failf(p, p->in.line, "'%s' outside a [region] section%s", name, "");
	if (p->cur_sect != p->in.nsect && !open_region(p, section))
		return 0;
	if (strcmp(name, "countries") != 0)
		return failf(p, p->in.line, "unknown key '%s' (countries)%s", name, "");
	while (*s) {
		size_t n = strcspn(s, " \t,");
		uint16_t cc;

		if (!n) {
			s++;
			continue;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < 7 ? n : 7), s);
		cc = ep_cc_parse(s, n);
		if (cc == EP_CC_NONE)
			return failf(p, p->in.line, "'%s' is not an ISO 3166-1 alpha-2 country "
				     "code%s", buf, "");
		if (r->of[cc] && r->of[cc] != p->cur) {
			char where[96];

			snprintf(where, sizeof(where), "'%s' (line %u)", r->name[r->of[cc]],
				 p->line_of[cc]);
			return failf(p, p->in.line, "%s is already in region %s", buf, where);
		}
		if (!r->of[cc]) {
			r->of[cc] = (uint8_t)p->cur;
			p->line_of[cc] = p->in.line;
			r->countries++;
			p->ncc[p->cur]++;
		}
		s += n;
	}
	return 1;
}

/* The first [header] whose region was never opened (it had no keys), named with its line. */
static void empty_section(struct rparse *p, const char *text)
{
	const char *l = text;
	unsigned line = 1;

	for (; *l; line++) {
		const char *end = strchr(l, '\n'), *s = l, *close;
		char name[EP_REGION_NAME_MAX + 2];

		while (*s == ' ' || *s == '\t')
			s++;
		close = *s == '[' ? strchr(s, ']') : NULL;
		if (close && (!end || close < end) && (size_t)(close - s - 1) < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)(close - s - 1), s + 1);
			if (!ep_region_find(p->out, name)) {
				failf(p, line, "region '%s' has no countries%s", name, "");
				return;
			}
		}
		if (!end)
			break;
		l = end + 1;
	}
	failf(p, p->in.sect_line, "a region has no countries%s%s", "", "");
}

unsigned ep_region_find(const struct ep_regions *r, const char *name)
{
	unsigned i;

	for (i = 1; i <= r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return i;
	return EP_REGION_NONE;
}

int ep_regions_parse(const char *text, const char *path, struct ep_regions *out, char *err,
		     size_t errlen)
{
	struct rparse *p = calloc(1, sizeof(*p));
	unsigned i;
	int ret;

	if (!p) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	memset(out, 0, sizeof(*out));
	p->path = path;
	p->in.text = text;
	p->out = out;
	p->err = err;
	p->errlen = errlen;
	ret = ini_parse_stream(ep_ini_read_line, &p->in, handler, p);
	if (!p->failed && ret > 0)
		failf(p, (unsigned)ret, "not an INI line (a [region] header or countries = ...)%s%s",
		      "", "");
	/* A section with no keys never reaches the handler: find its header. */
	if (!p->failed && p->in.nsect != out->n)
		empty_section(p, text);
	for (i = 1; !p->failed && i <= out->n; i++)
		if (!p->ncc[i])
			failf(p, p->sect_line[i], "region '%s' has no countries%s", out->name[i], "");
	ret = p->failed ? -EINVAL : 0;
	if (ret)
		memset(out, 0, sizeof(*out));
	free(p);
	return ret;
}

int ep_regions_load(const char *path, struct ep_regions *out, char *err, size_t errlen)
{
	char *text;
	int ret = ep_ini_read_file(path, EP_REGION_FILE_MAX, &text, err, errlen);

	if (ret < 0)
		return ret;
	ret = ep_regions_parse(text, path, out, err, errlen);
	free(text);
	return ret;
}
