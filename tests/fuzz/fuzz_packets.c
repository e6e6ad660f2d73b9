/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_packets.c - libFuzzer target: a sequence of frames through the parser and
 * a small tracker; every closed window goes through the wire encoder and back
 * through the decoder, which must accept it.  Input: records of
 * { u8 time step (x 1 ms), u16 length (big-endian), frame }.
 */
#include <stdlib.h>
#include <string.h>

#include "edgeprobe/ep_parse.h"
#include "tracker.h"
#include "wire.h"

/* The test's encoder (kept across windows, as the exporter keeps its own). */
static struct ep_wire_enc t_enc;
/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

static int check_msg(const uint8_t *msg, size_t len, void *ctx)
{
	struct ep_wire_msg m;

	(void)ctx;
	if (ep_wire_decode(&t_codec, msg, len, &m) != EP_WIRE_OK)
		abort(); /* our own encoding must decode */
	ep_wire_msg_free(&m);
	return 0;
}

static void on_window(const struct ep_window *w, void *ctx)
{
	struct ep_window c = *w;

	(void)ctx;
	c.probe = "fuzz";
	if (ep_wire_encode(&t_enc, &c, 600, check_msg, NULL) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ep_asn_map *map;
	struct ep_tracker_cfg cfg;
	struct ep_tracker *t;
	uint64_t now = 1000000000000ull;
	size_t off = 0;

	if (!map && ep_asn_map_empty(&map) < 0)
		abort();
	ep_tracker_cfg_defaults(&cfg);
	cfg.max_flows = 16;
	cfg.max_asns = 4;
	cfg.asn = map;
	cfg.on_window = on_window;
	if (ep_tracker_new(&cfg, &t) < 0)
		abort();
	while (off + 3 <= size) {
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		struct ep_pkt pkt;
		enum ep_parse_res res;
		uint8_t *frame;

		now += (uint64_t)data[off] * 1000000ull;
		off += 3;
		if (len > size - off)
			len = size - off;
		frame = malloc(len ? len : 1); /* exact size: ASan sees any overread */
		memcpy(frame, data + off, len);
		res = ep_parse_eth(frame, frame + len, &pkt);
		ep_tracker_count_parse(t, res);
		if (res == EP_PARSE_OK)
			ep_tracker_packet(t, &pkt, now);
		free(frame);
		off += len;
	}
	ep_tracker_finish(t);
	{
		uint64_t *st = ep_tracker_stats(t), sum = 0;
		int k;

		for (k = EP_ST_PARSE_FIRST; k < EP_ST_PARSE_FIRST + EP_PARSE__COUNT; k++)
			sum += st[k];
		if (sum != st[EP_ST_packets])
			abort(); /* every frame in exactly one class */
	}
	ep_tracker_free(t);
	return 0;
}
