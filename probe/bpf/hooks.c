/* SPDX-License-Identifier: BSD-3-Clause */
/* hooks.c - preflight checks, libbpf logging, and attaching to TC clsact and XDP. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hooks.h"
#include "log.h"

int ep_bpf_preflight(const char *iface, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	static const struct { int cap; const char *name; } need[] = {
		{CAP_BPF, "CAP_BPF"}, {CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {CAP_PERFMON, "CAP_PERFMON"}};
	char missing[128] = "";
	size_t i;

	if (syscall(SYS_capget, &h, d) == 0) {
		for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			int c = need[i].cap;
			int has = (d[c / 32].effective >> (c % 32)) & 1;
			int admin = (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;

			if (!has && !(admin && c != CAP_NET_ADMIN))
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
					 "%s%s", missing[0] ? ", " : "", need[i].name);
		}
	}
	if (missing[0]) {
		snprintf(err, errlen,
			 "not enough privilege to load and attach BPF programs: missing %s (run as "
			 "root, or grant them: setcap cap_bpf,cap_net_admin,cap_perfmon=ep)",
			 missing);
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen,
			 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux: %s): CO-RE programs "
			 "need CONFIG_DEBUG_INFO_BTF=y; use edgeprobe-pcap on this host",
			 strerror(errno));
		return -ENOENT;
	}
	if (!if_nametoindex(iface)) {
		snprintf(err, errlen, "--iface %s: no such interface", iface);
		return -ENODEV;
	}
	return 0;
}

/*
 * libbpf's messages as our log lines.  The kernel's netlink notes ("Kernel error
 * message: ...") answer the probing this loader does on purpose (is there a
 * clsact qdisc, a filter of ours?) and it checks every result itself: debug.
 */
int ep_bpf_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum ep_log_level lvl = level == LIBBPF_WARN ? EP_LOG_WARN
				: level == LIBBPF_INFO ? EP_LOG_INFO : EP_LOG_DEBUG;
	char line[1024];
	size_t n;

	if (lvl > ep_log_max)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (!strncmp(line, "libbpf: Kernel error message:", 29) ||
	    !strncmp(line, "Kernel error message:", 21))
		lvl = EP_LOG_DEBUG;
	if (lvl > ep_log_max || !n)
		return 0;
	ep_log(lvl, "%s", line);
	return 0;
}

/* XDP on ingress: replace a program of ours left by a killed run, never someone else's. */
int ep_bpf_attach_xdp(struct ep_bpf_hooks *h, int ifindex, int fd, char *err, size_t errlen)
{
	static const uint32_t modes[2] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	uint32_t old_id = 0;
	int i, ret = -EINVAL;

	h->ifindex = ifindex;
	if (bpf_xdp_query_id(ifindex, 0, &old_id) == 0 && old_id) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int ofd = bpf_prog_get_fd_by_id(old_id);

		memset(&info, 0, sizeof(info));
		if (ofd < 0 || bpf_obj_get_info_by_fd(ofd, &info, &len) < 0 ||
		    strcmp(info.name, "ep_xdp_ingress")) {
			snprintf(err, errlen, "another XDP program (id %u, %s) is attached", old_id,
				 ofd < 0 ? "?" : info.name);
			if (ofd >= 0)
				close(ofd);
			return -EBUSY;
		}
		close(ofd);
		ep_log_warn("replacing an XDP program left on ingress by an earlier run");
	}
	for (i = 0; i < 2; i++) {
		ret = bpf_xdp_attach(ifindex, fd, modes[i], NULL);
		if (ret == 0) {
			h->xdp_flags = modes[i];
			ep_log_info("XDP on ingress in %s mode", i ? "generic (skb)" : "native");
			return 0;
		}
	}
	snprintf(err, errlen, "attaching XDP: %s", strerror(-ret));
	return ret;
}

int ep_bpf_attach_tc(struct ep_bpf_hooks *h, int ifindex, int fd_in, int fd_out, char *err, size_t errlen)
{
	static const enum bpf_tc_attach_point pt[2] = {BPF_TC_INGRESS, BPF_TC_EGRESS};
	int fds[2] = {fd_in, fd_out}, i, ret;

	for (i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue; /* ingress on XDP */
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, old, .handle = EP_TC_HANDLE, .priority = EP_TC_PRIO);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = EP_TC_HANDLE, .priority = EP_TC_PRIO,
				    .prog_fd = fds[i]);

		memset(&h->hook[i], 0, sizeof(h->hook[i]));
		h->hook[i].sz = sizeof(h->hook[i]);
		h->hook[i].ifindex = ifindex;
		h->hook[i].attach_point = pt[i];
		ret = bpf_tc_hook_create(&h->hook[i]);
		if (ret < 0 && ret != -EEXIST) {
			snprintf(err, errlen, "creating the clsact qdisc: %s", strerror(-ret));
			return ret;
		}
		/* A filter of ours left by a killed run: replace it. */
		if (bpf_tc_query(&h->hook[i], &old) == 0) {
			ep_log_warn("removing a filter left on %s by an earlier run",
				    i ? "egress" : "ingress");
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, del, .handle = EP_TC_HANDLE, .priority = EP_TC_PRIO);
			bpf_tc_detach(&h->hook[i], &del);
		}
		ret = bpf_tc_attach(&h->hook[i], &opts);
		if (ret < 0) {
			snprintf(err, errlen, "attaching to %s: %s", i ? "egress" : "ingress",
				 strerror(-ret));
			return ret;
		}
		h->attached[i] = 1;
	}
	return 0;
}

void ep_bpf_detach(struct ep_bpf_hooks *h)
{
	int i;

	for (i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = EP_TC_HANDLE, .priority = EP_TC_PRIO);

		if (h->attached[i] && bpf_tc_detach(&h->hook[i], &opts) < 0)
			ep_log_warn("detaching from %s failed", i ? "egress" : "ingress");
		h->attached[i] = 0;
	}
	if (h->xdp_flags && bpf_xdp_detach(h->ifindex, h->xdp_flags, NULL) < 0)
		ep_log_warn("detaching XDP failed");
	h->xdp_flags = 0;
}
