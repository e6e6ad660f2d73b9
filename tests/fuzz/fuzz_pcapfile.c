/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pcapfile.c - libFuzzer target: a classic pcap or pcapng file read in place
 * (probe/pcap/pcapfile.h); every record it hands out must lie inside the input,
 * and each goes through the parser.  The walk must end.
 */
#include <stdlib.h>

#include "edgeprobe/ep_parse.h"
#include "pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ep_pcapfile pf;
	struct ep_pcaprec r;
	struct ep_pkt pkt;
	char err[256];
	size_t prev = 0;
	int ret;

	if (ep_pcapfile_init(&pf, data, size) != 0)
		return 0;
	while ((ret = ep_pcapfile_next(&pf, &r, err, sizeof(err))) == 1) {
		if (r.data < data || r.data + r.caplen > data + size || pf.off <= prev)
			abort();
		prev = pf.off;
		(void)ep_parse_eth(r.data, r.data + r.caplen, &pkt);
	}
	if (ret < 0 && !err[0])
		abort(); /* a bad record is described */
	ep_pcapfile_close(&pf);
	return 0;
}
