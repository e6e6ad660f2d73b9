/* SPDX-License-Identifier: BSD-3-Clause */
/* cmcd.c - CTA-5004 CMCD reports: the key-value text, typed and range-checked. */
#include "cmcd.h"

#include <stdio.h>
#include <string.h>

const char *const ep_cmcd_err_names[EP_CMCD_E__COUNT] = {
	"ok",
#define EP_X(n, t) #n,
	EP_CMCD_ERRORS(EP_X)
#undef EP_X
};

const char *const ep_cmcd_key_names[EP_CMCD__KEYS] = {
#define EP_X(k, n, t, m) n,
	EP_CMCD_KEYS(EP_X)
#undef EP_X
};

static const uint8_t key_type[EP_CMCD__KEYS] = {
#define EP_X(k, n, t, m) t,
	EP_CMCD_KEYS(EP_X)
#undef EP_X
};

static const int64_t key_max[EP_CMCD__KEYS] = {
#define EP_X(k, n, t, m) m,
	EP_CMCD_KEYS(EP_X)
#undef EP_X
};

const char *const ep_cmcd_tokens[EP_CMCD__KEYS] = {
	[EP_CMCD_E] = "ps e t c b m um pe pc rr",
	[EP_CMCD_OT] = "m a v av i c tt k o",
	[EP_CMCD_SF] = "d h s o e ld l3 lh",
	[EP_CMCD_ST] = "v l",
	[EP_CMCD_STA] = "s p k r a w e f q d",
};

_Static_assert(EP_CMCD__KEYS <= 64, "one bit per key in ep_cmcd.have");

#define KEY_MAX_LEN 64

void ep_cmcd_init(struct ep_cmcd *r)
{
	memset(r, 0, sizeof(*r));
}

static enum ep_cmcd_err fail(enum ep_cmcd_err e, char *detail, size_t dlen, const char *what,
			     const char *key, size_t klen)
{
	char shown[33];
	size_t i, n = klen > 32 ? 32 : klen;

	for (i = 0; i < n; i++) /* the detail goes into responses and logs: printable only */
		shown[i] = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '\'' ? key[i] : '?';
	shown[n] = '\0';
	if (detail && dlen)
		snprintf(detail, dlen, "%s '%s'", what, shown);
	return e;
}

/* The names are in strcmp order (test_cmcd checks): a binary search. */
static int key_find(const char *key, size_t klen)
{
	int lo = 0, hi = EP_CMCD__KEYS - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const char *n = ep_cmcd_key_names[mid];
		size_t nl = strlen(n);
		int c = memcmp(key, n, klen < nl ? klen : nl);

		if (!c)
			c = klen < nl ? -1 : klen > nl;
		if (!c)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Index of s in a space-separated token list, -1 when absent. */
static int token_index(const char *list, const char *s, size_t slen)
{
	int i = 0;

	while (*list) {
		size_t n = strcspn(list, " ");

		if (n == slen && !memcmp(list, s, n))
			return i;
		list += n;
		list += *list == ' ';
		i++;
	}
	return -1;
}

static int is_custom(const char *key, size_t klen)
{
	return memchr(key, '-', klen) != NULL;
}

enum ep_cmcd_err ep_cmcd_set(struct ep_cmcd *r, const char *key, size_t klen,
			     enum ep_cmcd_type t, int64_t iv, const char *s, size_t slen,
			     char *detail, size_t dlen)
{
	int k;
	enum ep_cmcd_type want;

	if (++r->nkeys > EP_CMCD_MAX_KEYS)
		return fail(EP_CMCD_E_too_long, detail, dlen, "too many keys at", key, klen);
	k = key_find(key, klen);
	if (k < 0) {
		if (klen && is_custom(key, klen))
			return EP_CMCD_OK;
		return fail(EP_CMCD_E_unknown_key, detail, dlen, "unknown key", key, klen);
	}
	if (ep_cmcd_has(r, k))
		return fail(EP_CMCD_E_repeated_key, detail, dlen, "repeated key", key, klen);
	want = key_type[k];
	if (want == EP_CMCD_LIST && t == EP_CMCD_STR)
		t = EP_CMCD_LIST; /* v1's single string where v2 has a list */
	if (t != want)
		return fail(EP_CMCD_E_bad_type, detail, dlen, "wrong type for", key, klen);
	switch (t) {
	case EP_CMCD_INT:
	case EP_CMCD_DEC:
	case EP_CMCD_BOOL:
		if (iv < 0 || iv > key_max[k])
			return fail(EP_CMCD_E_out_of_range, detail, dlen, "out of range:", key,
				    klen);
		r->v[k] = iv;
		break;
	case EP_CMCD_STR:
	case EP_CMCD_LIST:
		if (slen > (size_t)key_max[k])
			return fail(EP_CMCD_E_too_long, detail, dlen, "string too long:", key,
				    klen);
		if (k == EP_CMCD_SID) {
			if (!slen)
				return fail(EP_CMCD_E_out_of_range, detail, dlen, "empty", key,
					    klen);
			memcpy(r->sid, s, slen);
			r->sid[slen] = '\0';
		}
		break;
	case EP_CMCD_TOKEN:
		r->v[k] = token_index(ep_cmcd_tokens[k], s, slen);
		if (r->v[k] < 0)
			return fail(EP_CMCD_E_out_of_range, detail, dlen,
				    "undefined token for", key, klen);
		break;
	}
	r->have |= 1ull << k;
	return EP_CMCD_OK;
}

static int lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

static int tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) ||
	       (c && strchr("!#$%&'*+-.^_`|~:/", c));
}

