/* SPDX-License-Identifier: BSD-3-Clause */
/* report.h - the human-readable per-ISP latency table printed at the end of a run. */
#ifndef EP_REPORT_H
#define EP_REPORT_H

#include <stdio.h>

#include "exporter.h"

/* Print the run's per-ASN table, busiest first. @return 0 or -ENOMEM. */
int ep_report_print(FILE *fp, const struct ep_exporter *e);

#endif
