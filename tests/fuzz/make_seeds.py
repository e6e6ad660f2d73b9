#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_seeds.py - seed corpora for the fuzz targets from real material: frames of a
scenario capture, the wire messages and histograms the probe exported for it, and
the test ASN file.  Usage: make_seeds.py CAPTURE.pcap WIRE_FILE JSON_LINES ASN_CSV OUTDIR"""
import base64
import json
import os
import struct
import sys

pcap, wire, js, asn, out = sys.argv[1:6]
for t in ("packets", "wire", "hist", "asn", "pcapfile"):
    os.makedirs(f"{out}/{t}", exist_ok=True)

data = open(pcap, "rb").read()
frames, off = [], 24
while off + 16 <= len(data):
    incl = struct.unpack_from("<I", data, off + 8)[0]
    frames.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
# Whole small captures for the file reader: the header and a few records, native and swapped.
for i in range(0, min(len(frames), 96), 12):
    hdr = data[:24]
    recs, o = [], 24
    for f in frames[i:i + 12]:
        recs.append(struct.pack("<IIII", 1700000000 + i, 1000 * i, len(f), len(f)) + f)
    open(f"{out}/pcapfile/seed{i // 12}", "wb").write(hdr + b"".join(recs))
    sw = struct.pack(">IHHiIII", *struct.unpack("<IHHiIII", hdr))
    open(f"{out}/pcapfile/seed{i // 12}.be", "wb").write(
        sw + b"".join(struct.pack(">IIII", *struct.unpack("<IIII", r[:16])) + r[16:] for r in recs))
# The same frames as small pcapng files: a section, two interfaces (microseconds and
# nanoseconds), enhanced packet blocks, a statistics block and a simple packet block.
def ng_block(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
for i in range(0, min(len(frames), 96), 12):
    ng = ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    ng += ng_block(1, struct.pack("<HHI", 1, 0, 65535))
    ng += ng_block(1, struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HHB3x", 9, 1, 9) + b"\0" * 4)
    for k, f in enumerate(frames[i:i + 12]):
        t = (1700000000 + i) * 10**(9 if k % 2 else 6) + k
        ng += ng_block(6, struct.pack("<IIIII", k % 2, t >> 32, t & 0xffffffff, len(f), len(f)) + f)
    ng += ng_block(5, struct.pack("<III", 0, 0, 0))
    if frames[i:i + 1]:
        ng += ng_block(3, struct.pack("<I", len(frames[i])) + frames[i])
    open(f"{out}/pcapfile/seed{i // 12}.ng", "wb").write(ng)
for i in range(0, len(frames), 24):
    rec = b"".join(bytes([1]) + struct.pack(">H", len(f)) + f for f in frames[i:i + 24])
    open(f"{out}/packets/seed{i // 24}", "wb").write(rec)

data, off, n = open(wire, "rb").read(), 0, 0
while off + 4 <= len(data):
    ln = struct.unpack_from(">I", data, off)[0]
    open(f"{out}/wire/seed{n}", "wb").write(data[off + 4:off + 4 + ln])
    off += 4 + ln
    n += 1

n = 0
for line in open(js):
    for a in json.loads(line)["asns"]:
        for k in ("rtt_hs", "rtt_data", "retx_ppm"):
            if a[k]["hdr"] and n < 200:
                open(f"{out}/hist/seed{n}", "wb").write(base64.b64decode(a[k]["hdr"]))
                open(f"{out}/hist/seed{n}.b64", "w").write(a[k]["hdr"])
                n += 1

open(f"{out}/asn/csv", "wb").write(open(asn, "rb").read())
open(f"{out}/asn/pfx2as", "w").write("10.0.0.0\t8\t64501\n10.1.0.0\t16\t64502_64503\n2001:db8::\t32\t{64504,64505}\n")

# The API's query strings: every endpoint and parameter, some of them wrong.
queries = [
    "/api/v1/asns?range=5m&sort=p90&metric=rtt_data&limit=10&spark=30",
    "/api/v1/asns?range=1h&sort=retx_rate&cursor=1&limit=1&probe=edge-a",
    "/api/v1/asns?end=1700000010&range=30s&sort=asn",
    "/api/v1/asns/64500/series?metric=rtt_hs&q=0.99&step=1s&range=10m",
    "/api/v1/asns/AS64500/histogram?range=1m&probe=edge-b",
    "/api/v1/asns/64501/heatmap?metric=rtt_data&step=100ms",
    "/api/v1/regressions?range=5m&baseline=1h&min_samples=1&limit=8",
    "/api/v1/probes?limit=1&cursor=1",
    "/metrics",
    "/api/v1/asns?range=%ff&end=inf&limit=0&cursor=-1",
]
os.makedirs(f"{out}/api", exist_ok=True)
for i, q in enumerate(queries):
    open(f"{out}/api/seed{i}", "w").write(q)

# CMCD reports: query-string and header forms, event-mode lines, JSON bodies.
cmcd = [
    'bl=21300,br=3200,bs,cid="faec5fc2",d=4004,dl=18500,mtp=48100,nor="../s.m4v",ot=v,rtp=12000,'
    'sf=d,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000',
    'e=ps,sta=r,ts=1700000000123,sn=7,pr=1.25,bg=?0,ec=("E1" "E2"),v=2,sid="s"\n'
    'e=ps,sta=p,ts=1700000002123,sn=8,v=2,sid="s"\n',
    '[{"sid":"a","sta":"s","ts":1700000000000,"sn":1,"v":2},{"sid":"a","msd":850,"mtp":5000}]',
    '{"br":800,"ot":"av","nor":["a","b"],"pr":1,"bs":true}',
    'br=1,br=2',
]
os.makedirs(f"{out}/cmcd", exist_ok=True)
for i, c in enumerate(cmcd):
    open(f"{out}/cmcd/seed{i}", "w").write(c)
