/* SPDX-License-Identifier: BSD-3-Clause */
/* hmac.c - HMAC-SHA256 and its constant-time comparison, from libcrypto. */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"

int ep_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		   uint8_t out[EP_HMAC_SHA256_BYTES])
{
	unsigned int n = 0;

	if (keylen > INT_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n) || n != EP_HMAC_SHA256_BYTES)
		return -1;
	return 0;
}

int ep_hmac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
