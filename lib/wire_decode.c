/* SPDX-License-Identifier: BSD-3-Clause */
/* wire_decode.c - wire protocol validating decoder: a message into a window. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"
#include "utf8.h"
#include "country.h"
#include "wire.h"

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)ep_be32(p) << 32 | ep_be32(p + 4);
}

void ep_wire_msg_free(struct ep_wire_msg *m)
{
	uint32_t i, k;

	for (i = 0; i < m->nasns; i++)
		for (k = 0; k < EP_AH__COUNT; k++)
			ep_hist_free((struct ep_hist *)m->asns[i].h[k]);
	free(m->asns);
	free(m->orgs);
	m->asns = NULL;
	m->orgs = NULL;
	m->nasns = 0;
}

static enum ep_wire_err decode_asn(struct ep_hist_codec *hc, const uint8_t *p, size_t len,
				   struct ep_wire_msg *m, unsigned dflags)
{
	struct ep_window_asn *a = &m->asns[m->nasns];
	size_t org_len, off;
	uint32_t k;

	if (len < 7)
		return EP_WIRE_E_ASN;
	memset(a, 0, sizeof(*a));
	a->asn = ep_be32(p);
	/* Two zero bytes, or an assigned ISO 3166-1 alpha-2 code. */
	if ((p[4] || p[5]) && !(a->cc = ep_cc_parse((const char *)p + 4, 2)))
		return EP_WIRE_E_COUNTRY;
	org_len = p[6];
	off = 7 + org_len;
	if (off + 8 * EP_AC__COUNT > len)
		return EP_WIRE_E_ASN;
	memcpy(m->orgs[m->nasns], p + 7, org_len);
	m->orgs[m->nasns][org_len] = '\0';
	if (memchr(p + 7, '\0', org_len))
		return EP_WIRE_E_ASN;
	if (!ep_utf8_valid((const char *)p + 7, org_len))
		return EP_WIRE_E_TEXT;
	a->org = m->orgs[m->nasns];
	for (k = 0; k < EP_AC__COUNT; k++, off += 8)
		a->c[k] = get_u64(p + off);
	m->nasns++; /* owned from here on: freed with the message */
	for (k = 0; k < EP_AH__COUNT; k++) {
		size_t hl;
		struct ep_hist *h;

		if (off + 2 > len)
			return EP_WIRE_E_ASN;
		hl = ep_be16(p + off);
		off += 2;
		if (off + hl > len)
			return EP_WIRE_E_ASN;
		if (hl && (dflags & EP_WIRE_DEC_RAW_HISTS)) {
			a->enc[k] = p + off;
			a->enc_len[k] = (uint32_t)hl;
		} else if (hl) {
			if (ep_hist_decode(hc, p + off, hl, &h) < 0)
				return EP_WIRE_E_HIST;
			a->h[k] = h;
		}
		off += hl;
	}
	return off == len ? EP_WIRE_OK : EP_WIRE_E_ASN;
}

enum ep_wire_err ep_wire_decode(struct ep_hist_codec *hc, const uint8_t *buf, size_t len,
				struct ep_wire_msg *m)
{
	return ep_wire_decode_ex(hc, buf, len, m, 0, NULL, 0);
}

