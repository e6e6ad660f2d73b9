/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_table.c - the flow table on its own: hash chains sharing their
 * heads with the records (insert, find, remove from the middle of a chain,
 * reuse of a record that heads another chain), the full pool, the ASN slot
 * kept beside the key, list order, and the 15-bit queue tick across its wrap.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "flow_table.h"

static struct ep_flow_key key_of(uint32_t n)
{
	struct ep_pkt p;
	struct ep_flow_key k;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	p.src[0] = 198, p.src[1] = 51, p.src[2] = (uint8_t)(n >> 8), p.src[3] = (uint8_t)n;
	p.dst[0] = 192, p.dst[2] = 2, p.dst[3] = 1;
	p.sport = (uint16_t)(1024 + (n >> 16));
	p.dport = 443;
	ep_flow_key_make(&p, &k);
	return k;
}

static struct ep_flow *find(struct ep_flow_table *t, uint32_t n)
{
	struct ep_flow_key k = key_of(n);

	return ep_flow_lookup(t, &k, ep_flow_key_hash(&k));
}

static struct ep_flow *add(struct ep_flow_table *t, uint32_t n, uint32_t now_ms, int *err)
{
	struct ep_flow_key k = key_of(n);

	return ep_flow_insert(t, &k, ep_flow_key_hash(&k), EP_LRU_SHORT, now_ms, err);
}

/* Fill, remove every other flow (many from the middle of chains), refill with new keys. */
static void test_chains(void)
{
	enum { CAP = 1000 };
	struct ep_flow_table *t;
	uint32_t i, found = 0, gone = 0;
	int err;

	CHECK_EQ(sizeof(struct ep_flow), 128);
	CHECK_EQ(ep_flow_table_new(CAP, &t), 0);
	CHECK_EQ(ep_flow_table_bytes(t), (size_t)CAP * 128);
	for (i = 0; i < CAP; i++) {
		struct ep_flow *f = add(t, i, 1000, &err);

		CHECK(f != NULL);
		if (f)
			ep_flow_set_agg(f, i * 16411u & EP_FLOW_MAX_AGG);
	}
	CHECK(add(t, CAP, 1000, &err) == NULL && err == -ENOSPC);
	CHECK_EQ(ep_flow_table_count(t), CAP);
	for (i = 0; i < CAP; i++) {
		struct ep_flow *f = find(t, i);

		found += f && ep_flow_agg(f) == (i * 16411u & EP_FLOW_MAX_AGG) && f->key.family == 4;
	}
	CHECK_EQ(found, CAP); /* the slot beside the key neither hides nor alters it */
	for (i = 0; i < CAP; i += 2)
		ep_flow_remove(t, find(t, i));
	CHECK_EQ(ep_flow_table_count(t), CAP / 2);
	for (i = 0, found = 0; i < CAP; i++) {
		if (i % 2)
			found += find(t, i) != NULL;
		else
			gone += find(t, i) == NULL;
	}
	CHECK_EQ(found, CAP / 2);
	CHECK_EQ(gone, CAP / 2);
	/* Reused records head other chains: refilling must not lose any flow. */
	for (i = 0; i < CAP / 2; i++)
		CHECK(add(t, 100000 + i, 2000, &err) != NULL);
	for (i = 0, found = 0; i < CAP / 2; i++)
		found += find(t, 100000 + i) != NULL && find(t, 2 * i + 1) != NULL;
	CHECK_EQ(found, CAP / 2);
	ep_flow_table_free(t);
}

/* List order: requeued after about a second, also across the queue tick's wrap. */
static void test_lists(void)
{
	struct ep_flow_table *t;
	struct ep_flow *a, *b;
	uint32_t wrap = (EP_FLOW_TICK_MASK + 1) << EP_FLOW_TICK_SHIFT; /* 35 min */
	int err;

	CHECK_EQ(ep_flow_table_new(8, &t), 0);
	a = add(t, 1, 0, &err);
	b = add(t, 2, 10, &err);
	CHECK(ep_flow_victim(t, EP_LRU_SHORT) == a);
	ep_flow_touch(t, a, EP_LRU_SHORT, 500); /* too soon to move */
	CHECK(ep_flow_victim(t, EP_LRU_SHORT) == a);
	ep_flow_touch(t, a, EP_LRU_SHORT, 1100); /* moved: b is the oldest */
	CHECK(ep_flow_victim(t, EP_LRU_SHORT) == b);
	CHECK(ep_flow_expired(t, EP_LRU_SHORT, 5000, 10000) == NULL);
	CHECK(ep_flow_expired(t, EP_LRU_SHORT, 10010, 10000) == b);
	ep_flow_remove(t, b);
	ep_flow_touch(t, a, EP_LRU_LONG, 1200); /* established: the other list */
	CHECK(ep_flow_victim(t, EP_LRU_SHORT) == NULL && ep_flow_victim(t, EP_LRU_LONG) == a);
	/*
	 * b is queued; a comes back exactly one tick wrap after its queue time (the
	 * 15-bit tick alone would say "just queued"): it still goes to the head, so
	 * that expiry finds the idle b at the tail rather than the active a.
	 */
	b = add(t, 3, 1300, &err);
	ep_flow_touch(t, b, EP_LRU_LONG, 1300);
	CHECK(ep_flow_victim(t, EP_LRU_LONG) == a);
	ep_flow_touch(t, a, EP_LRU_LONG, 1200 + wrap);
	CHECK(ep_flow_victim(t, EP_LRU_LONG) == b);
	CHECK(ep_flow_expired(t, EP_LRU_LONG, 2200 + wrap, 300000) == b);
	ep_flow_table_free(t);
}

int main(void)
{
	test_chains();
	test_lists();
	CHECK_DONE();
}
