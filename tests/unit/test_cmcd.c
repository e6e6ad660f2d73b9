/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cmcd.c - CMCD reports: v1 request keys, v2 event-mode keys, reports in pieces
 * (the CMCD-* headers), the JSON path's setter, and each refusal with its reason.
 */
#include <string.h>

#include "check.h"
#include "cmcd.h"

static enum ep_cmcd_err parse(struct ep_cmcd *r, const char *s)
{
	char detail[96];

	ep_cmcd_init(r);
	return ep_cmcd_parse(r, s, strlen(s), detail, sizeof(detail));
}

static void refuse(const char *s, enum ep_cmcd_err want, const char *detail_has)
{
	struct ep_cmcd r;
	char detail[96] = "";
	enum ep_cmcd_err e;

	ep_cmcd_init(&r);
	e = ep_cmcd_parse(&r, s, strlen(s), detail, sizeof(detail));
	if (e != want || !strstr(detail, detail_has))
		fprintf(stderr, "'%s': got %s '%s', want %s '%s'\n", s, ep_cmcd_err_names[e],
			detail, ep_cmcd_err_names[want], detail_has);
	CHECK_EQ(e, want);
	CHECK(strstr(detail, detail_has) != NULL);
}

int main(void)
{
	struct ep_cmcd r;
	char detail[96];
	int i;

	/* The lookup is a binary search: the names must be in strcmp order. */
	for (i = 1; i < EP_CMCD__KEYS; i++)
		CHECK(strcmp(ep_cmcd_key_names[i - 1], ep_cmcd_key_names[i]) < 0);
	for (i = 0; i < EP_CMCD__KEYS; i++)
		CHECK_EQ(ep_cmcd_key_find(ep_cmcd_key_names[i], strlen(ep_cmcd_key_names[i])), i);
	CHECK_EQ(ep_cmcd_key_find("zz", 2), -1);

	/* v1, as a player puts it in the query string (already percent-decoded). */
	CHECK_EQ(
	    parse(&r,
		  "bl=21300,br=3200,bs,cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\","
		  "d=4004,dl=18500,mtp=48100,nor=\"..%2F300kbps%2Ftrack.m4v\",ot=v,"
		  "rtp=12000,sf=d,sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\",st=v,su,tb=6000"),
	    EP_CMCD_OK);
	CHECK_EQ(r.v[EP_CMCD_BL], 21300);
	CHECK_EQ(r.v[EP_CMCD_BR], 3200);
	CHECK_EQ(r.v[EP_CMCD_BS], 1);
	CHECK_EQ(r.v[EP_CMCD_SU], 1);
	CHECK_EQ(r.v[EP_CMCD_MTP], 48100);
	CHECK_EQ(r.v[EP_CMCD_OT], EP_OT_VIDEO);
	CHECK(!strcmp(r.sid, "6e2fb550-c457-11e9-bb97-0800200c9a66"));
	CHECK(ep_cmcd_has(&r, EP_CMCD_CID));
	CHECK(!ep_cmcd_has(&r, EP_CMCD_STA));

	/* v2 event mode: a play-state change, with a decimal, ?0 and a list. */
	CHECK_EQ(parse(&r, "e=ps,sta=r,ts=1700000000123,sn=7,pr=1.25,bg=?0,"
			   "ec=(\"E1\" \"E2\"),v=2,sid=\"s\",com.example-x=\"custom\""),
		 EP_CMCD_OK);
	CHECK_EQ(r.v[EP_CMCD_E], 0);
	CHECK_EQ(r.v[EP_CMCD_STA], EP_STA_REBUFFERING);
	CHECK_EQ(r.v[EP_CMCD_TS], 1700000000123LL);
	CHECK_EQ(r.v[EP_CMCD_SN], 7);
	CHECK_EQ(r.v[EP_CMCD_PR], 1250);
	CHECK_EQ(r.v[EP_CMCD_BG], 0);
	CHECK_EQ(r.v[EP_CMCD_V], 2);

	/* In pieces (CMCD-Object, CMCD-Request, CMCD-Session, CMCD-Status). */
	ep_cmcd_init(&r);
	CHECK_EQ(ep_cmcd_parse(&r, "br=800,d=2000,ot=av", 19, detail, sizeof(detail)), EP_CMCD_OK);
	CHECK_EQ(ep_cmcd_parse(&r, "bl=3000, mtp=5000", 17, detail, sizeof(detail)), EP_CMCD_OK);
	CHECK_EQ(ep_cmcd_parse(&r, "", 0, detail, sizeof(detail)), EP_CMCD_OK);
	CHECK_EQ(ep_cmcd_parse(&r, "bs,br=1", 7, detail, sizeof(detail)), EP_CMCD_E_repeated_key);

	/* The JSON path: typed values through the same checks. */
	ep_cmcd_init(&r);
	CHECK_EQ(ep_cmcd_set(&r, "msd", 3, EP_CMCD_INT, 850, NULL, 0, detail, sizeof(detail)),
		 EP_CMCD_OK);
	CHECK_EQ(ep_cmcd_set(&r, "sta", 3, EP_CMCD_TOKEN, 0, "p", 1, detail, sizeof(detail)),
		 EP_CMCD_OK);
	CHECK_EQ(r.v[EP_CMCD_STA], EP_STA_PLAYING);
	CHECK_EQ(ep_cmcd_set(&r, "bl", 2, EP_CMCD_STR, 0, "10", 2, detail, sizeof(detail)),
		 EP_CMCD_E_bad_type);
	CHECK_EQ(ep_cmcd_set(&r, "msd", 3, EP_CMCD_INT, 1, NULL, 0, detail, sizeof(detail)),
		 EP_CMCD_E_repeated_key);

	/* Refusals, each with its reason. */
	refuse("br=1,br=2", EP_CMCD_E_repeated_key, "'br'");
	refuse("xyz=1", EP_CMCD_E_unknown_key, "'xyz'");
	refuse("bl=\"100\"", EP_CMCD_E_bad_type, "'bl'");
	refuse("sid=12", EP_CMCD_E_bad_type, "'sid'");
	refuse("bs=3", EP_CMCD_E_bad_type, "'bs'");
	refuse("br=1.5", EP_CMCD_E_bad_type, "'br'");
	refuse("bl=-1", EP_CMCD_E_out_of_range, "'bl'");
	refuse("msd=3600001", EP_CMCD_E_out_of_range, "'msd'");
	refuse("v=3", EP_CMCD_E_out_of_range, "'v'");
	refuse("sta=x", EP_CMCD_E_out_of_range, "'sta'");
	refuse("ot=video", EP_CMCD_E_out_of_range, "'ot'");
	refuse("sid=\"\"", EP_CMCD_E_out_of_range, "'sid'");
	refuse("sid=\"0123456789012345678901234567890123456789012345678901234567890123X\"",
	       EP_CMCD_E_too_long, "'sid'");
	refuse("br=1234567890123456", EP_CMCD_E_syntax, "'br'");
	refuse("br=1,", EP_CMCD_E_syntax, "after 'br'");
	refuse("br=1;x", EP_CMCD_E_syntax, "after 'br'");
	refuse("Br=1", EP_CMCD_E_syntax, "a key expected");
	refuse("cid=\"a\x01\"", EP_CMCD_E_syntax, "'cid'");
	refuse("cid=\"open", EP_CMCD_E_syntax, "'cid'");
	refuse("ec=(\"a\" 1)", EP_CMCD_E_syntax, "'ec'");
	refuse("pr=1.", EP_CMCD_E_syntax, "'pr'");
	refuse("bg=?2", EP_CMCD_E_syntax, "'bg'");
	refuse(",br=1", EP_CMCD_E_syntax, "a key expected");
	refuse("br=", EP_CMCD_E_syntax, "'br'");
	{
		char many[1024] = "";

		for (i = 0; i < EP_CMCD_MAX_KEYS + 1; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sx-%d",
				 i ? "," : "", i);
		refuse(many, EP_CMCD_E_too_long, "too many keys");
	}
	/* A detail shows printable characters only. */
	ep_cmcd_init(&r);
	CHECK_EQ(ep_cmcd_parse(&r, "\x1b[2J", 4, detail, sizeof(detail)), EP_CMCD_E_syntax);
	CHECK(!strchr(detail, '\x1b'));
	CHECK_DONE();
}
