/* SPDX-License-Identifier: BSD-3-Clause */
/* hmac.c - libcrypto's HMAC() and EVP_sha256(), resolved at first use. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"

/* The library this was built against, then any other that answers to the name. */
#ifndef EP_LIBCRYPTO_SONAME
#define EP_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static __typeof__(HMAC) *p_hmac;
static __typeof__(EVP_sha256) *p_sha256;
static char load_err[256];

static void load(void)
{
	const char *names[] = {EP_LIBCRYPTO_SONAME, "libcrypto.so"};
	void *h = NULL;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_err, sizeof(load_err), "HMAC-SHA256 needs libcrypto: %s", dlerror());
		return;
	}
	p_hmac = (__typeof__(HMAC) *)dlsym(h, "HMAC");
	p_sha256 = (__typeof__(EVP_sha256) *)dlsym(h, "EVP_sha256");
	if (!p_hmac || !p_sha256) {
		snprintf(load_err, sizeof(load_err), "libcrypto has no HMAC or EVP_sha256");
		p_hmac = NULL;
	}
}

int ep_hmac_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (p_hmac)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", load_err);
	return -1;
}

int ep_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		   uint8_t out[EP_HMAC_SHA256_BYTES])
{
	unsigned int n = 0;

	if (ep_hmac_load(NULL, 0) < 0 || keylen > INT_MAX)
		return -1;
	if (!p_hmac(p_sha256(), key, (int)keylen, msg, len, out, &n) ||
	    n != EP_HMAC_SHA256_BYTES)
		return -1;
	return 0;
}

int ep_hmac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}
