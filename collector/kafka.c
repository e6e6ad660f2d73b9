/* SPDX-License-Identifier: BSD-3-Clause */
/* kafka.c - closed windows to Kafka with librdkafka. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "api.h"
#include "kafka.h"
#include "log.h"

struct ep_kafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	rd_kafka_topic_t *alerts; /* NULL: no alert topic */
	char bootstrap[256];
	struct ep_kafka_stats st;
	struct ep_hist *scratch;
	struct ep_hist_codec codec; /* the "hdr" strings (the caller's thread) */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ep_kafka *k = opaque;

	(void)rk;
	if (m->err)
		k->st.failed++;
	else
		k->st.delivered++;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
	       size_t errlen)
{
	char e[256];

	if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "kafka %s=%s: %s", name, value, e);
		return -EINVAL;
	}
	return 0;
}

/* librdkafka's own lines (syslog levels) go through the program's log, so --quiet holds. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	ep_log(level <= 3 ? EP_LOG_ERR : level == 4 ? EP_LOG_WARN : level <= 6 ? EP_LOG_INFO
								  : EP_LOG_DEBUG,
	       "kafka: %s: %s", fac, buf);
}

int ep_kafka_open(const char *brokers, const char *topic, const char *alert_topic,
		  int mock_brokers, unsigned queue_max, unsigned timeout_ms, struct ep_kafka **out,
		  char *err, size_t errlen)
{
	struct ep_kafka *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char e[512], num[32], tmo[32];

	if (!k || !conf) {
		free(k);
		if (conf)
			rd_kafka_conf_destroy(conf);
		return -ENOMEM;
	}
	snprintf(num, sizeof(num), "%u", queue_max ? queue_max : 100000);
	snprintf(tmo, sizeof(tmo), "%u", timeout_ms ? timeout_ms : 30000);
	if ((brokers && set(conf, "bootstrap.servers", brokers, err, errlen)) ||
	    set(conf, "queue.buffering.max.messages", num, err, errlen) ||
	    set(conf, "linger.ms", "50", err, errlen) ||
	    set(conf, "message.timeout.ms", tmo, err, errlen) ||
	    set(conf, "client.id", "edgeprobe-collector", err, errlen))
		goto fail;
	if (mock_brokers > 0) {
		snprintf(num, sizeof(num), "%d", mock_brokers);
		if (set(conf, "test.mock.num.brokers", num, err, errlen))
			goto fail;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, k);
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
	if (!k->rk) {
		snprintf(err, errlen, "kafka: %s", e);
		conf = NULL;
		goto fail;
	}
	conf = NULL; /* owned by rk */
	if (mock_brokers > 0) {
		rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(k->rk);

		if (mc) {
			snprintf(k->bootstrap, sizeof(k->bootstrap), "%s",
				 rd_kafka_mock_cluster_bootstraps(mc));
			rd_kafka_mock_topic_create(mc, topic, 1, 1);
			if (alert_topic)
				rd_kafka_mock_topic_create(mc, alert_topic, 1, 1);
		}
	} else if (brokers) {
		snprintf(k->bootstrap, sizeof(k->bootstrap), "%s", brokers);
	}
	k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
	if (!k->rkt || ep_hist_new(EP_HIST_DEFAULT_LOWEST, EP_HIST_DEFAULT_HIGHEST,
				   EP_HIST_DEFAULT_DIGITS, &k->scratch) < 0) {
		snprintf(err, errlen, "kafka topic '%s': %s", topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	if (alert_topic && !(k->alerts = rd_kafka_topic_new(k->rk, alert_topic, NULL))) {
		snprintf(err, errlen, "kafka topic '%s': %s", alert_topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	*out = k;
	return 0;
fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	ep_kafka_close(k, 0);
	return -EINVAL;
}

void ep_kafka_window(struct ep_kafka *k, const struct ep_collector *c, const struct ep_bucket *b,
		     uint64_t step_ns)
{
	struct ep_hist *h = k->scratch;
	uint32_t i;

	if (h->cfg.highest != c->cfg.hist_highest || h->cfg.sig_digits != c->cfg.hist_digits) {
		ep_hist_free(h);
		k->scratch = NULL;
		if (ep_hist_new(EP_HIST_DEFAULT_LOWEST, c->cfg.hist_highest, c->cfg.hist_digits,
				&k->scratch) < 0)
			return;
		h = k->scratch;
	}
	for (i = 0; i < b->set.n; i++) {
		json_t *m = json_object();
		char *buf, key[16];
		size_t len;

		if (m) {
			json_object_set_new(m, "start_ns", ep_jv_u64(b->start));
			json_object_set_new(m, "end_ns", ep_jv_u64(b->start + step_ns));
			if (json_object_set_new(m, "asn",
						ep_api_asn_json(c, &b->set.e[i], h, &k->codec)) < 0)
				json_decref(m), m = NULL;
		}
		buf = m ? json_dumps(m, EP_JV_FLAGS) : NULL;
		json_decref(m);
		if (!buf) {
			k->st.queue_full++; /* out of memory: counted as a refusal */
			continue;
		}
		len = strlen(buf);
		snprintf(key, sizeof(key), "%" PRIu32, b->set.e[i].asn);
		if (rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, buf, len,
				     key, strlen(key), NULL) < 0) {
			k->st.queue_full++; /* queue full or another local refusal: counted */
			free(buf);
		} else {
			k->st.produced++;
		}
	}
	rd_kafka_poll(k->rk, 0);
}

void ep_kafka_alert(struct ep_kafka *k, const char *key, const char *json, size_t len)
{
	if (!k || !k->alerts)
		return;
	if (rd_kafka_produce(k->alerts, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)json,
			     len, key, strlen(key), NULL) < 0)
		k->st.queue_full++;
	else
		k->st.produced++;
	rd_kafka_poll(k->rk, 0);
}

void ep_kafka_poll(struct ep_kafka *k)
{
	if (k)
		rd_kafka_poll(k->rk, 0);
}

const char *ep_kafka_bootstrap(const struct ep_kafka *k)
{
	return k->bootstrap;
}

struct ep_kafka_stats ep_kafka_stats(const struct ep_kafka *k)
{
	return k->st;
}

void ep_kafka_close(struct ep_kafka *k, int timeout_ms)
{
	if (!k)
		return;
	if (k->rk && timeout_ms > 0)
		rd_kafka_flush(k->rk, timeout_ms);
	if (k->rkt)
		rd_kafka_topic_destroy(k->rkt);
	if (k->alerts)
		rd_kafka_topic_destroy(k->alerts);
	if (k->rk)
		rd_kafka_destroy(k->rk);
	ep_hist_free(k->scratch);
	ep_hist_codec_fini(&k->codec);
	free(k);
}
