/* SPDX-License-Identifier: BSD-3-Clause */
/* privdrop.c - switch user and keep a chosen capability set (raw capset, no libcap). */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

static int capget2(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};

	return (int)syscall(SYS_capget, &h, d);
}

uint64_t ep_cap_effective(void)
{
	struct __user_cap_data_struct d[2];

	if (capget2(d) < 0)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int ep_drop_privileges(const char *user, const int *keep, int nkeep, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	struct passwd pw, *res = NULL;
	char buf[4096];
	uint64_t mask = 0;
	int i;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		snprintf(err, errlen, "--user %s: no such user", user);
		return -ENOENT;
	}
	for (i = 0; i < nkeep; i++)
		mask |= 1ull << keep[i];
	if (nkeep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		goto sys_err;
	if (initgroups(user, pw.pw_gid) < 0 || setgid(pw.pw_gid) < 0 || setuid(pw.pw_uid) < 0)
		goto sys_err;
	/* setuid() cleared the effective set; permitted holds what KEEPCAPS kept. */
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)mask;
	d[1].effective = d[1].permitted = (uint32_t)(mask >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		goto sys_err;
	if (nkeep)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto sys_err;
	/* Make sure there is no way back. */
	if (pw.pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "--user %s: could regain root after dropping it", user);
		return -EPERM;
	}
	return 0;
sys_err:
	snprintf(err, errlen, "--user %s: %s", user, strerror(errno));
	return -errno;
}
