/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xsk.c - packets the kernel dropped because an AF_XDP socket's RX ring was full.
 * DPDK 22.11's af_xdp PMD reports only the sockets' rx_dropped as imissed, so a
 * probe that polls too slowly lost packets without a count.  The PMD keeps its
 * sockets to itself; they are found once, after the ports start, as the
 * descriptors of this process that answer getsockopt(SOL_XDP, XDP_STATISTICS).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "dpdk.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static int xsk_stats(int fd, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, &len) < 0)
		return -errno;
	/* Kernels before 5.9 fill only the first three fields: no ring-full count. */
	return len == sizeof(*st) ? 0 : -EOPNOTSUPP;
}

int ep_dpdk_xsk_find(struct ep_dpdk *dp)
{
	struct xdp_statistics st;
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");

	dp->nxsk = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d)) && dp->nxsk < MAX_XSK) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || fd < 0 || fd == dirfd(d))
			continue;
		if (xsk_stats((int)fd, &st) == 0)
			dp->xsk_fds[dp->nxsk++] = (int)fd;
	}
	closedir(d);
	return dp->nxsk;
}

uint64_t ep_dpdk_xsk_ring_full(const struct ep_dpdk *dp)
{
	struct xdp_statistics st;
	uint64_t n = 0;
	int i;

	for (i = 0; i < dp->nxsk; i++)
		if (xsk_stats(dp->xsk_fds[i], &st) == 0)
			n += st.rx_ring_full;
	return n;
}
