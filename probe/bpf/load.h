/* SPDX-License-Identifier: BSD-3-Clause */
/* load.h - edgeprobe-bpf's BPF object: opened, its maps sized, loaded; the ASN tries filled. */
#ifndef EP_BPF_LOAD_H
#define EP_BPF_LOAD_H

#include <stddef.h>

#include "probe.h"
#include "tries.h"

struct edgeprobe_bpf;

/*
 * Open the skeleton, size its maps (flows from --max-flows, the ASN tries
 * from the data with room to grow by half, the ASN counters from --max-asns)
 * and load it; log each program's size.  @return the skeleton, or NULL with err
 */
struct edgeprobe_bpf *ep_bpf_load(const struct ep_probe *p, const struct ep_probe_opts *po,
				  char *err, size_t errlen);

/* The ASN data into the first pair of tries. @return 0, or -1 with err */
int ep_bpf_fill_asn(struct edgeprobe_bpf *skel, const struct ep_asn_map *asn,
		    struct ep_bpf_ids *ids, char *err, size_t errlen);

#endif
