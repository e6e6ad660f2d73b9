/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kafka.h - every closed 1 s window, one message per ASN keyed by the ASN,
 * and every alert event keyed by the alert's identity, produced with
 * librdkafka.  Never blocks ingest: a bounded local queue, and what cannot
 * be queued or delivered is counted.
 */
#ifndef EP_KAFKA_H
#define EP_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"

struct ep_kafka;

struct ep_kafka_stats {
	uint64_t produced, delivered, queue_full, failed;
};

/*
 * @param brokers "host:port,..." or NULL with mock_brokers > 0: librdkafka's
 *        built-in mock cluster (for tests), its address is in ep_kafka_bootstrap()
 * @return 0, -EINVAL (err says why), -ENOSYS (built without librdkafka)
 */
int ep_kafka_open(const char *brokers, const char *topic, const char *alert_topic,
		  int mock_brokers, unsigned queue_max, unsigned timeout_ms, struct ep_kafka **out,
		  char *err, size_t errlen);
/* Produce one alert event to the alert topic (NULL at open: none), keyed by its identity. */
void ep_kafka_alert(struct ep_kafka *k, const char *key, const char *json, size_t len);

/* Produce the ASNs of a closed bucket (called under the collector's lock). */
void ep_kafka_window(struct ep_kafka *k, const struct ep_collector *c, const struct ep_bucket *b,
		     uint64_t step_ns);

/* Serve delivery reports (non-blocking). */
void ep_kafka_poll(struct ep_kafka *k);

const char *ep_kafka_bootstrap(const struct ep_kafka *k);
struct ep_kafka_stats ep_kafka_stats(const struct ep_kafka *k);

/* Flush for up to timeout_ms, then free. NULL-safe. */
void ep_kafka_close(struct ep_kafka *k, int timeout_ms);

#endif
