/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ep_wire.h - constants of the probe -> collector wire protocol (version 4).
 * docs/wire-protocol.md is the specification; all integers are big-endian.
 */
#ifndef EP_WIRE_CONST_H
#define EP_WIRE_CONST_H

#define EP_WIRE_MAGIC 0x45505031u /* "EPP1" */
#define EP_WIRE_VERSION 4
#define EP_WIRE_FIXED_BYTES 49    /* header up to and including probe_len */
#define EP_WIRE_PROBE_MAX 64
#define EP_WIRE_DEFAULT_PAYLOAD 1400
#define EP_WIRE_MAX_MESSAGE 65507 /* largest UDP payload */

/* Header flags. */
#define EP_WIRE_F_HMAC 0x0001      /* a 32-byte HMAC-SHA256 trailer ends the message */
#define EP_WIRE_HMAC_BYTES 32
#define EP_WIRE_KEY_MAX 256

/* Message types. */
#define EP_WIRE_T_WINDOW 1
#define EP_WIRE_T_SUMMARY 2

/* Record types. */
#define EP_WIRE_R_STATS 1 /* repeated { u16 stat id, u64 value }, zero values omitted */
#define EP_WIRE_R_ASN 2   /* u32 asn, u8 cc[2], u8 org_len, org, u64 counters[], 3 x { u16 len, hist } */
#define EP_WIRE_R_SOURCE 3 /* u8 kind, u8 0, u16 id, u64 v[4]: a port's or a worker's counters */
#define EP_WIRE_R_DATASET 4 /* UTF-8 text: the versions of the ASN and country data loaded */
#define EP_WIRE_DATASET_MAX 255

#define EP_WIRE_ORG_MAX 255

/* The ASN of the aggregate for ASNs beyond a table's capacity ("other"). */
#define EP_ASN_OTHER 0xffffffffu

#endif
