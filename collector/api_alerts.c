/* SPDX-License-Identifier: BSD-3-Clause */
/* api_alerts.c - /api/v1/alerts: the alert engine's rules, alerts and counters. */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "api_int.h"

void ep_api_alerts(struct ep_collector *c, const struct ep_api_req *q, struct ep_api_resp *resp)
{
	const char *state = q->arg(q->ctx, "state"), *ls = q->arg(q->ctx, "limit");
	unsigned long limit = 1000;
	json_t *doc;
	char *end;

	if (state && strcmp(state, "all") && strcmp(state, "firing") && strcmp(state, "pending") &&
	    strcmp(state, "resolved")) {
		ep_api_error(resp, 400, "state", "bad state '%s' (all, firing, pending, resolved)",
			     state);
		return;
	}
	if (ls) {
		limit = strtoul(ls, &end, 10);
		if (end == ls || *end || limit < 1 || limit > 100000) {
			ep_api_error(resp, 400, "limit", "bad limit '%s' (1 to 100000)", ls);
			return;
		}
	}
	doc = json_object();
	if (doc) {
		json_object_set_new(doc, "enabled", json_boolean(c->alerts));
		if (ep_alerts_json(c->alerts, c, doc, state, (uint32_t)limit) < 0)
			json_decref(doc), doc = NULL; /* out of memory: a 500 */
	}
	ep_api_send(resp, 200, doc);
}
