/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hmac.h - HMAC-SHA256 for signed wire messages, from the system's libcrypto
 * (linked, so that packaging sees the dependency).
 */
#ifndef EP_HMAC_H
#define EP_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define EP_HMAC_SHA256_BYTES 32

/* HMAC-SHA256 of msg under key into out. @return 0, -1 when libcrypto fails. */
int ep_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		   uint8_t out[EP_HMAC_SHA256_BYTES]);

/* SHA-256 of msg as 64 lowercase hex digits (reports' audit digest). @return 0, -1 */
int ep_sha256_hex(const void *msg, size_t len, char out[2 * EP_HMAC_SHA256_BYTES + 1]);

/*
 * Read a shared key (--key-file, probes and collector alike): the first line of
 * a regular file, 1 .. cap-1 bytes, a trailing CR dropped.  *loose is set when
 * users other than the owner and group may read the file.
 * @return the key's length, or -EINVAL with err set ("--key-file 'PATH': ...").
 */
long ep_hmac_key_read(const char *path, uint8_t *key, size_t cap, int *loose, char *err,
		      size_t errlen);

/* 1 when a and b hold the same n bytes; the time taken does not depend on where they differ. */
int ep_hmac_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif /* EP_HMAC_H */
