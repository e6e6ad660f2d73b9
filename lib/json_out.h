/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_out.h - the JSON-lines contract for scripts: one object per window
 * ({"v":1,"type":"window",...}) and one final summary.  Written by the probes
 * (--json-out) and by edgeprobe-dump from the wire protocol, with one writer
 * so that both produce the same bytes.
 */
#ifndef EP_JSON_OUT_H
#define EP_JSON_OUT_H

#include <stdio.h>

#include "window.h"

/*
 * Write w as one line; histograms not already encoded (a->enc) are encoded
 * with the caller's codec. @return 0, -EIO on a write error, -ENOMEM.
 */
int ep_json_write_window(FILE *fp, const struct ep_window *w, struct ep_hist_codec *hc);

/* Write s as a JSON string (quotes included), escaping as RFC 8259 requires. */
void ep_json_write_string(FILE *fp, const char *s);

#endif
