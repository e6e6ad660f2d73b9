/* SPDX-License-Identifier: BSD-3-Clause */
/* api_join.h - what the correlation (api_join.c) and the verdict (api_explain.c) share. */
#ifndef EP_API_JOIN_H
#define EP_API_JOIN_H

#include "api_int.h"

/* The verdict's thresholds (docs/operations.md, "The join"). */
#define MIN_SESSIONS 5	   /* sessions in a span for a QoE number */
#define MIN_PLAY_MS 60000  /* and play time */
#define REBUF_FLOOR 0.01   /* rebuffering up: at least 1 % ... */
#define REBUF_FACTOR 2.0   /* ... and twice the baseline ... */
#define REBUF_MARGIN 0.005 /* ... and half a point above it */
#define RTT_MIN_SAMPLES 20
#define RTT_FACTOR 1.25 /* RTT up: p90 x1.25 and +20 ms */
#define RTT_MARGIN_US 20000.0
#define RETX_MIN_SEGS 1000
#define RETX_FACTOR 2.0 /* retransmissions up: x2 and +0.5 point */
#define RETX_MARGIN 0.005
#define POINT_PLAY_MS 10000 /* a correlation point needs 10 s of play ... */
#define POINT_RTT_SAMPLES 5 /* ... and 5 RTT samples (or 100 segments sent) */
#define POINT_SEGS 100
#define MAX_SLOTS 1440

/* Per-slot aggregates of one view over [start, start + n * step), grouped per ASN. */
struct slots {
	uint64_t start, step;
	uint32_t n;
	struct agg *a;
};

/* Visitor: a bucket into its slot of the struct slots at ctx. */
void ep_join_slot_bucket(const struct ep_bucket *b, uint64_t step_ns, void *ctx);
/* Slots of step over [start, end), each grouped per ASN within w. @return 0, -1 (memory) */
int ep_join_slots_init(struct slots *s, uint64_t start, uint64_t end, uint64_t step,
		       const struct ep_where *w);
/* Whether a slot ran out of memory. */
int ep_join_slots_nomem(const struct slots *s);
void ep_join_slots_free(struct slots *s);
/* The rebuffer ratio with at least min_play ms of play, else NAN. */
double ep_join_rebuffer(const struct ep_centry *e, uint64_t min_play);
/* The in-flow RTT p90 (us) with at least min samples, else NAN. */
double ep_join_p90(const struct ep_centry *e, struct ep_hist *h, uint64_t min);
/* The retransmitted share of segments with at least min_segs sent, else NAN. */
double ep_join_retx(const struct ep_centry *e, uint64_t min_segs);
/* "name": v, as an integer (decimals 0) or fixed to decimals. */
void ep_join_num(json_t *o, const char *name, double v, int decimals);
/*
 * range= and end= for a join: by default the range ends at the newest probe data (at
 * the newest players' data when there is none). @return 0, or -1 with an error response
 */
int ep_join_range(struct ep_collector *c, const struct ep_api_req *q, const char *dflt,
		  struct range *r, struct ep_api_resp *resp);

#endif
