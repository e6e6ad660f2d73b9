/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_send.h - alerts to an HTTP receiver (Alertmanager's v2 API, or a
 * generic webhook), from a thread of its own with libcurl: a bounded queue
 * (the oldest dropped and counted when full), batches of up to 64 alerts
 * per POST, retried with exponential backoff while the receiver is down.
 * Putting never blocks the caller beyond a mutex.
 */
#ifndef EP_ALERT_SEND_H
#define EP_ALERT_SEND_H

#include <stddef.h>
#include <stdint.h>

enum ep_asend_kind {
	EP_ASEND_ALERTMANAGER, /* POST URL/api/v2/alerts, a JSON array of alert objects */
	EP_ASEND_WEBHOOK,      /* POST URL, {"receiver":"edgeprobe","alerts":[event, ...]} */
};

struct ep_asend_stats {
	uint64_t queued, sent, batches, failures, dropped, retries;
	uint32_t depth;        /* in the queue now */
	uint64_t last_ok_wall; /* ns, 0: never */
};

struct ep_asend;

/*
 * @param url http:// or https:// (Alertmanager: its base URL)
 * @param queue_max alerts held at most (0: 10000)
 * @return 0, or -EINVAL with err (a bad URL), -ENOMEM
 */
int ep_asend_start(struct ep_asend **out, enum ep_asend_kind kind, const char *url,
		   unsigned queue_max, char *err, size_t errlen);
/* Queue one alert (a JSON object, copied). */
void ep_asend_put(struct ep_asend *s, const char *json, size_t len);
struct ep_asend_stats ep_asend_stats(struct ep_asend *s);
const char *ep_asend_url(const struct ep_asend *s);
/* Try to send what is queued for up to timeout_ms, then stop. NULL-safe. */
void ep_asend_stop(struct ep_asend *s, unsigned timeout_ms);

#endif
