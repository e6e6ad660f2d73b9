#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# one_way.sh - what the probe reports when it sees one direction only (asymmetric routing,
# ECMP, a one-way mirror), as docs/operations.md "Placement" says: a generated capture
# (real ASN data) is split with tcpdump into the local side's packets and the remote
# side's.  Each half gives: every flow counted as created and closed, flows_one_way equal
# to flows_closed (the full capture: none), no RTT sample of either kind, and, per ASN,
# exactly the full capture's segments and retransmissions of the direction it holds (and
# none of the other), so retransmission shares stay right on a one-way mirror.
# Usage: one_way.sh EDGEPROBE_PCAP GEN WORKDIR
set -eu
PROBE=$1 GEN=$2 OUT=$3
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump is not installed"; exit 77; }
mkdir -p "$OUT"
python3 "$GEN" "$OUT/two.pcap" --flows 600 --seconds 10 --seed 7 --asn-subset "$OUT/asn.csv" \
	>/dev/null
LOCAL='src net 192.0.2.0/24 or src net 2001:db8:ff::/48'
tcpdump -r "$OUT/two.pcap" -w "$OUT/out.pcap" "$LOCAL" 2>/dev/null
tcpdump -r "$OUT/two.pcap" -w "$OUT/in.pcap" "not ($LOCAL)" 2>/dev/null
for f in two out in; do
	"$PROBE" --read "$OUT/$f.pcap" --asn-db "$OUT/asn.csv" --quiet \
		--local-net 192.0.2.0/24,2001:db8:ff::/48 --json-out "$OUT/$f.json"
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def summary(name):
    s = [json.loads(l) for l in open(f"{out}/{name}.json")][-1]
    return s["stats"], {a["asn"]: a for a in s["asns"]}
two_st, two = summary("two")
fails = 0
def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)
if two_st["flows_one_way"] or two_st["flows_closed"] != 600:
    fail(f"full capture: {two_st['flows_one_way']} one-way of {two_st['flows_closed']} flows")
for name, seen, unseen in (("out", ("segs_out", "retx_out"), ("segs_in", "retx_in")),
                           ("in", ("segs_in", "retx_in"), ("segs_out", "retx_out"))):
    st, per = summary(name)
    if st["flows_closed"] != 600 or st["flows_one_way"] != st["flows_closed"]:
        fail(f"{name}: flows_one_way {st['flows_one_way']}, flows_closed {st['flows_closed']}")
    samples = sum(a[h]["n"] for a in per.values() for h in ("rtt_hs", "rtt_data"))
    if samples:
        fail(f"{name}: {samples} RTT samples from one direction")
    bad = [(asn, k) for asn, a in two.items() for k in seen + unseen + ("flows_new",)
           if per.get(asn, {}).get(k, 0) != (0 if k in unseen else a[k])]
    if bad:
        fail(f"{name}: {len(bad)} per-ASN counts differ from the full capture's, e.g. {bad[:3]}")
    if not fails:
        tot = {k: sum(a[k] for a in per.values()) for k in seen}
        print(f"ok: {name} only: {st['flows_one_way']} of {st['flows_closed']} flows one-way, "
              f"0 RTT samples, {len(per)} ASNs' {seen[0]} / {seen[1]} ({tot[seen[0]]} / "
              f"{tot[seen[1]]}) equal the full capture's, {unseen[0]} 0")
if not fails:
    print(f"ok: full capture: 0 one-way of {two_st['flows_closed']} flows")
sys.exit(1 if fails else 0)
PY
