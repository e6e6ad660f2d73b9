/* SPDX-License-Identifier: BSD-3-Clause */
/* api_json.c - the API's JSON values built with jansson: ASN entries, histograms, ranges, pages. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "edgeprobe/ep_wire.h"

/* One dump into a buffer that grows as it goes (no size pass, no copy). */
void ep_api_send(struct ep_api_resp *r, int status, json_t *doc)
{
	struct ep_jw w = {0};

	ep_jw_value(&w, doc);
	ep_api_send_jw(r, status, &w);
}

void ep_api_send_jw(struct ep_api_resp *r, int status, struct ep_jw *w)
{
	size_t len;
	char *body = ep_jw_finish(w, 1, &len);

	r->status = body ? status : 500;
	r->body = body;
	r->len = body ? len : 0;
	r->ctype = "application/json";
}

int ep_api_dump(FILE *fp, json_t *v)
{
	int ret = v ? json_dumpf(v, fp, EP_JV_FLAGS) : -1;

	json_decref(v);
	return ret < 0 ? -ENOMEM : 0;
}

/* A histogram's count and quantiles; with no sample, the quantiles are null (not 0: not "fast"). */
static json_t *hist_json(const struct ep_shist *s, struct ep_hist *h, const char *unit,
			 struct ep_hist_codec *hdr)
{
	static const char *const q[] = {"min", "p50", "p90", "p99", "max"};
	json_t *o = json_object();
	char key[16];
	uint32_t i;

	ep_hist_reset(h);
	ep_shist_to_hist(s, h);
	if (!o)
		return NULL;
	json_object_set_new(o, "n", json_integer(h->total));
	for (i = 0; i < 5; i++) {
		int64_t v = i == 0   ? ep_hist_min(h)
			    : i == 4 ? ep_hist_max(h)
				     : ep_hist_percentile(h, i == 1   ? 50.0
							     : i == 2 ? 90.0
								      : 99.0);

		snprintf(key, sizeof(key), "%s%s", q[i], unit);
		json_object_set_new(o, key, h->total ? json_integer(v) : json_null());
	}
	if (hdr) {
		long cap = h->total ? ep_hist_encode(hdr, h, NULL, 0) / 3 * 4 + 8 : 8;
		char *b64 = malloc((size_t)cap);

		if (b64 && h->total && ep_hist_encode_b64(hdr, h, b64, (size_t)cap) > 0)
			json_object_set_new(o, "hdr", json_string(b64));
		else
			json_object_set_new(o, "hdr", json_string(""));
		free(b64);
	}
	ep_hist_reset(h);
	return o;
}

static json_t *cc_json(uint16_t cc)
{
	char s[3];

	return cc ? json_string(ep_cc_str(cc, s)) : json_null();
}

/* The key members of an entry of group g. */
static void entry_key(json_t *o, const struct ep_collector *c, enum ep_group g,
		      const struct ep_centry *e)
{
	char num[8];
	unsigned region;

	switch (g) {
	case EP_GROUP_COUNTRY:
		json_object_set_new(o, "country", cc_json(e->cc));
		json_object_set_new(o, "name", ep_jv_str(ep_cc_name(e->cc)));
		/* ISO 3166-1 numeric (as world maps key countries), null when unknown */
		snprintf(num, sizeof(num), "%03u", ep_cc_numeric(e->cc));
		json_object_set_new(o, "numeric",
				    ep_cc_numeric(e->cc) ? json_string(num) : json_null());
		region = ep_region_of(&c->regions, e->cc);
		json_object_set_new(o, "region",
				    region ? ep_jv_str(ep_region_name(&c->regions, region))
					   : json_null());
		break;
	case EP_GROUP_REGION:
		/* null: countries in no region, or unknown */
		json_object_set_new(o, "region",
				    e->asn ? ep_jv_str(ep_region_name(&c->regions, e->asn))
					   : json_null());
		break;
	case EP_GROUP_PAIR:
		json_object_set_new(o, "asn", json_integer(e->asn));
		json_object_set_new(o, "country", cc_json(e->cc));
		json_object_set_new(o, "org", ep_jv_str(ep_collector_org(c, e->asn)));
		break;
	default:
		json_object_set_new(o, "asn", json_integer(e->asn));
		json_object_set_new(o, "org", ep_jv_str(ep_collector_org(c, e->asn)));
		break;
	}
}

json_t *ep_api_entry_json(const struct ep_collector *c, enum ep_group g, const struct ep_centry *e,
			  struct ep_hist *scratch, struct ep_hist_codec *hdr)
{
	json_t *o = json_object(), *h;
	uint32_t k;

	if (!o)
		return NULL;
	entry_key(o, c, g, e);
	for (k = 0; k < EP_AC__COUNT; k++)
		json_object_set_new(o, ep_asn_counter_names[k], ep_jv_u64(e->c[k]));
	json_object_set_new(o, "retx_rate", ep_jv_real(ep_api_retx_rate(e), 6));
	for (k = 0; k < EP_AH__COUNT; k++) {
		h = hist_json(&e->h[k], scratch, k == EP_AH_RETX_PPM ? "" : "_us", hdr);
		if (!h || json_object_set_new(o, ep_asn_hist_names[k], h) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

void ep_api_range_json(json_t *o, const struct range *r, uint64_t step)
{
	json_object_set_new(o, "start_ns", ep_jv_u64(r->start));
	json_object_set_new(o, "end_ns", ep_jv_u64(r->end));
	json_object_set_new(o, "range_ns", ep_jv_u64(r->len));
	json_object_set_new(o, "resolution_ns", ep_jv_u64(step));
	json_object_set_new(o, "probe", ep_jv_str_or_null(r->probe ? r->probe : r->remote));
}

void ep_api_page_json(json_t *o, uint32_t total, uint32_t cursor, uint32_t limit)
{
	char next[16];

	snprintf(next, sizeof(next), "%" PRIu32, cursor + limit);
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "next_cursor",
			    (uint64_t)cursor + limit < total ? json_string(next) : json_null());
}
