/* SPDX-License-Identifier: BSD-3-Clause */
/* check.h - minimal test assertions that print what differed, and a pass/fail tally. */
#ifndef EP_CHECK_H
#define EP_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failed, check_run;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_run++;                                                                       \
		if (!(cond)) {                                                                     \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);        \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);                              \
		check_run++;                                                                       \
		if (va_ != vb_) {                                                                  \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: FAILED: %s == %s (%lld != %lld)\n", __FILE__,     \
				__LINE__, #a, #b, va_, vb_);                                       \
		}                                                                                  \
	} while (0)

#define CHECK_DONE()                                                                               \
	do {                                                                                       \
		printf("%d checks, %d failed\n", check_run, check_failed);                        \
		return check_failed ? 1 : 0;                                                       \
	} while (0)

#endif
