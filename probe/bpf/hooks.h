/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hooks.h - where edgeprobe-bpf meets the kernel: the privilege and BTF
 * checks before loading, libbpf's messages as log lines, and attaching the
 * programs to TC clsact (ingress, egress) or XDP, replacing our own filters
 * left by a killed run and never anyone else's.
 */
#ifndef EP_BPF_HOOKS_H
#define EP_BPF_HOOKS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

/* Our filters' handle and priority on clsact: a restart finds (and replaces) them. */
#define EP_TC_HANDLE 0xe9e9
#define EP_TC_PRIO 0xe9

struct ep_bpf_hooks {
	struct bpf_tc_hook hook[2];
	int attached[2];
	int ifindex;
	uint32_t xdp_flags;   /* XDP mode attached, 0: none */
};

/* Capabilities, BTF and the interface, each named when missing. @return 0 or -errno (err). */
int ep_bpf_preflight(const char *iface, char *err, size_t errlen);

/* libbpf_set_print() callback: libbpf's lines through our log levels. */
int ep_bpf_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap);

/* XDP on ingress, native mode where the driver has it, else generic. @return 0 or -errno. */
int ep_bpf_attach_xdp(struct ep_bpf_hooks *h, int ifindex, int fd, char *err, size_t errlen);

/* TC clsact ingress (fd_in < 0: none, XDP has it) and egress. @return 0 or -errno. */
int ep_bpf_attach_tc(struct ep_bpf_hooks *h, int ifindex, int fd_in, int fd_out, char *err,
		     size_t errlen);

/* Detach whatever was attached (warns on failure). */
void ep_bpf_detach(struct ep_bpf_hooks *h);

#endif
