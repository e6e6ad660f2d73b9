/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wire.h - encode a window into wire messages (split into parts that fit a
 * payload budget) and decode and validate received messages.
 */
#ifndef EP_WIRE_H
#define EP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "edgeprobe/ep_wire.h"
#include "window.h"

/* Called once per encoded message. @return 0 to go on, < 0 to stop. */
typedef int (*ep_wire_emit_cb)(const uint8_t *msg, size_t len, void *ctx);

/*
 * An encoder, owned by the thread that encodes (the exporter, a test): its
 * buffers and histogram codec are kept from one window to the next, so that
 * once warm, encoding a window allocates nothing.  Zero-initialised is ready.
 */
struct ep_wire_scratch;
struct ep_wire_enc {
	struct ep_hist_codec hc;
	struct ep_wire_scratch *s;
};

/* Free what the encoder holds; it is zero-initialised again. */
void ep_wire_enc_fini(struct ep_wire_enc *e);

/*
 * Encode w (its probe, epoch, type, times, stats and ASNs) into one or more
 * messages of at most max_payload bytes each (a single ASN record larger than
 * that goes alone in a message of its own).  Messages get consecutive
 * sequence numbers starting at w->seq.
 * @return the number of messages, -EINVAL (probe id), -ENOMEM, or the callback's error.
 */
int ep_wire_encode(struct ep_wire_enc *e, const struct ep_window *w, size_t max_payload,
		   ep_wire_emit_cb cb, void *ctx);

/* A decoded message.  ASN records own their histograms; free with ep_wire_msg_free(). */
struct ep_wire_msg {
	uint8_t type;
	uint16_t flags;
	uint64_t epoch, seq, start_ns, end_ns;
	uint16_t part, parts;
	char probe[EP_WIRE_PROBE_MAX + 1];
	int has_stats;
	uint64_t stats[EP_ST__COUNT];
	uint32_t unknown_stats;               /* stat ids this build does not know */
	struct ep_window_asn *asns;
	char (*orgs)[EP_WIRE_ORG_MAX + 1];
	uint32_t nasns;
	struct ep_source_stats src[EP_WINDOW_MAX_SOURCES];
	uint32_t nsrc;
	char dataset[EP_WIRE_DATASET_MAX + 1]; /* "" when the message carries none */
	int verified;                         /* the HMAC trailer was checked */
};

/* Decode errors: X(name, text). */
#define EP_WIRE_ERRORS(X)                                                                          \
	X(SHORT, "shorter than a header")                                                          \
	X(MAGIC, "bad magic")                                                                      \
	X(VERSION, "unsupported version")                                                          \
	X(LENGTH, "length field does not match")                                                   \
	X(HEADER, "bad header field")                                                              \
	X(RECORD, "record overruns the message")                                                   \
	X(ASN, "malformed ASN record")                                                             \
	X(HIST, "malformed histogram")                                                             \
	X(NOMEM, "out of memory")                                                                  \
	X(AUTH, "missing or bad signature")                                                        \
	X(TEXT, "probe id or ASN name not printable UTF-8")                                        \
	X(COUNTRY, "unknown country code")

enum ep_wire_err {
	EP_WIRE_OK = 0,
#define EP_X(n, s) EP_WIRE_E_##n,
	EP_WIRE_ERRORS(EP_X)
#undef EP_X
	EP_WIRE_E__COUNT
};

extern const char *const ep_wire_err_names[EP_WIRE_E__COUNT];

/*
 * Decode buf with the caller's histogram codec (one per decoding thread).
 * @return EP_WIRE_OK or the reason the message was rejected (out is then empty).
 */
enum ep_wire_err ep_wire_decode(struct ep_hist_codec *hc, const uint8_t *buf, size_t len,
				struct ep_wire_msg *out);
void ep_wire_msg_free(struct ep_wire_msg *m);

/* ep_wire_decode_ex() flags: leave histograms encoded (a->enc / a->enc_len point into buf). */
#define EP_WIRE_DEC_RAW_HISTS 1u

/*
 * ep_wire_decode() with options.  With key, a message must carry a valid
 * HMAC-SHA256 trailer (flags bit EP_WIRE_F_HMAC) or it is rejected (AUTH);
 * without, a trailer is skipped unverified.
 */
enum ep_wire_err ep_wire_decode_ex(struct ep_hist_codec *hc, const uint8_t *buf, size_t len,
				   struct ep_wire_msg *out, unsigned dflags, const uint8_t *key,
				   size_t keylen);

/*
 * Sign msg (len bytes, cap bytes of room) in place: set the HMAC flag and the
 * length, then append HMAC-SHA256(key, message) over everything before it.
 * @return the new length, -ENOSPC (no room), -EIO.
 */
int ep_wire_sign(uint8_t *msg, size_t len, size_t cap, const uint8_t *key, size_t keylen);

#endif