enum ep_wire_err ep_wire_decode_ex(struct ep_hist_codec *hc, const uint8_t *buf, size_t len,
				   struct ep_wire_msg *m, unsigned dflags, const uint8_t *key,
				   size_t keylen)
{
	size_t off, probe_len;
	uint32_t nrec, i;
	enum ep_wire_err err = EP_WIRE_OK;

	memset(m, 0, sizeof(*m));
	if (len < EP_WIRE_FIXED_BYTES + 1 + 2)
		return EP_WIRE_E_SHORT;
	if (ep_be32(buf) != EP_WIRE_MAGIC)
		return EP_WIRE_E_MAGIC;
	if (buf[4] != EP_WIRE_VERSION)
		return EP_WIRE_E_VERSION;
	if (ep_be32(buf + 8) != len)
		return EP_WIRE_E_LENGTH;
	m->type = buf[5];
	m->flags = ep_be16(buf + 6);
	if (m->flags & ~EP_WIRE_F_HMAC)
		return EP_WIRE_E_HEADER;
	if (m->flags & EP_WIRE_F_HMAC) {
		if (len < EP_WIRE_FIXED_BYTES + 3 + EP_WIRE_HMAC_BYTES)
			return EP_WIRE_E_SHORT;
		len -= EP_WIRE_HMAC_BYTES;
		if (key) {
			uint8_t mac[EP_HMAC_SHA256_BYTES];

			if (ep_hmac_sha256(key, keylen, buf, len, mac) < 0 ||
			    !ep_hmac_equal(mac, buf + len, EP_WIRE_HMAC_BYTES))
				return EP_WIRE_E_AUTH;
			m->verified = 1;
		}
	} else if (key) {
		return EP_WIRE_E_AUTH;
	}
	m->epoch = get_u64(buf + 12);
	m->seq = get_u64(buf + 20);
	m->start_ns = get_u64(buf + 28);
	m->end_ns = get_u64(buf + 36);
	m->part = ep_be16(buf + 44);
	m->parts = ep_be16(buf + 46);
	probe_len = buf[48];
	if ((m->type != EP_WIRE_T_WINDOW && m->type != EP_WIRE_T_SUMMARY) ||
	    m->parts == 0 || m->part >= m->parts || probe_len < 1 ||
	    probe_len > EP_WIRE_PROBE_MAX || m->end_ns < m->start_ns)
		return EP_WIRE_E_HEADER;
	off = EP_WIRE_FIXED_BYTES;
	if (off + probe_len + 2 > len)
		return EP_WIRE_E_SHORT;
	memcpy(m->probe, buf + off, probe_len);
	m->probe[probe_len] = '\0';
	if (memchr(m->probe, '\0', probe_len))
		return EP_WIRE_E_HEADER;
	if (!ep_utf8_valid(m->probe, probe_len))
		return EP_WIRE_E_TEXT;
	off += probe_len;
	nrec = ep_be16(buf + off);
	off += 2;
	/* Each record takes at least 4 bytes: bound the allocation by the message. */
	if ((size_t)nrec * 4 > len - off)
		return EP_WIRE_E_RECORD;
	m->asns = calloc(nrec ? nrec : 1, sizeof(*m->asns));
	m->orgs = calloc(nrec ? nrec : 1, sizeof(*m->orgs));
	if (!m->asns || !m->orgs) {
		ep_wire_msg_free(m);
		return EP_WIRE_E_NOMEM;
	}
	for (i = 0; i < nrec && err == EP_WIRE_OK; i++) {
		uint8_t type;
		size_t rl;

		if (off + 4 > len) {
			err = EP_WIRE_E_RECORD;
			break;
		}
		type = buf[off];
		rl = ep_be16(buf + off + 2);
		off += 4;
		if (off + rl > len) {
			err = EP_WIRE_E_RECORD;
			break;
		}
		if (type == EP_WIRE_R_STATS) {
			size_t j;

			if (rl % 10 || m->has_stats) {
				err = EP_WIRE_E_RECORD;
				break;
			}
			m->has_stats = 1;
			for (j = 0; j < rl; j += 10) {
				uint16_t id = ep_be16(buf + off + j);

				if (id < EP_ST__COUNT)
					m->stats[id] = get_u64(buf + off + j + 2);
				else
					m->unknown_stats++;
			}
		} else if (type == EP_WIRE_R_ASN) {
			err = decode_asn(hc, buf + off, rl, m, dflags);
		} else if (type == EP_WIRE_R_DATASET) {
			if (rl > EP_WIRE_DATASET_MAX || memchr(buf + off, '\0', rl)) {
				err = EP_WIRE_E_RECORD;
				break;
			}
			if (!ep_utf8_valid((const char *)buf + off, rl)) {
				err = EP_WIRE_E_TEXT;
				break;
			}
			memcpy(m->dataset, buf + off, rl);
			m->dataset[rl] = '\0';
		} else if (type == EP_WIRE_R_SOURCE) {
			struct ep_source_stats *s = &m->src[m->nsrc];
			uint32_t k;

			if (rl != 4 + 8 * 4 || (buf[off] != EP_SRC_PORT && buf[off] != EP_SRC_WORKER)) {
				err = EP_WIRE_E_RECORD;
				break;
			}
			if (m->nsrc < EP_WINDOW_MAX_SOURCES) {
				s->kind = buf[off];
				s->id = ep_be16(buf + off + 2);
				for (k = 0; k < 4; k++)
					s->v[k] = get_u64(buf + off + 4 + 8 * k);
				m->nsrc++;
			}
		} /* unknown record types are skipped: newer probes may add some */
		off += rl;
	}
	if (err == EP_WIRE_OK && off != len)
		err = EP_WIRE_E_LENGTH;
	if (err != EP_WIRE_OK)
		ep_wire_msg_free(m);
	return err;
}
