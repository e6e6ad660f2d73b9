/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_parse_tcp.h - the TCP layer of the packet parser (ep_parse.h): the header,
 * its options (MSS, window scale, SACK permitted, SACK blocks, timestamps).
 *
 * Included by ep_parse.h after the frame access it uses; the same rules hold:
 * header-only, no allocation, no libc, bounded loops (userspace and BPF).
 */
#ifndef EP_PARSE_TCP_H
#define EP_PARSE_TCP_H

#ifndef EP_PARSE_H
#error "include ep_parse.h, not ep_parse_tcp.h"
#endif

/*
 * One TCP option at *i of the olen (<= 40) option bytes at o.
 * @return 0 to go on (*i advanced), 1 at the end of the list, -1 when the
 *         option's length is malformed.
 */
EP_INLINE int ep_tcp_opt_step(const uint8_t *o, uint32_t olen, uint32_t *ip, struct ep_pkt *pkt)
{
	uint32_t i = *ip, j, kind, len;

	if (i >= olen)
		return 1;
	j = ep_idx(i);
	kind = o[j];
	if (kind == 0) /* end of option list */
		return 1;
	if (kind == 1) { /* NOP */
		*ip = i + 1;
		return 0;
	}
	if (olen - i < 2)
		return -1;
	len = o[j + 1];
	if (len < 2 || len > olen - i)
		return -1;
	switch (kind) {
	case 2:
		if (len != 4)
			return -1;
		pkt->mss = ep_be16(o + j + 2);
		pkt->opts |= EP_OPT_MSS;
		break;
	case 3:
		if (len != 3)
			return -1;
		pkt->wscale = o[j + 2];
		pkt->opts |= EP_OPT_WSCALE;
		break;
	case 4:
		if (len != 2)
			return -1;
		pkt->opts |= EP_OPT_SACKOK;
		break;
	case 5:
		if (len < 10 || (len - 2) % 8 != 0)
			return -1;
		pkt->sack_blocks = (uint8_t)((len - 2) / 8);
		pkt->opts |= EP_OPT_SACK;
		break;
	case 8:
		if (len != 10)
			return -1;
		pkt->tsval = ep_be32(o + j + 2);
		pkt->tsecr = ep_be32(o + j + 6);
		pkt->opts |= EP_OPT_TS;
		break;
	default:
		break;
	}
	*ip = i + len;
	return 0;
}

#ifdef __bpf__
/* The option walk as a bpf_loop() callback: verified once, not once per iteration. */
struct ep_opt_walk {
	const uint8_t *o;
	struct ep_pkt *pkt;
	uint32_t olen, i;
	int r;
};

static long ep_opt_walk_cb(uint32_t n, void *ctx)
{
	struct ep_opt_walk *w = ctx;

	(void)n;
	w->r = ep_tcp_opt_step(w->o, w->olen, &w->i, w->pkt);
	return w->r != 0;
}
#endif

/* TCP options: olen (<= 40) bytes at o, after the fixed header. */
EP_INLINE enum ep_parse_res ep_parse_tcp_opts(const uint8_t *o, uint32_t olen, struct ep_pkt *pkt)
{
	/* The layout Linux sends on every segment: NOP, NOP, timestamps. */
	if (olen == 12 && ep_be32(o) == 0x0101080au) {
		pkt->tsval = ep_be32(o + 4);
		pkt->tsecr = ep_be32(o + 8);
		pkt->opts = EP_OPT_TS;
		return EP_PARSE_OK;
	}
	/* Each step consumes at least one of at most 40 bytes. */
#ifdef __bpf__
	{
		struct ep_opt_walk w = {o, pkt, olen, 0, 0};

		bpf_loop(EP_TCP_MAX_OPT_BYTES, ep_opt_walk_cb, &w, 0);
		return w.r < 0 ? EP_PARSE_BAD_TCP_OPTLEN : EP_PARSE_OK;
	}
#else
	{
		uint32_t i = 0, n;
		int r = 0;

		for (n = 0; n < EP_TCP_MAX_OPT_BYTES && !r; n++)
			r = ep_tcp_opt_step(o, olen, &i, pkt);
		return r < 0 ? EP_PARSE_BAD_TCP_OPTLEN : EP_PARSE_OK;
	}
#endif
}

/* The fixed TCP header's fields from p (20 bytes, checked), options not yet read. */
EP_INLINE void ep_tcp_fields(const uint8_t *p, uint32_t ip_payload, uint32_t doff,
			     struct ep_pkt *pkt)
{
	pkt->sport = ep_be16(p);
	pkt->dport = ep_be16(p + 2);
	pkt->seq = ep_be32(p + 4);
	pkt->ack = ep_be32(p + 8);
	pkt->flags = p[13];
	pkt->win = ep_be16(p + 14);
	pkt->payload_len = ip_payload - doff;
	pkt->opts = 0;
	pkt->sack_blocks = 0;
}

/* TCP at off; ip_payload is the segment length the IP layer declares. */
EP_INLINE enum ep_parse_res ep_parse_tcp(const struct ep_frame *fr, uint32_t off,
					 uint32_t ip_payload, struct ep_pkt *pkt)
{
	uint8_t sb[EP_PARSE_SCRATCH];
	const uint8_t *p = ep_frame_at(fr, off, 20, sb);
	uint32_t doff, olen;

	if (!p || ip_payload < 20)
		return EP_PARSE_TRUNC_TCP;
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > ip_payload)
		return EP_PARSE_BAD_TCP_DOFF;
	if (!ep_frame_has(fr, off, doff))
		return EP_PARSE_TRUNC_TCP;
	ep_tcp_fields(p, ip_payload, doff, pkt);
	olen = doff - 20;
	if (olen == 0)
		return EP_PARSE_OK;
	if (olen > EP_TCP_MAX_OPT_BYTES) /* never: doff <= 60; a bound for the verifier */
		return EP_PARSE_BAD_TCP_DOFF;
	p = ep_frame_at(fr, off + 20, olen, sb);
	if (!p)
		return EP_PARSE_TRUNC_TCP;
	return ep_parse_tcp_opts(p, olen, pkt);
}

#endif
