/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_admit.h - sampled admission of new half-open flows under a SYN flood,
 * written once for every probe (the userspace tracker decides per packet and
 * adapts per window; the BPF programs decide per packet, their loader adapts).
 *
 * Under a flood, evicting half-open flows oldest-first evicts the long round
 * trips first: a handshake that takes 600 ms is evicted by the next 600 ms of
 * spoofed SYNs, while a 10 ms one completes.  The handshake samples that
 * survive are then a draw biased towards the near ISPs.  Instead, when the
 * SYNs of a window come faster than the room for half-open flows can keep
 * each for EP_ADMIT_HORIZON_MS, a flow opened by a SYN (or SYN-ACK) is created
 * only when its key hash falls in a 2^-level share of the hash space: a choice
 * that does not depend on its round trip, and the same for every packet of
 * the flow (its SYN-ACK and retransmitted SYNs too).  The level is set once
 * per window from the window's SYNs, so that the admitted flows live at least
 * EP_ADMIT_HORIZON_MS before eviction can reach them: every admitted
 * handshake up to that long completes, and the survivors are an unbiased draw.
 * A flow not admitted is still picked up by its first packet after the
 * handshake (its in-flow samples and retransmissions count); its SYN is
 * counted per ASN (syn_unsampled).
 *
 * Header-only, BPF-safe.
 */
#ifndef EP_ADMIT_H
#define EP_ADMIT_H

#include "ep_types.h"

#define EP_ADMIT_MAX_LEVEL 20      /* admit at least 2^-20 of new half-open flows */
#define EP_ADMIT_HORIZON_MS 1000u  /* admitted half-open flows live at least this long */

/* Is a new flow opened by a SYN, with key hash hash, admitted at level? */
EP_INLINE int ep_admit(uint64_t hash, uint32_t level)
{
	return (uint32_t)hash & ((1u << level) - 1) ? 0 : 1;
}

/*
 * The admission level for the next window.
 * @param syns    SYNs in the window that ended that found no flow (admitted or not)
 * @param room    half-open flows the table can hold now (its size less the
 *                established flows)
 * @param win_ms  the window's length
 * @return the least level at which the window's SYNs would have taken at most
 *         room * win_ms / EP_ADMIT_HORIZON_MS records (0: admit all)
 */
EP_INLINE uint32_t ep_admit_level_next(uint32_t syns, uint32_t room, uint32_t win_ms)
{
	uint64_t target = (uint64_t)room * win_ms / EP_ADMIT_HORIZON_MS;
	uint32_t level;

	if (!target)
		target = 1;
	for (level = 0; level < EP_ADMIT_MAX_LEVEL && (syns >> level) > target; level++)
		;
	return level;
}

#endif /* EP_ADMIT_H */
