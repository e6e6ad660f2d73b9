/* SPDX-License-Identifier: BSD-3-Clause */
/* load.c - edgeprobe-bpf's BPF object: opened, its maps sized, loaded; the ASN tries filled. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drain.h"
#include "edgeprobe.skel.h"
#include "edgeprobe/ep_bpf.h"
#include "load.h"
#include "log.h"

/* Each program's size, as loaded and as the verifier walked it. */
static void log_programs(struct edgeprobe_bpf *skel)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	__u32 len;

	bpf_object__for_each_program(prog, skel->obj) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			ep_log_info("loaded %s: %u instructions, %u processed by the verifier",
				    bpf_program__name(prog), info.xlated_prog_len / 8,
				    info.verified_insns);
	}
}

struct edgeprobe_bpf *ep_bpf_load(const struct ep_probe *p, const struct ep_probe_opts *po,
				  char *err, size_t errlen)
{
	struct edgeprobe_bpf *skel = edgeprobe_bpf__open();
	struct ep_bpf_fill fill = {.family = 4};
	uint32_t n4, n6, slots;
	int ret;

	if (!skel) {
		snprintf(err, errlen, "opening the BPF object: %s", strerror(errno));
		return NULL;
	}
	/* Room for the data to grow by half before a reload no longer fits (counted then). */
	ep_asn_map_prefixes(p->asn, 4, ep_bpf_count_prefix, &fill);
	n4 = (uint32_t)(fill.n * 3 / 2 + 1024);
	fill.n = 0;
	ep_asn_map_prefixes(p->asn, 6, ep_bpf_count_prefix, &fill);
	n6 = (uint32_t)(fill.n * 3 / 2 + 1024);
	bpf_map__set_max_entries(skel->maps.ep_asn4, n4);
	bpf_map__set_max_entries(skel->maps.ep_asn4b, n4);
	bpf_map__set_max_entries(skel->maps.ep_asn6, n6);
	bpf_map__set_max_entries(skel->maps.ep_asn6b, n6);
	/* The flow array: a power of 2 of slots, at least --max-flows (128 bytes each). */
	for (slots = 2; slots < po->max_flows && slots < (1u << 30); slots <<= 1)
		;
	bpf_map__set_max_entries(skel->maps.ep_ftab, slots);
	bpf_map__set_max_entries(skel->maps.ep_flows,
				 po->max_flows / 8 > 1024 ? po->max_flows / 8 : 1024);
	bpf_map__set_max_entries(skel->maps.ep_flows_new,
				 po->max_flows / 4 > 1024 ? po->max_flows / 4 : 1024);
	bpf_map__set_max_entries(skel->maps.ep_actr0, po->max_asns + 1);
	bpf_map__set_max_entries(skel->maps.ep_actr1, po->max_asns + 1);
	ret = ep_bpf_slog_size(skel, EP_BPF_SLOG_DEFAULT);
	if (ret < 0) {
		snprintf(err, errlen, "sizing the sample log: %s", strerror(-ret));
		edgeprobe_bpf__destroy(skel);
		return NULL;
	}
	ret = edgeprobe_bpf__load(skel);
	if (ret < 0) {
		snprintf(err, errlen, "loading the BPF programs: %s (the verifier's log is above "
			 "with --debug levels of libbpf)", strerror(-ret));
		edgeprobe_bpf__destroy(skel);
		return NULL;
	}
	log_programs(skel);
	return skel;
}

int ep_bpf_fill_asn(struct edgeprobe_bpf *skel, const struct ep_asn_map *asn,
		    struct ep_bpf_ids *ids, char *err, size_t errlen)
{
	struct ep_bpf_fill fill = {.fd4 = bpf_map__fd(skel->maps.ep_asn4),
				   .fd6 = bpf_map__fd(skel->maps.ep_asn6), .ids = ids};

	fill.family = 4;
	ep_asn_map_prefixes(asn, 4, ep_bpf_put_prefix, &fill);
	fill.family = 6;
	ep_asn_map_prefixes(asn, 6, ep_bpf_put_prefix, &fill);
	if (fill.errors) {
		snprintf(err, errlen, "loading the ASN tries: %zu of %zu prefixes failed",
			 fill.errors, fill.n);
		return -1;
	}
	ep_log_info("ASN tries: %zu prefixes", fill.n);
	return 0;
}
