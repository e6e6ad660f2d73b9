/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmcd.h - CTA-5004 Common Media Client Data (v1, and CTA-5004-A's v2 keys):
 * one player report, parsed from its key-value text (the CMCD query argument, the
 * CMCD-* headers, a line of an event-mode body) or set key by key (JSON), with every
 * key's type and range checked.  Keys with a hyphen are custom keys: accepted and
 * ignored.  A report's strings are not kept except the session id.
 */
#ifndef EP_CMCD_H
#define EP_CMCD_H

#include <stddef.h>
#include <stdint.h>

/* Why a report was refused: X(name, text). */
#define EP_CMCD_ERRORS(X)                                                                          \
	X(syntax, "malformed key-value list")                                                      \
	X(unknown_key, "unknown key")                                                              \
	X(repeated_key, "key given twice")                                                         \
	X(bad_type, "value of the wrong type for its key")                                         \
	X(out_of_range, "value out of range, or a token the key does not define")                 \
	X(too_long, "too many keys, or a string longer than its key allows")

enum ep_cmcd_err {
	EP_CMCD_OK = 0,
#define EP_X(n, t) EP_CMCD_E_##n,
	EP_CMCD_ERRORS(EP_X)
#undef EP_X
	EP_CMCD_E__COUNT
};

extern const char *const ep_cmcd_err_names[EP_CMCD_E__COUNT];

/* Value types of the structured-field dictionary CMCD uses (RFC 8941). */
enum ep_cmcd_type { EP_CMCD_INT, EP_CMCD_DEC, EP_CMCD_BOOL, EP_CMCD_STR, EP_CMCD_TOKEN,
		    EP_CMCD_LIST };

/*
 * The keys: X(KEY, "name", type, max).  Integers are 0..max (milliseconds, kbps, a
 * count); a decimal is kept x1000, 0..max; a string is at most max bytes; a token is
 * kept as its index in ep_cmcd_tokens[KEY] (a space-separated list).
 */
#define EP_CMCD_KEYS(X)                                                                            \
	X(AB, "ab", EP_CMCD_INT, 100000000)                                                       \
	X(BG, "bg", EP_CMCD_BOOL, 1)                                                              \
	X(BL, "bl", EP_CMCD_INT, 86400000)                                                        \
	X(BR, "br", EP_CMCD_INT, 100000000)                                                       \
	X(BS, "bs", EP_CMCD_BOOL, 1)                                                              \
	X(CDN, "cdn", EP_CMCD_STR, 128)                                                           \
	X(CID, "cid", EP_CMCD_STR, 128)                                                           \
	X(D, "d", EP_CMCD_INT, 86400000)                                                          \
	X(DL, "dl", EP_CMCD_INT, 86400000)                                                        \
	X(E, "e", EP_CMCD_TOKEN, 0)                                                               \
	X(EC, "ec", EP_CMCD_LIST, 1024)                                                           \
	X(LAB, "lab", EP_CMCD_INT, 100000000)                                                     \
	X(LB, "lb", EP_CMCD_INT, 100000000)                                                       \
	X(LTC, "ltc", EP_CMCD_INT, 86400000)                                                      \
	X(MSD, "msd", EP_CMCD_INT, 3600000)                                                       \
	X(MTP, "mtp", EP_CMCD_INT, 100000000)                                                     \
	X(NOR, "nor", EP_CMCD_LIST, 1024)                                                         \
	X(NRR, "nrr", EP_CMCD_STR, 64)                                                            \
	X(OT, "ot", EP_CMCD_TOKEN, 0)                                                             \
	X(PR, "pr", EP_CMCD_DEC, 100000)                                                          \
	X(PT, "pt", EP_CMCD_INT, 9007199254740991)                                                \
	X(RTP, "rtp", EP_CMCD_INT, 100000000)                                                     \
	X(SF, "sf", EP_CMCD_TOKEN, 0)                                                             \
	X(SID, "sid", EP_CMCD_STR, 64)                                                            \
	X(SN, "sn", EP_CMCD_INT, 9007199254740991)                                                \
	X(ST, "st", EP_CMCD_TOKEN, 0)                                                             \
	X(STA, "sta", EP_CMCD_TOKEN, 0)                                                           \
	X(SU, "su", EP_CMCD_BOOL, 1)                                                              \
	X(TAB, "tab", EP_CMCD_INT, 100000000)                                                     \
	X(TB, "tb", EP_CMCD_INT, 100000000)                                                       \
	X(TBL, "tbl", EP_CMCD_INT, 86400000)                                                      \
	X(TPB, "tpb", EP_CMCD_INT, 100000000)                                                     \
	X(TS, "ts", EP_CMCD_INT, 9007199254740991)                                                \
	X(TTFB, "ttfb", EP_CMCD_INT, 86400000)                                                    \
	X(TTFBB, "ttfbb", EP_CMCD_INT, 86400000)                                                  \
	X(TTLB, "ttlb", EP_CMCD_INT, 86400000)                                                    \
	X(URL, "url", EP_CMCD_STR, 2048)                                                          \
	X(V, "v", EP_CMCD_INT, 2)

enum ep_cmcd_key {
#define EP_X(k, n, t, m) EP_CMCD_##k,
	EP_CMCD_KEYS(EP_X)
#undef EP_X
	EP_CMCD__KEYS
};

/* Player states of "sta", in ep_cmcd_tokens[EP_CMCD_STA] order. */
enum ep_cmcd_state { EP_STA_STARTING, EP_STA_PLAYING, EP_STA_SEEKING, EP_STA_REBUFFERING,
		     EP_STA_PAUSED, EP_STA_WAITING, EP_STA_ENDED, EP_STA_FATAL, EP_STA_QUIT,
		     EP_STA_PRELOADING };

/* Object types of "ot", in ep_cmcd_tokens[EP_CMCD_OT] order. */
enum ep_cmcd_ot { EP_OT_MANIFEST, EP_OT_AUDIO, EP_OT_VIDEO, EP_OT_MUXED, EP_OT_INIT,
		  EP_OT_CAPTION, EP_OT_TIMED_TEXT, EP_OT_KEY, EP_OT_OTHER };

extern const char *const ep_cmcd_key_names[EP_CMCD__KEYS];
extern const char *const ep_cmcd_tokens[EP_CMCD__KEYS];

#define EP_CMCD_MAX_KEYS 64 /* keys (custom ones included) in one report */

/* One report. */
struct ep_cmcd {
	uint64_t have;               /* bit per enum ep_cmcd_key */
	int64_t v[EP_CMCD__KEYS];    /* integer, decimal x1000, boolean 0/1, token index */
	uint32_t nkeys;              /* keys seen, custom ones included */
	char sid[65];                /* the session id, "" when absent */
};

static inline int ep_cmcd_has(const struct ep_cmcd *r, enum ep_cmcd_key k)
{
	return (int)((r->have >> k) & 1);
}

void ep_cmcd_init(struct ep_cmcd *r);

/*
 * Add the keys of one key-value list ("br=3200,bs,sid=\"6e2f\",ot=v") to r: a report
 * may come in several pieces (the four CMCD-* headers), and a key repeated across them
 * is refused too.
 * @return EP_CMCD_OK or the reason; detail (if not NULL) names the key or position
 */
enum ep_cmcd_err ep_cmcd_parse(struct ep_cmcd *r, const char *s, size_t len, char *detail,
			       size_t detail_len);

/*
 * Set one key from an already typed value (the JSON form): iv for INT/BOOL/DEC
 * (a decimal x1000), s/slen for STR/TOKEN (LIST: s NULL, checked by the caller).
 */
enum ep_cmcd_err ep_cmcd_set(struct ep_cmcd *r, const char *key, size_t klen,
			     enum ep_cmcd_type t, int64_t iv, const char *s, size_t slen,
			     char *detail, size_t detail_len);

/* The key named key[0..klen), -1 if CMCD defines none; its value type. */
int ep_cmcd_key_find(const char *key, size_t klen);
enum ep_cmcd_type ep_cmcd_key_type(enum ep_cmcd_key k);

#endif
