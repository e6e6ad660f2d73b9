/* SPDX-License-Identifier: BSD-3-Clause */
/* hdr_decode.c - test helper: decode "HISTFAAA..." lines from stdin, print "n p50 p90 p99 max". */
#include <stdio.h>
#include <string.h>

#include "hist.h"

/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

int main(void)
{
	static char line[1 << 20];

	while (fgets(line, sizeof(line), stdin)) {
		struct ep_hist *h;
		size_t n = strcspn(line, "\r\n");

		if (ep_hist_decode_b64(&t_codec, line, n, &h) < 0) {
			printf("error\n");
			continue;
		}
		printf("%lld %lld %lld %lld %lld\n", (long long)h->total,
		       (long long)ep_hist_percentile(h, 50), (long long)ep_hist_percentile(h, 90),
		       (long long)ep_hist_percentile(h, 99), (long long)ep_hist_max(h));
		ep_hist_free(h);
	}
	return 0;
}
