/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_write.h - a JSON text written piece by piece with jansson: an object's
 * members and a list's elements are jansson values, each dumped and freed as
 * soon as it is written.  A list of 10,000 ASN entries built as one tree costs
 * ~840,000 allocations and tens of MB that the allocator takes from the kernel
 * and gives back on every request (7x the time of the list's own sums,
 * measured); written this way, the same few KB are reused for every entry.
 */
#ifndef EP_JSON_WRITE_H
#define EP_JSON_WRITE_H

#include <jansson.h>
#include <stddef.h>

struct ep_jw {
	char *p;
	size_t n, cap;
	int err;   /* a value was NULL or memory ran out: the text is not whole */
	int comma; /* the next member or element follows another */
};

/* A whole value (v is taken; NULL: an error). */
void ep_jw_value(struct ep_jw *w, json_t *v);
/* Open an object with head's members, in their order (head is taken; NULL: an error). */
void ep_jw_open(struct ep_jw *w, json_t *head);
/* In the open object: "key": v (v is taken). */
void ep_jw_member(struct ep_jw *w, const char *key, json_t *v);
/* In the open object: "key":[ ... the list's elements follow. */
void ep_jw_list(struct ep_jw *w, const char *key);
/* The next element of the open list (v is taken). */
void ep_jw_elem(struct ep_jw *w, json_t *v);
/* Close the open list (']') or object ('}'). */
void ep_jw_close(struct ep_jw *w, char c);
/*
 * The text, with a newline when nl, NUL-terminated, for the caller to free; NULL
 * (everything freed) when a piece failed. @param len its length without the NUL
 */
char *ep_jw_finish(struct ep_jw *w, int nl, size_t *len);

#endif
