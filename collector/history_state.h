/* SPDX-License-Identifier: BSD-3-Clause */
/* history_state.h - the history's state: its writer (history.c) and reader (history_read.c). */
#ifndef EP_HISTORY_STATE_H
#define EP_HISTORY_STATE_H

#include <pthread.h>
#include <time.h>

#include "history_int.h"

#define NS_PER_S 1000000000ull
#define OTHERS_EVERY_NS (1 * NS_PER_S)	/* what other collectors hold is looked up this often */
#define OTHERS_MARGIN_NS (5 * NS_PER_S) /* and taken as reaching this far past their newest */
#define OLDEST_EVERY_NS (10 * NS_PER_S) /* a probe's oldest bucket of a step, looked up again */
#define OLDEST_SLOTS 32

struct ep_history {
	const struct ep_history_ops *ops;
	void *be;
	struct ep_history_cfg cfg;
	pthread_t writer;
	int started;
	pthread_mutex_t lock;	   /* the queue, the counters, stop */
	pthread_cond_t wake, done; /* work queued / a transaction ended */
	struct ep_hbatch *head, *tail;
	size_t queue_bytes;
	uint64_t put_seq, written_seq; /* batches queued / finished (written or dropped) */
	uint64_t ctr[EP_HC__COUNT];
	int backend_ok, stop;
	pthread_mutex_t read_lock; /* one reader of the backend at a time, and others[] */
	struct others_seen {	   /* per step: what other collectors of a shared store hold */
		uint64_t step_ns, looked_ns, oldest, newest;
		int none;
	} others[EP_STORE_MAX_TIERS];
	struct oldest_seen { /* per (probe, step, whose): its oldest bucket, for reads */
		char probe[EP_WIRE_PROBE_MAX + 1];
		uint64_t step_ns, looked_ns, oldest;
		enum ep_whose whose;
	} oldest[OLDEST_SLOTS];
	struct ep_hist_codec codec;		   /* the writer's */
	uint64_t newest_start[EP_STORE_MAX_TIERS]; /* per retained step: newest written */
	char err[256];
};

static inline uint64_t ep_history_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

#endif
