/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privdrop.h - give up root after setup (--user NAME): become the user (uid,
 * gid, its groups), keep only the capabilities a probe still needs, and set
 * no_new_privs.  Probes call it once their sockets, files, ports or BPF hooks
 * are open.
 */
#ifndef EP_PRIVDROP_H
#define EP_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>

/*
 * @param keep capability numbers to keep effective and permitted (may be NULL)
 * @return 0, or a negative errno with err saying what failed
 */
int ep_drop_privileges(const char *user, const int *keep, int nkeep, char *err, size_t errlen);

/* The effective capability set of this process (bits by capability number). */
uint64_t ep_cap_effective(void);

#endif
