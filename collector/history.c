/* SPDX-License-Identifier: BSD-3-Clause */
/* history.c - the history's bounded write queue, its writer thread and retention. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history_int.h"
#include "history_state.h"
#include "log.h"
#include "wallclock.h"

#define EXPIRE_EVERY_NS (60 * NS_PER_S) /* retention runs this often (or at a quarter of --retain) */
#define RETRY_NS (1 * NS_PER_S)          /* a failed write is retried after */
#define TXN_BYTES (64u << 20)            /* queued bytes written in one transaction, at most */

const char *const ep_hc_names[EP_HC__COUNT] = {
#define EP_X(n, h) #n,
	EP_HISTORY_COUNTERS(EP_X)
#undef EP_X
};

const char *const ep_hc_help[EP_HC__COUNT] = {
#define EP_X(n, h) h,
	EP_HISTORY_COUNTERS(EP_X)
#undef EP_X
};

static void free_list(struct ep_hbatch *b)
{
	while (b) {
		struct ep_hbatch *n = b->next;

		free(b);
		b = n;
	}
}

/*
 * Retention runs against the newest bucket written at each step, not the
 * wall clock: a clock that jumps ahead must not empty the store.
 */
static void expire(struct ep_history *h)
{
	uint32_t i;

	for (i = 0; i < h->cfg.nretain; i++) {
		uint64_t newest = h->newest_start[i], keep = h->cfg.retain_ns[i];
		long n;

		if (!keep || newest <= keep)
			continue;
		n = h->ops->expire(h->be, h->cfg.retain_step[i], newest - keep);
		pthread_mutex_lock(&h->lock);
		if (n > 0)
			h->ctr[EP_HC_rows_expired] += (uint64_t)n;
		else if (n < 0)
			h->ctr[EP_HC_write_errors]++;
		pthread_mutex_unlock(&h->lock);
	}
}

static void note_newest(struct ep_history *h, const struct ep_hbatch *list)
{
	const struct ep_hbatch *b;
	uint32_t i;

	for (b = list; b; b = b->next)
		for (i = 0; i < h->cfg.nretain; i++)
			if (b->step_ns == h->cfg.retain_step[i] && b->start_ns > h->newest_start[i])
				h->newest_start[i] = b->start_ns;
}

static uint64_t expire_every(const struct ep_history *h)
{
	uint64_t every = EXPIRE_EVERY_NS;
	uint32_t i;

	for (i = 0; i < h->cfg.nretain; i++)
		if (h->cfg.retain_ns[i] && h->cfg.retain_ns[i] / 4 < every)
			every = h->cfg.retain_ns[i] / 4;
	return every;
}

