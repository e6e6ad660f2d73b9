/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_split.c - test helper: split a capture into N files by the symmetric flow
 * hash, the way symmetric RSS spreads a link over N queues (both directions of a
 * flow in one file; frames that are not TCP go to file 0).
 * Usage: pcap_split IN.pcap N OUT_PREFIX   (writes OUT_PREFIX0.pcap ...)
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "edgeprobe/ep_flow_key.h"

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE], path[4096];
	pcap_dumper_t *out[16];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *in;
	int n, i, r;

	if (argc != 4 || (n = atoi(argv[2])) < 1 || n > 16) {
		fprintf(stderr, "usage: pcap_split IN.pcap N(1-16) OUT_PREFIX\n");
		return 2;
	}
	in = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!in) {
		fprintf(stderr, "pcap_split: %s: %s\n", argv[1], errbuf);
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%d.pcap", argv[3], i);
		out[i] = pcap_dump_open(in, path);
		if (!out[i]) {
			fprintf(stderr, "pcap_split: %s: %s\n", path, pcap_geterr(in));
			return 1;
		}
	}
	while ((r = pcap_next_ex(in, &h, &data)) == 1) {
		struct ep_pkt pkt;
		struct ep_flow_key key;
		int q = 0;

		if (ep_parse_eth(data, data + h->caplen, &pkt) == EP_PARSE_OK) {
			ep_flow_key_make(&pkt, &key);
			q = (int)(ep_flow_key_hash(&key) % (uint64_t)n);
		}
		pcap_dump((u_char *)out[q], h, data);
	}
	for (i = 0; i < n; i++)
		pcap_dump_close(out[i]);
	pcap_close(in);
	return r == PCAP_ERROR ? 1 : 0;
}
