/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_hist.c - libFuzzer target: HdrHistogram V2 decoding (binary and base64); a decoded
 * histogram must re-encode and decode to the same counts. */
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* The test's histogram codec. */
static struct ep_hist_codec t_codec;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct ep_hist *h = NULL, *h2 = NULL;

	memcpy(copy, data, size);
	if (ep_hist_decode(&t_codec, copy, size, &h) == 0) {
		long n = ep_hist_encode(&t_codec, h, NULL, 0);
		uint8_t *buf = malloc((size_t)n);

		n = ep_hist_encode(&t_codec, h, buf, (size_t)n);
		if (n < 0 || ep_hist_decode(&t_codec, buf, (size_t)n, &h2) != 0 || h2->total != h->total ||
		    ep_hist_percentile(h2, 99) != ep_hist_percentile(h, 99))
			abort();
		ep_hist_free(h2);
		free(buf);
		ep_hist_free(h);
	}
	if (ep_hist_decode_b64(&t_codec, (const char *)copy, size, &h) == 0)
		ep_hist_free(h);
	free(copy);
	return 0;
}
