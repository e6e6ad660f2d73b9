/* SPDX-License-Identifier: BSD-3-Clause */
/* collector_int.h - between the ingest path (collector.c) and the probe table (probes.c). */
#ifndef EP_COLLECTOR_INT_H
#define EP_COLLECTOR_INT_H

#include "collector.h"

#define NS_PER_MS 1000000ull

/* May probe id send (the allow-list)? */
int ep_collector_allowed(const struct ep_collector *c, const char *id);
/* The probe of id, created (a table slot, its view) when new. @return NULL at the limit (counted) */
struct ep_cprobe *ep_collector_probe_get(struct ep_collector *c, const char *id, uint64_t now);
/* Name asn as a record did (a new or changed name goes to persist_org). */
void ep_collector_name_asn(struct ep_collector *c, uint32_t asn, const char *org);

/* admit.c: values no honest probe can send. @return 1 when m and its records are plausible */
int ep_admit_plausible(const struct ep_wire_msg *m, const struct ep_crec *recs);
/* admit.c: a jump in p's numbering held or adopted. @return 1 to go on, 0 held (counted) */
int ep_admit_seq_gate(struct ep_collector *c, struct ep_cprobe *p, const struct ep_wire_msg *m,
		      uint64_t now);
/* admit.c: --accept-region: is a record of country cc kept? */
int ep_admit_region(const struct ep_collector *c, uint16_t cc);
/* admit.c: drop c->recs of countries outside the accepted regions (counted). @return kept */
uint32_t ep_admit_regions(struct ep_collector *c, const struct ep_wire_msg *m);

#endif
