/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_wire.c - libFuzzer target: the collector-side wire decoder on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct ep_wire_msg m;

	memcpy(copy, data, size);
	if (ep_wire_decode(copy, size, &m) == EP_WIRE_OK)
		ep_wire_msg_free(&m);
	free(copy);
	return 0;
}
