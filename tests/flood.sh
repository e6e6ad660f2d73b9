#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# flood.sh - a random-source SYN flood mixed with real flows (generated from the real ASN
# data) through edgeprobe-pcap with a small flow table: the table never exceeds its
# bound, only half-open flows are evicted, memory does not grow, and the real flows keep
# every RTT sample they give without the flood.  Usage: flood.sh PROBE GEN WORKDIR
set -eu
PROBE=$1 GEN=$2 OUT=$3
MAX=20000
mkdir -p "$OUT"
python3 "$GEN" "$OUT/flood.pcap" --flows 800 --seconds 10 --syn-flood 300000 --seed 5 \
	--asn-subset "$OUT/asn.csv" >/dev/null
python3 "$GEN" "$OUT/clean.pcap" --flows 800 --seconds 10 --seed 5 >/dev/null
for f in flood clean; do
	/usr/bin/time -f "%M" -o "$OUT/$f.rss" "$PROBE" --read "$OUT/$f.pcap" --asn-db "$OUT/asn.csv" \
		--local-net 192.0.2.0/24,2001:db8:ff::/48 --max-flows $MAX --json-out "$OUT/$f.json" --quiet
done
python3 - "$OUT" $MAX <<'PY'
import json, sys
out, cap = sys.argv[1], int(sys.argv[2])
def load(name):
    return [json.loads(l) for l in open(f"{out}/{name}.json")]
flood, clean = load("flood"), load("clean")
fs, cs = flood[-1], clean[-1]
def samples(summary, kind):
    return sum(a[kind]["n"] for a in summary["asns"] if a["asn"] != 0)
peak = max(w["stats"]["flows_active"] for w in flood)
rss = {n: int(open(f"{out}/{n}.rss").read()) for n in ("flood", "clean")}
st = fs["stats"]
kept = samples(fs, "rtt_data") / max(1, samples(cs, "rtt_data"))
print(f"flood: {st['packets']} packets, {st['flows_created']} flows created, peak active {peak} "
      f"(cap {cap}), evicted {st['flows_evicted']} (half-open {st['evict_halfopen']}), "
      f"RSS {rss['flood']} KB vs {rss['clean']} KB without the flood; real flows kept "
      f"{samples(fs, 'rtt_hs')}/{samples(cs, 'rtt_hs')} handshake and {kept:.1%} of in-flow samples")
ok = (peak <= cap and st["flows_evicted"] > 0 and st["flows_evicted"] == st["evict_halfopen"]
      and samples(fs, "rtt_hs") == samples(cs, "rtt_hs") and kept == 1.0
      and rss["flood"] <= rss["clean"] + cap * 200 // 1024 + 4096)
sys.exit(0 if ok else 1)
PY
