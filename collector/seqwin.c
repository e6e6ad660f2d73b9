/* SPDX-License-Identifier: BSD-3-Clause */
/* seqwin.c - loss, duplicates and reordering from sequence numbers. */
#include <string.h>

#include "seqwin.h"

#define WORDS (EP_SEQWIN_BITS / 64)

static int bit_test(const struct ep_seqwin *w, uint64_t seq)
{
	uint64_t b = seq % EP_SEQWIN_BITS;

	return (w->bits[b / 64] >> (b % 64)) & 1;
}

static void bit_set(struct ep_seqwin *w, uint64_t seq)
{
	uint64_t b = seq % EP_SEQWIN_BITS;

	w->bits[b / 64] |= 1ull << (b % 64);
}

static void bit_clear(struct ep_seqwin *w, uint64_t seq)
{
	uint64_t b = seq % EP_SEQWIN_BITS;

	w->bits[b / 64] &= ~(1ull << (b % 64));
}

enum ep_seq_verdict ep_seqwin_check(struct ep_seqwin *w, uint64_t epoch, uint64_t seq)
{
	if (seq == 0) { /* numbering starts at 1 */
		w->too_old++;
		return EP_SEQ_TOO_OLD;
	}
	if (!w->started || epoch > w->epoch) {
		if (w->started)
			w->restarts++;
		/* A restart numbers from 1; a probe first heard mid-run starts where it is. */
		w->max_seq = w->started ? 0 : seq - 1;
		w->base = w->max_seq + 1;
		w->epoch = epoch;
		w->started = 1;
		memset(w->bits, 0, sizeof(w->bits));
	} else if (epoch < w->epoch) {
		w->stale++;
		return EP_SEQ_STALE;
	}
	if (seq > w->max_seq) {
		uint64_t s, gap = seq - w->max_seq - 1;

		w->lost += gap;
		/* Clear the bits of the numbers skipped over (and those the window drops). */
		if (seq - w->max_seq >= EP_SEQWIN_BITS)
			memset(w->bits, 0, sizeof(w->bits));
		else
			for (s = w->max_seq + 1; s <= seq; s++)
				bit_clear(w, s);
		bit_set(w, seq);
		w->max_seq = seq;
		w->accepted++;
		return EP_SEQ_NEW;
	}
	if (w->max_seq - seq >= EP_SEQWIN_BITS) {
		w->too_old++;
		return EP_SEQ_TOO_OLD;
	}
	if (bit_test(w, seq)) {
		w->dups++;
		return EP_SEQ_DUP;
	}
	bit_set(w, seq);
	if (seq >= w->base)
		w->lost--; /* it was counted as a gap */
	w->reordered++;
	w->accepted++;
	return EP_SEQ_NEW;
}

void ep_seqwin_adopt(struct ep_seqwin *w, uint64_t epoch, uint64_t seq)
{
	if (w->started)
		w->restarts++;
	w->epoch = epoch;
	w->max_seq = seq ? seq - 1 : 0;
	w->base = w->max_seq + 1;
	w->started = 1;
	memset(w->bits, 0, sizeof(w->bits));
}

void ep_seqwin_resume(struct ep_seqwin *w, uint64_t epoch, uint64_t max_seq)
{
	w->epoch = epoch;
	w->max_seq = max_seq;
	w->base = max_seq + 1;
	w->started = 1;
	memset(w->bits, 0xff, sizeof(w->bits));
}
