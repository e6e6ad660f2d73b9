/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seqwin.h - per-probe message sequence accounting: loss (gaps not filled),
 * duplicates, reordering and restarts (a new boot epoch), over a window of
 * the most recent sequence numbers.
 */
#ifndef EP_SEQWIN_H
#define EP_SEQWIN_H

#include <stdint.h>

#define EP_SEQWIN_BITS 4096 /* sequence numbers remembered behind the newest */

enum ep_seq_verdict {
	EP_SEQ_NEW,       /* first copy, in order or filling a gap: accept */
	EP_SEQ_DUP,       /* seen before: drop */
	EP_SEQ_TOO_OLD,   /* behind the window: drop (stays counted as lost) */
	EP_SEQ_STALE,     /* from an older epoch than the current one: drop */
};

struct ep_seqwin {
	uint64_t epoch;
	uint64_t max_seq;     /* newest sequence number of the epoch, 0 before any */
	uint64_t base;        /* numbers below were never expected (first contact) */
	uint64_t bits[EP_SEQWIN_BITS / 64];
	uint64_t accepted, lost, dups, reordered, too_old, stale, restarts;
	int started;
};

/*
 * Account for message (epoch, seq).  The first message ever from a probe
 * starts its accounting there (earlier numbers are not loss); a newer epoch is
 * a restart whose numbering begins at 1.
 */
enum ep_seq_verdict ep_seqwin_check(struct ep_seqwin *w, uint64_t epoch, uint64_t seq);

/*
 * Start the window over at (epoch, seq) whatever it held (a confirmed jump,
 * an authenticated restart with an older epoch): seq is the next number
 * accepted, earlier ones are not loss.
 */
void ep_seqwin_adopt(struct ep_seqwin *w, uint64_t epoch, uint64_t seq);

/*
 * Resume a window saved before a restart: every number up to max_seq counts
 * as seen, later ones are accepted (and the gap counted as lost).
 */
void ep_seqwin_resume(struct ep_seqwin *w, uint64_t epoch, uint64_t max_seq);

#endif
