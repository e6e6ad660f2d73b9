/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_asn.c - libFuzzer target: the ASN file loader (CSV and pfx2as) on arbitrary files;
 * an accepted file must answer lookups, a rejected one must say where. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "asn_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	const char *files[2] = {path, NULL};
	struct ep_asn_map *m;
	char err[512];
	int fd;

	if (!path[0]) {
		fd = memfd_create("asn", 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	fd = atoi(path + strlen("/proc/self/fd/"));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (ep_asn_map_load(files, &m, err, sizeof(err)) == 0) {
		uint8_t a[16] = {198, 51, 100, 7};

		ep_asn_map_lookup(m, 4, a, NULL);
		ep_asn_map_lookup(m, 6, a, NULL);
		ep_asn_map_free(m);
	} else if (!strstr(err, path)) {
		abort(); /* the message names the file */
	}
	return 0;
}
