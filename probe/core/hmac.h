/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hmac.h - HMAC-SHA256 for signed wire messages, from the system's libcrypto,
 * which is loaded the first time a key is given.  libcrypto is the largest
 * library a probe would otherwise map and relocate at every start (~4 ms on a
 * small VM), and only probes and collectors with --key-file use it.
 */
#ifndef EP_HMAC_H
#define EP_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define EP_HMAC_SHA256_BYTES 32

/*
 * Load libcrypto (once; safe from several threads).  Called where --key-file
 * is read, so that a missing library stops the start, not the first message.
 * @return 0, or -1 with err set (what failed to load).
 */
int ep_hmac_load(char *err, size_t errlen);

/* HMAC-SHA256 of msg under key into out. @return 0, -1 when libcrypto is missing or fails. */
int ep_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		   uint8_t out[EP_HMAC_SHA256_BYTES]);

/* 1 when a and b hold the same n bytes; the time taken does not depend on where they differ. */
int ep_hmac_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif /* EP_HMAC_H */
