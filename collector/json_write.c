/* SPDX-License-Identifier: BSD-3-Clause */
/* json_write.c - a JSON text written piece by piece, each piece a jansson value dumped at once. */
#include <stdlib.h>
#include <string.h>

#include "json_val.h"
#include "json_write.h"

static int put(const char *s, size_t n, void *arg)
{
	struct ep_jw *w = arg;

	if (w->err)
		return -1;
	if (n > w->cap - w->n) {
		size_t cap = w->cap ? w->cap : 4096;
		char *p;

		while (cap - w->n < n + 2) /* room for a newline and the NUL at the end */
			cap *= 2;
		p = realloc(w->p, cap);
		if (!p) {
			w->err = 1;
			return -1;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
	return 0;
}

/* v dumped into the text, then freed. */
static void value(struct ep_jw *w, json_t *v)
{
	if (!v || json_dump_callback(v, put, w, EP_JV_FLAGS | JSON_ENCODE_ANY) < 0)
		w->err = 1;
	json_decref(v);
}

void ep_jw_value(struct ep_jw *w, json_t *v)
{
	value(w, v);
}

static void key(struct ep_jw *w, const char *k)
{
	if (w->comma)
		put(",", 1, w);
	value(w, json_string(k));
	put(":", 1, w);
}

void ep_jw_open(struct ep_jw *w, json_t *head)
{
	size_t at = w->n;

	if (w->comma)
		put(",", 1, w);
	w->comma = json_object_size(head) > 0; /* 0 for NULL, which value() finds an error */
	value(w, head);
	if (!w->err && w->n > at && w->p[w->n - 1] == '}')
		w->n--; /* left open for the members that follow */
	else
		w->err = 1;
}

void ep_jw_member(struct ep_jw *w, const char *k, json_t *v)
{
	key(w, k);
	value(w, v);
	w->comma = 1;
}

void ep_jw_list(struct ep_jw *w, const char *k)
{
	key(w, k);
	put("[", 1, w);
	w->comma = 0;
}

void ep_jw_elem(struct ep_jw *w, json_t *v)
{
	if (w->comma)
		put(",", 1, w);
	value(w, v);
	w->comma = 1;
}

void ep_jw_close(struct ep_jw *w, char c)
{
	put(&c, 1, w);
	w->comma = 1;
}

char *ep_jw_finish(struct ep_jw *w, int nl, size_t *len)
{
	char *p = w->p;

	if (nl)
		put("\n", 1, w);
	put("", 1, w); /* the NUL, not counted */
	if (w->err) {
		free(p);
		p = NULL;
		*len = 0;
	} else {
		*len = w->n - 1;
	}
	memset(w, 0, sizeof(*w));
	return p;
}
