/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * admit.c - what a decoded message must pass before the collector merges it:
 * plausible numbers, the sequence gate (quarantined jumps), and the records'
 * regions under --accept-region.
 */
#include <stdint.h>

#include "collector.h"
#include "collector_int.h"

/* Values no honest probe can send: @return 1 when m and its records are plausible. */
int ep_admit_plausible(const struct ep_wire_msg *m, const struct ep_crec *recs)
{
	uint64_t dur = m->end_ns - m->start_ns, lim, segs = 0;
	uint32_t i, k, j;

	if (m->type == EP_WIRE_T_WINDOW && dur > EP_WINDOW_MAX_NS)
		return 0;
	lim = (dur / 1000000000ull + 1) * EP_MAX_RATE;
	for (i = 0; i < m->nasns; i++) {
		const struct ep_crec *r = &recs[i];

		for (k = 0; k < EP_AC__COUNT; k++)
			if (r->c[k] > lim)
				return 0;
		if (r->c[EP_AC_retx_out] > r->c[EP_AC_segs_out] ||
		    r->c[EP_AC_retx_in] > r->c[EP_AC_segs_in])
			return 0;
		for (k = 0; k < EP_AH__COUNT; k++) {
			uint64_t total = 0;

			for (j = 0; j < r->nbins[k]; j++)
				total += r->bins[k][j].count;
			if (total > lim)
				return 0;
		}
		segs += r->c[EP_AC_segs_in] + r->c[EP_AC_segs_out];
	}
	/* A segment is at most a super-packet's 64th: no more than the probe has seen. */
	if (m->has_stats && m->stats[EP_ST_packets] && segs / 64 > m->stats[EP_ST_packets])
		return 0;
	return 1;
}

/*
 * A jump in the probe's numbering: far ahead in its epoch, or a restart with
 * an older epoch (its clock stepped back).  Authenticated, an older epoch is
 * adopted when its window is fresh (a recording replayed later is not);
 * unauthenticated, a jump is held until EP_QUARANTINE_CONFIRM consecutive
 * messages continue it.  @return 1 to go on to the sequence check, 0 held.
 */
int ep_admit_seq_gate(struct ep_collector *c, struct ep_cprobe *p, const struct ep_wire_msg *m,
		      uint64_t now)
{
	struct ep_seqwin *w = &p->seq;
	int ahead, back;

	if (!w->started)
		return 1;
	ahead = m->epoch == w->epoch && m->seq > w->max_seq && m->seq - w->max_seq > EP_SEQ_JUMP_MAX;
	back = m->epoch < w->epoch && m->seq <= 64; /* a restart numbers from 1 */
	if (!ahead && !back)
		return 1;
	if (m->verified) {
		if (back && m->end_ns + c->cfg.max_skew_ns >= now)
			ep_seqwin_adopt(w, m->epoch, m->seq);
		return 1;
	}
	if (p->q_hits && m->epoch == p->q_epoch && m->seq > p->q_seq && m->seq - p->q_seq <= 16) {
		p->q_hits++;
		p->q_seq = m->seq;
	} else {
		p->q_epoch = m->epoch;
		p->q_seq = m->seq;
		p->q_hits = 1;
	}
	if (p->q_hits < EP_QUARANTINE_CONFIRM) {
		c->ctr[EP_CC_quarantined]++;
		if (back)
			w->stale++; /* stale for the current epoch until confirmed */
		return 0;
	}
	ep_seqwin_adopt(w, m->epoch, m->seq);
	p->q_hits = 0;
	c->ctr[EP_CC_quarantine_adopted]++;
	return 1;
}

/* --accept-region: is a record of country cc kept? (unknown countries are in no region) */
int ep_admit_region(const struct ep_collector *c, uint16_t cc)
{
	return c->accept_region[ep_region_of(&c->regions, cc)];
}

/* Drop the records of countries outside the accepted regions (counted). @return those kept */
uint32_t ep_admit_regions(struct ep_collector *c, const struct ep_wire_msg *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->nasns; i++) {
		if (!ep_admit_region(c, c->recs[i].cc)) {
			c->ctr[EP_CC_records_refused_region]++;
			continue;
		}
		if (n != i)
			c->recs[n] = c->recs[i];
		n++;
	}
	return n;
}