static void *writer_main(void *arg)
{
	struct ep_history *h = arg;
	uint64_t every = expire_every(h), next_expire = ep_history_now() + every, last_write = 0;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct ep_hbatch *list, *b;
		uint64_t rows = 0, nb = 0, taken;
		char err[256];
		int ret;

		while (!h->head && !h->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(h->cfg.flush_ns / NS_PER_S) + 1;
			pthread_cond_timedwait(&h->wake, &h->lock, &ts);
			if (ep_history_now() >= next_expire)
				break;
		}
		if (!h->head && h->stop)
			break;
		/* A database that wants few, large inserts: gather until its interval has passed. */
		while (h->ops->min_interval_ns && !h->stop &&
		       ep_history_now() < last_write + h->ops->min_interval_ns) {
			uint64_t left = last_write + h->ops->min_interval_ns - ep_history_now();
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			left += (uint64_t)ts.tv_nsec;
			ts.tv_sec += (time_t)(left / NS_PER_S);
			ts.tv_nsec = (long)(left % NS_PER_S);
			pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		}
		/* A bounded transaction (a backlog after an outage goes in several). */
		list = h->head;
		if (list) {
			struct ep_hbatch *last = list;
			size_t bytes = list->bytes;

			while (last->next && bytes + last->next->bytes <= TXN_BYTES) {
				last = last->next;
				bytes += last->bytes;
			}
			h->head = last->next;
			if (!h->head)
				h->tail = NULL;
			last->next = NULL;
			taken = last->seq;
		} else {
			taken = h->written_seq;
		}
		pthread_mutex_unlock(&h->lock);

		ret = list ? h->ops->write(h->be, list, &h->codec, &rows, err, sizeof(err)) : 0;
		if (list)
			last_write = ep_history_now();
		for (b = list; b; b = b->next)
			nb += b->org ? 0 : 1;
		if (list && ret == 0)
			note_newest(h, list);
		if (ep_history_now() >= next_expire) {
			expire(h);
			next_expire = ep_history_now() + every;
		}

		pthread_mutex_lock(&h->lock);
		if (ret == 0) {
			size_t freed = 0;

			for (b = list; b; b = b->next)
				freed += b->bytes;
			h->queue_bytes -= freed;
			h->ctr[EP_HC_buckets_written] += nb;
			h->ctr[EP_HC_rows_written] += rows;
			if (!h->backend_ok && list)
				ep_log_info("history: writing to %s again", h->cfg.path);
			h->backend_ok = 1;
			h->written_seq = taken;
			free_list(list);
		} else {
			/* Keep the batches, in order, in front of what came meanwhile; retry. */
			struct ep_hbatch *last = list;

			list->dup = 1; /* part of a failed write may be stored */
			while (last->next) {
				last = last->next;
				last->dup = 1;
			}
			last->next = h->head;
			if (!h->head)
				h->tail = last;
			h->head = list;
			h->ctr[EP_HC_write_errors]++;
			if (h->backend_ok)
				ep_log_warn("history: %s: %s (retrying; %zu bytes queued)", h->cfg.path,
					    err, h->queue_bytes);
			h->backend_ok = 0;
			if (h->stop)
				break; /* closing: what could not be written stays counted as queued */
			/* The full pause, whatever is queued meanwhile: a down database is asked once a second. */
			{
				uint64_t until = ep_history_now() + RETRY_NS;
				struct timespec ts;

				while (!h->stop && ep_history_now() < until) {
					clock_gettime(CLOCK_REALTIME, &ts);
					ts.tv_sec += (time_t)(RETRY_NS / NS_PER_S);
					pthread_cond_timedwait(&h->wake, &h->lock, &ts);
				}
			}
		}
		pthread_cond_broadcast(&h->done);
	}
	pthread_cond_broadcast(&h->done);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int ep_history_open(struct ep_history **out, const struct ep_history_cfg *cfg,
		    const struct ep_hdr_cfg *hcfg, char *err, size_t errlen)
{
	struct ep_history *h = calloc(1, sizeof(*h));
	uint32_t i;
	int ret;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->cfg = *cfg;
	h->ops = strncmp(cfg->path, "clickhouse://", 13) ? &ep_history_sqlite : &ep_history_clickhouse;
	ret = h->ops->open(&h->be, cfg, hcfg, err, errlen);
	if (ret < 0) {
		free(h);
		return ret;
	}
	h->backend_ok = 1;
	pthread_mutex_init(&h->lock, NULL);
	/* Retention at start too, before anything expired is read back. */
	for (i = 0; i < cfg->nretain; i++) {
		uint64_t oldest, newest;

		if (h->ops->bounds(h->be, EP_HISTORY_ALL, cfg->retain_step[i], EP_WHOSE_OWN, &oldest,
				   &newest) == 0)
			h->newest_start[i] = newest;
	}
	expire(h);
	pthread_mutex_init(&h->read_lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	pthread_cond_init(&h->done, NULL);
	if (pthread_create(&h->writer, NULL, writer_main, h) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		h->ops->close(h->be);
		free(h);
		return -EAGAIN;
	}
	h->started = 1;
	*out = h;
	return 0;
}

const char *ep_history_backend(const struct ep_history *h)
{
	return h->ops->name;
}

void ep_history_close(struct ep_history *h)
{
	if (!h)
		return;
	ep_history_sync(h, 10 * NS_PER_S);
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->wake);
	pthread_mutex_unlock(&h->lock);
	if (h->started)
		pthread_join(h->writer, NULL);
	free_list(h->head);
	h->ops->close(h->be);
	ep_hist_codec_fini(&h->codec);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->read_lock);
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->done);
	free(h);
}

