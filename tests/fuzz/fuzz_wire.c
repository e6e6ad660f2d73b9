/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_wire.c - libFuzzer target: the collector side of the wire protocol on
 * arbitrary bytes: the decoder (histograms decoded, and left raw), then the
 * collector's whole ingest (sparse histogram decode, sequence accounting,
 * roll-ups) into one long-lived collector with small tiers.
 */
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "wire.h"

/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

static struct ep_collector coll;
static int coll_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct ep_wire_msg m;
	static uint64_t now = 4000000000000000000ull; /* 2096: the seeds' windows are in the past */

	memcpy(copy, data, size);
	if (ep_wire_decode(&t_codec, copy, size, &m) == EP_WIRE_OK)
		ep_wire_msg_free(&m);
	if (ep_wire_decode_ex(&t_codec, copy, size, &m, EP_WIRE_DEC_RAW_HISTS, NULL, 0) == EP_WIRE_OK)
		ep_wire_msg_free(&m);
	if (!coll_ready) {
		struct ep_collector_cfg cfg;

		ep_collector_cfg_default(&cfg);
		cfg.counts[0] = 20;
		cfg.counts[1] = 60;
		cfg.counts[2] = 10;
		cfg.probe_counts[0] = 60;
		cfg.probe_counts[1] = 10;
		cfg.max_probes = 64;
		cfg.max_probe_views = 4;
		cfg.max_asns = 256;
		if (ep_collector_init(&coll, &cfg) < 0)
			abort();
		coll_ready = 1;
	}
	ep_collector_ingest(&coll, copy, size, now);
	now += 1000000;
	ep_collector_tick(&coll, now, (now / 1000000) % 64 == 0);
	free(copy);
	return 0;
}
