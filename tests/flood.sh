#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# flood.sh - a random-source SYN flood, and a random-ACK flood, each mixed with real flows
# (generated from the real ASN data), through edgeprobe-pcap and, when built, edgeprobe
# (DPDK, net_pcap; given EDGEPROBE, only that one) with a small flow table: the table never exceeds its bound, only
# half-open flows (one side heard) are evicted, memory does not grow, and the real flows
# keep every RTT sample they give without the flood.
# Usage: flood.sh PROBE GEN WORKDIR [EDGEPROBE]
set -eu
PROBE=$1 GEN=$2 OUT=$3 EP=${4:-}
MAX=20000
mkdir -p "$OUT"
python3 "$GEN" "$OUT/syn.pcap" --flows 800 --seconds 10 --syn-flood 300000 --seed 5 \
	--asn-subset "$OUT/asn.csv" >/dev/null
python3 "$GEN" "$OUT/ack.pcap" --flows 800 --seconds 10 --ack-flood 300000 --seed 5 >/dev/null
python3 "$GEN" "$OUT/clean.pcap" --flows 800 --seconds 10 --seed 5 >/dev/null
probes=pcap
[ -n "$EP" ] && probes=dpdk
fails=0
for probe in $probes; do
	for f in clean syn ack; do
		common=(--asn-db "$OUT/asn.csv" --local-net 192.0.2.0/24,2001:db8:ff::/48 --max-flows $MAX
			--json-out "$OUT/$f.$probe.json" --quiet)
		if [ $probe = pcap ]; then
			/usr/bin/time -f "%M" -o "$OUT/$f.$probe.rss" "$PROBE" --read "$OUT/$f.pcap" "${common[@]}"
		else
			/usr/bin/time -f "%M" -o "$OUT/$f.$probe.rss" "$EP" -l 0,1 --no-huge --no-pci -m 512 \
				--file-prefix fl$$ --vdev "net_pcap0,rx_pcap=$OUT/$f.pcap" -- \
				--stop-after-idle 300 --stats-interval 0 "${common[@]}"
		fi
	done
	for kind in syn ack; do
		python3 - "$OUT" $MAX $probe $kind <<'PY' || fails=$((fails + 1))
import json, sys
out, cap, probe, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    return [json.loads(l) for l in open(f"{out}/{name}.{probe}.json")]
flood, clean = load(kind), load("clean")
fs, cs = flood[-1], clean[-1]
def samples(summary, k):
    return sum(a[k]["n"] for a in summary["asns"] if a["asn"] != 0)
peak = max(w["stats"]["flows_active"] for w in flood)
rss = {n: int(open(f"{out}/{n}.{probe}.rss").read()) for n in (kind, "clean")}
st = fs["stats"]
kept = samples(fs, "rtt_data") / max(1, samples(cs, "rtt_data"))
print(f"{kind} flood through {probe}: {st['packets']} packets, {st['flows_created']} flows "
      f"created, peak active {peak} (cap {cap}), evicted {st['flows_evicted']} (half-open "
      f"{st['evict_halfopen']}), RSS {rss[kind]} KB vs {rss['clean']} KB without the flood; "
      f"real flows kept {samples(fs, 'rtt_hs')}/{samples(cs, 'rtt_hs')} handshake and "
      f"{kept:.1%} of in-flow samples")
ok = (peak <= cap and st["flows_evicted"] > 0 and st["flows_evicted"] == st["evict_halfopen"]
      and samples(fs, "rtt_hs") == samples(cs, "rtt_hs") and kept == 1.0
      and rss[kind] <= rss["clean"] + cap * 200 // 1024 + 4096)
if not ok:
    print(f"FAIL: {kind} flood through {probe}")
sys.exit(0 if ok else 1)
PY
	done
done
exit $((fails > 0))
