/* SPDX-License-Identifier: BSD-3-Clause */
/* options_values.c - edgeprobe-collector's option values: numbers, sizes, tiers, files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "config.h"
#include "hmac.h"
#include "log.h"
#include "options.h"

/* A whole number within [min, max] (the probes' helper); the message names the flag. */
int ep_opt_u32(const char *flag, const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char err[200];

	if (ep_parse_u32_arg(flag + 2, v, min, max, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeprobe-collector: %s\n", err);
		return -1;
	}
	return 0;
}

int ep_opt_bad(const char *flag, const char *v, const char *want)
{
	fprintf(stderr, "edgeprobe-collector: %s '%s': expected %s\n", flag, v, want);
	return -1;
}

/* "0", or bytes with an optional K/M/G suffix, at least 64 MiB. */
/* Bytes with an optional K, M or G; 0, or at least min. @return 0 or -1 */
int ep_opt_size(const char *v, uint64_t min, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *v == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		x <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		x <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		x <<= 30, end++;
	if (*end || (x && x < min) || x > (1ull << 50))
		return -1;
	*out = x;
	return 0;
}

/*
 * A small file's contents (a token, a PEM certificate or key), NUL-terminated;
 * one_line: trailing newlines removed and at least one byte left.
 */
char *ep_opt_read_small(const char *flag, const char *path, int one_line)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;

	if (!fp) {
		fprintf(stderr, "edgeprobe-collector: %s '%s': %s\n", flag, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 65536) {
		fprintf(stderr, "edgeprobe-collector: %s '%s': not a regular file of at most 64 KiB\n",
			flag, path);
		fclose(fp);
		return NULL;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	n = buf ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
	fclose(fp);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (one_line) {
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (!n || strlen(buf) != n || strpbrk(buf, "\r\n")) {
			fprintf(stderr, "edgeprobe-collector: %s '%s': expected one non-empty line\n",
				flag, path);
			free(buf);
			return NULL;
		}
	}
	if ((st.st_mode & 0004) && strcmp(flag, "--tls-cert"))
		ep_log_warn("%s '%s' is world-readable", flag, path);
	return buf;
}

int ep_opt_tiers(const char *flag, const char *v, uint32_t *n, uint64_t *steps,
		 uint32_t *counts)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t step, keep;

		if (*n >= EP_STORE_MAX_TIERS || !colon)
			goto bad;
		*colon = '\0';
		if (ep_parse_duration(tok, &step) < 0 || ep_parse_duration(colon + 1, &keep) < 0 ||
		    step < 1000000 || keep < step || keep / step > 10000000)
			goto bad;
		steps[*n] = step;
		counts[*n] = (uint32_t)(keep / step);
		(*n)++;
	}
	if (*n)
		return 0;
bad:
	fprintf(stderr,
		"edgeprobe-collector: %s '%s': expected STEP:RETENTION,... finest first, each step a "
		"multiple of the previous (e.g. 100ms:2m,1s:1h,1m:1d)\n",
		flag, v);
	return -1;
}

int ep_opt_read_key(const char *path, struct ep_collector_cfg *cfg)
{
	char err[400];
	int loose;
	long n = ep_hmac_key_read(path, cfg->key, sizeof(cfg->key), &loose, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "edgeprobe-collector: %s\n", err);
		return -1;
	}
	if (loose)
		ep_log_warn("--key-file '%s' is world-readable", path);
	cfg->keylen = (size_t)n;
	return 0;
}
