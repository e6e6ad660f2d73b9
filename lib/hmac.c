/* SPDX-License-Identifier: BSD-3-Clause */
/* hmac.c - HMAC-SHA256 (and plain SHA-256) and a constant-time comparison, from libcrypto. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

int ep_sha256_hex(const void *msg, size_t len, char out[2 * EP_HMAC_SHA256_BYTES + 1])
{
	uint8_t md[EP_HMAC_SHA256_BYTES];
	unsigned int n = 0, i;

	if (!EVP_Digest(msg, len, md, &n, EVP_sha256(), NULL) || n != EP_HMAC_SHA256_BYTES)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

long ep_hmac_key_read(const char *path, uint8_t *key, size_t cap, int *loose, char *err,
		      size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	uint8_t *nl;
	size_t n;

	*loose = 0;
	if (!fp) {
		snprintf(err, errlen, "--key-file '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		snprintf(err, errlen, "--key-file '%s': not a regular file", path);
		return -EINVAL;
	}
	*loose = (st.st_mode & 0004) != 0;
	n = fread(key, 1, cap, fp);
	fclose(fp);
	if ((nl = memchr(key, '\n', n)))
		n = (size_t)(nl - key);
	if (n && key[n - 1] == '\r')
		n--;
	if (n == 0 || n >= cap) {
		snprintf(err, errlen, "--key-file '%s': the key must be 1..%zu bytes on its first line",
			 path, cap - 1);
		return -EINVAL;
	}
	return (long)n;
}

int ep_hmac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
