/* SPDX-License-Identifier: BSD-3-Clause */
/* backlog.c - messages held while the collector's lock is taken by a reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"

#define HDR (sizeof(uint64_t) + sizeof(uint32_t))

int ep_backlog_init(struct ep_backlog *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = malloc(cap);
	if (!b->buf)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

void ep_backlog_fini(struct ep_backlog *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

int ep_backlog_put(struct ep_backlog *b, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	uint32_t l = (uint32_t)len;

	if (len > UINT32_MAX || b->cap - b->len < HDR + len)
		return -ENOSPC;
	memcpy(b->buf + b->len, &now_ns, sizeof(now_ns));
	memcpy(b->buf + b->len + sizeof(now_ns), &l, sizeof(l));
	memcpy(b->buf + b->len + HDR, msg, len);
	b->len += HDR + len;
	b->n++;
	return 0;
}

void ep_backlog_drain(struct ep_backlog *b, ep_backlog_cb cb, void *ctx)
{
	size_t off = 0;

	while (off < b->len) {
		uint64_t now;
		uint32_t l;

		memcpy(&now, b->buf + off, sizeof(now));
		memcpy(&l, b->buf + off + sizeof(now), sizeof(l));
		cb(b->buf + off + HDR, l, now, ctx);
		off += HDR + l;
	}
	b->len = 0;
	b->n = 0;
}
