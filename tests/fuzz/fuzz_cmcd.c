/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_cmcd.c - libFuzzer target: CMCD reports as the collector's QoE endpoint takes them
 * (text lines, JSON) on arbitrary bytes; every accepted report holds values in range. */
#include <stdlib.h>
#include <string.h>

#include "cmcd.h"
#include "qoe_parse.h"

static void check(const struct ep_cmcd *r)
{
	int k;

	if (strlen(r->sid) > 64 || r->nkeys > EP_CMCD_MAX_KEYS)
		abort();
	for (k = 0; k < EP_CMCD__KEYS; k++)
		if (ep_cmcd_has(r, k) && r->v[k] < 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ep_cmcd out[EP_QOE_MAX_REPORTS];
	struct ep_cmcd r;
	struct ep_qoe_perr err;
	char detail[96];
	int n, i, kind;

	ep_cmcd_init(&r);
	if (ep_cmcd_parse(&r, (const char *)data, size, detail, sizeof(detail)) == EP_CMCD_OK)
		check(&r);
	for (kind = EP_QOE_BODY_TEXT; kind <= EP_QOE_BODY_JSON; kind++) {
		n = ep_qoe_parse_body(kind, (const char *)data, size, out, &err);
		if (n < 0 && (err.e <= EP_CMCD_OK || err.e >= EP_CMCD_E__COUNT))
			abort(); /* a refusal names its reason */
		for (i = 0; i < n; i++)
			check(&out[i]);
	}
	return 0;
}