/* Append q to the queue (the bound checked by the caller). */
static void enqueue(struct ep_history *h, struct ep_hbatch *q)
{
	pthread_mutex_lock(&h->lock);
	if (h->tail)
		h->tail->next = q;
	else
		h->head = q;
	h->tail = q;
	h->queue_bytes += q->bytes;
	q->seq = ++h->put_seq;
	h->ctr[EP_HC_buckets_queued] += q->org ? 0 : 1;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

/* Room for bytes more on the queue? Counted as a dropped batch when not. */
static int room(struct ep_history *h, size_t bytes)
{
	int ok;

	pthread_mutex_lock(&h->lock);
	ok = h->queue_bytes + bytes <= h->cfg.queue_max;
	if (!ok)
		h->ctr[EP_HC_buckets_dropped]++;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

void ep_history_put_org(struct ep_history *h, uint32_t asn, const char *org, uint64_t now_ns)
{
	size_t len = strlen(org), bytes = sizeof(struct ep_hbatch) + len + 1;
	struct ep_hbatch *q;

	if (!room(h, bytes) || !(q = calloc(1, bytes)))
		return;
	memcpy(q + 1, org, len + 1);
	q->org = (const char *)(q + 1);
	q->org_asn = asn;
	q->queued_ns = now_ns;
	q->bytes = bytes;
	enqueue(h, q);
}

long ep_history_orgs(struct ep_history *h, void (*cb)(uint32_t asn, const char *org, void *ctx),
		     void *ctx)
{
	long n;

	pthread_mutex_lock(&h->read_lock);
	n = h->ops->orgs(h->be, cb, ctx);
	pthread_mutex_unlock(&h->read_lock);
	return n;
}

void ep_history_put(struct ep_history *h, const char *probe, const struct ep_bucket *b,
		    uint64_t step_ns, uint64_t now_ns)
{
	const struct ep_cset *s = &b->set;
	struct ep_hbatch *q;
	size_t nbins = 0, bytes;
	uint32_t i, k, off = 0;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			nbins += s->e[i].h[k].n;
	bytes = sizeof(*q) + (size_t)s->n * sizeof(*q->rows) + nbins * sizeof(*q->bins);
	if (!room(h, bytes))
		return;
	q = malloc(bytes);
	if (!q) {
		pthread_mutex_lock(&h->lock);
		h->ctr[EP_HC_buckets_dropped]++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	memset(q, 0, sizeof(*q));
	snprintf(q->probe, sizeof(q->probe), "%s", probe);
	q->step_ns = step_ns;
	q->start_ns = b->start;
	q->windows = b->windows;
	q->newest_end_ns = b->newest_end;
	q->dup = b->handed > 0;
	q->queued_ns = now_ns;
	q->bytes = bytes;
	q->n = s->n;
	q->rows = (struct ep_hrow *)(q + 1);
	q->bins = (struct ep_hbin *)(q->rows + s->n);
	for (i = 0; i < s->n; i++) {
		const struct ep_centry *e = &s->e[i];
		struct ep_hrow *r = &q->rows[i];

		r->asn = e->asn;
		r->cc = e->cc;
		memcpy(r->c, e->c, sizeof(r->c));
		for (k = 0; k < EP_AH__COUNT; k++) {
			r->off[k] = off;
			r->nb[k] = e->h[k].n;
			if (e->h[k].n)
				memcpy(q->bins + off, e->h[k].b, e->h[k].n * sizeof(*q->bins));
			off += e->h[k].n;
		}
	}
	enqueue(h, q);
}

int ep_history_sync(struct ep_history *h, uint64_t timeout_ns)
{
	uint64_t want, deadline = ep_history_now() + timeout_ns;
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	want = h->put_seq;
	pthread_cond_signal(&h->wake);
	while (h->written_seq < want && !h->stop) {
		struct timespec ts;

		if (ep_history_now() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&h->done, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void ep_history_stats(struct ep_history *h, struct ep_history_stats *s, uint64_t now_ns)
{
	pthread_mutex_lock(&h->lock);
	memcpy(s->ctr, h->ctr, sizeof(s->ctr));
	s->queue_bytes = h->queue_bytes;
	s->lag_ns = h->head && now_ns > h->head->queued_ns ? now_ns - h->head->queued_ns : 0;
	s->backend_ok = h->backend_ok;
	pthread_mutex_unlock(&h->lock);
}

/* "90d", "1h", "30m", "45s", "100ms" as ns. @return 0 or -EINVAL */
static int parse_span(const char *s, size_t len, uint64_t *out)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{"ms", 1000000ull}, {"s", NS_PER_S}, {"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S},
		{"d", 86400 * NS_PER_S},
	};
	uint64_t v = 0;
	size_t i, n;

	for (n = 0; n < len && n < 7 && s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	if (!n || !v)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (len - n == strlen(units[i].unit) && !memcmp(s + n, units[i].unit, len - n) &&
		    v <= 3650ull * 86400 * NS_PER_S / units[i].ns) {
			*out = v * units[i].ns;
			return 0;
		}
	return -EINVAL;
}

int ep_history_parse_retain(struct ep_history_cfg *cfg, const char *spec)
{
	const char *p = spec;

	cfg->nretain = 0;
	while (*p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		uint64_t step, keep;

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end || cfg->nretain >= EP_STORE_MAX_TIERS ||
		    parse_span(p, (size_t)(eq - p), &step) < 0 ||
		    parse_span(eq + 1, (size_t)(end - eq - 1), &keep) < 0 || keep < step)
			return -EINVAL; /* a span shorter than its step keeps nothing */
		cfg->retain_step[cfg->nretain] = step;
		cfg->retain_ns[cfg->nretain++] = keep;
		p = *end ? end + 1 : end;
	}
	return cfg->nretain ? 0 : -EINVAL;
}