/* A structured-field value at *p; the typed result in t, iv, or s/slen. */
struct val {
	enum ep_cmcd_type t;
	int64_t iv;
	const char *s;
	size_t slen;
};

static int parse_number(const char **p, const char *end, struct val *v)
{
	const char *q = *p;
	int64_t n = 0;
	int digits = 0, frac = 0;

	if (q < end && *q == '-')
		return -1; /* no key takes a negative value: out of range, not syntax */
	while (q < end && digit(*q)) {
		if (++digits > 15)
			return -2;
		n = n * 10 + (*q++ - '0');
	}
	if (!digits)
		return -2;
	v->t = EP_CMCD_INT;
	if (q < end && *q == '.') {
		if (digits > 12)
			return -2;
		q++;
		while (q < end && digit(*q)) {
			if (++frac > 3)
				return -2;
			n = n * 10 + (*q++ - '0');
		}
		if (!frac)
			return -2;
		while (frac++ < 3)
			n *= 10;
		v->t = EP_CMCD_DEC;
	}
	v->iv = n;
	*p = q;
	return 0;
}

static int parse_string(const char **p, const char *end, struct val *v)
{
	const char *q = *p + 1;

	v->s = q;
	while (q < end && *q != '"') {
		if (*q == '\\') {
			if (q + 1 >= end || (q[1] != '"' && q[1] != '\\'))
				return -2;
			q++;
		} else if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e) {
			return -2;
		}
		q++;
	}
	if (q >= end)
		return -2;
	v->slen = (size_t)(q - v->s);
	v->t = EP_CMCD_STR;
	*p = q + 1;
	return 0;
}

static int parse_token(const char **p, const char *end, struct val *v)
{
	const char *q = *p;

	v->s = q;
	while (q < end && tchar(*q))
		q++;
	v->slen = (size_t)(q - v->s);
	v->t = EP_CMCD_TOKEN;
	*p = q;
	return 0;
}

/* "(" item *( SP item ) ")": strings or tokens, not kept. */
static int parse_list(const char **p, const char *end, struct val *v)
{
	const char *q = *p + 1, *start = q;

	for (;;) {
		struct val item;

		while (q < end && *q == ' ')
			q++;
		if (q >= end)
			return -2;
		if (*q == ')')
			break;
		if (*q == '"') {
			if (parse_string(&q, end, &item))
				return -2;
		} else if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '*') {
			parse_token(&q, end, &item);
		} else {
			return -2;
		}
		if (q < end && *q != ' ' && *q != ')')
			return -2;
	}
	v->t = EP_CMCD_LIST;
	v->s = start;
	v->slen = (size_t)(q - start);
	*p = q + 1;
	return 0;
}

static int parse_value(const char **p, const char *end, struct val *v)
{
	char c = **p;

	if (c == '"')
		return parse_string(p, end, v);
	if (c == '?') {
		if (*p + 1 >= end || ((*p)[1] != '0' && (*p)[1] != '1'))
			return -2;
		v->t = EP_CMCD_BOOL;
		v->iv = (*p)[1] == '1';
		*p += 2;
		return 0;
	}
	if (c == '(')
		return parse_list(p, end, v);
	if (digit(c) || c == '-')
		return parse_number(p, end, v);
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*')
		return parse_token(p, end, v);
	return -2;
}

enum ep_cmcd_err ep_cmcd_parse(struct ep_cmcd *r, const char *s, size_t len, char *detail,
			       size_t dlen)
{
	const char *p = s, *end = s + len;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return EP_CMCD_OK; /* an empty list: nothing to add */
	for (;;) {
		const char *key = p;
		size_t klen;
		struct val v = { .t = EP_CMCD_BOOL, .iv = 1 };
		enum ep_cmcd_err e;

		if (!lcalpha(*p) && *p != '*')
			return fail(EP_CMCD_E_syntax, detail, dlen, "a key expected at", p,
				    (size_t)(end - p));
		while (p < end && (lcalpha(*p) || digit(*p) || *p == '_' || *p == '-' ||
				   *p == '.' || *p == '*'))
			p++;
		klen = (size_t)(p - key);
		if (klen > KEY_MAX_LEN)
			return fail(EP_CMCD_E_too_long, detail, dlen, "key too long:", key, klen);
		if (p < end && *p == '=') {
			int rc;

			p++;
			rc = p < end ? parse_value(&p, end, &v) : -2;
			if (rc == -1)
				return fail(EP_CMCD_E_out_of_range, detail, dlen, "negative", key,
					    klen);
			if (rc)
				return fail(EP_CMCD_E_syntax, detail, dlen, "bad value of", key,
					    klen);
		}
		e = ep_cmcd_set(r, key, klen, v.t, v.iv, v.s, v.slen, detail, dlen);
		if (e)
			return e;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return EP_CMCD_OK;
		if (*p != ',')
			return fail(EP_CMCD_E_syntax, detail, dlen, "',' expected after", key,
				    klen);
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return fail(EP_CMCD_E_syntax, detail, dlen, "a key expected after", key,
				    klen);
	}
}

int ep_cmcd_key_find(const char *key, size_t klen)
{
	return key_find(key, klen);
}

enum ep_cmcd_type ep_cmcd_key_type(enum ep_cmcd_key k)
{
	return (enum ep_cmcd_type)key_type[k];
}
