#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# flood.sh - a random-source SYN flood, and a random-ACK flood, each mixed with real flows
# (generated from the real ASN data), through edgeprobe-pcap and, when built, edgeprobe
# (DPDK, net_pcap; given EDGEPROBE, only that one) with a small flow table: the table never
# exceeds its bound, only half-open flows (one side heard) are evicted, memory does not
# grow.  Under the ACK flood the real flows keep every RTT sample they give without it.
# Under a SYN flood new flows are admitted by sampling (include/edgeprobe/ep_admit.h):
# every real handshake is either sampled or counted unsampled for its ASN, and in-flow
# samples are kept (but for a flow picked up after its handshake whose first request
# goes out before the remote was heard: <= 2 %).  Then (edgeprobe-pcap) the issue's case:
# 1,000,000 spoofed SYNs in 6 s, --max-flows 100000, the busiest ISP 612 ms away and
# every handshake exactly its ISP's RTT: each ISP's surviving handshakes have its RTT
# as p50 (HDR precision), the far ISP's included, and survive in the same share as the
# others' (oldest-first eviction kept none of the far ISP's).
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
unsampled = sum(a.get("syn_unsampled", 0) for a in fs["asns"] if a["asn"] != 0)
print(f"  handshakes not sampled (counted per ASN): {unsampled}, admission level at the end "
      f"{st['syn_admit_level']}, SYNs not admitted {st['syn_unsampled']}")
ok = (peak <= cap and st["flows_evicted"] > 0 and st["flows_evicted"] == st["evict_halfopen"]
      and rss[kind] <= rss["clean"] + cap * 200 // 1024 + 4096)
if kind == "ack":
    ok = ok and samples(fs, "rtt_hs") == samples(cs, "rtt_hs") and kept == 1.0
else:
    ok = ok and st["syn_unsampled"] > 0 and kept >= 0.98
    per_f = {a["asn"]: a for a in fs["asns"]}
    for a in cs["asns"]:
        b = per_f.get(a["asn"], {"rtt_hs": {"n": 0}, "syn_unsampled": 0})
        if a["asn"] and b["rtt_hs"]["n"] + b.get("syn_unsampled", 0) != a["rtt_hs"]["n"]:
            print(f"AS{a['asn']}: {b['rtt_hs']['n']} handshakes sampled + "
                  f"{b.get('syn_unsampled', 0)} unsampled under the flood, {a['rtt_hs']['n']} without")
            ok = False
if not ok:
    print(f"FAIL: {kind} flood through {probe}")
sys.exit(0 if ok else 1)
PY
	done
done

# The issue's case: a far ISP under a million spoofed SYNs (edgeprobe-pcap).
if [ -z "$EP" ]; then
	FAR=(--flows 3000 --seconds 6 --far-rtt 612 --hs-exact --seed 9 --asn-subset "$OUT/far-asn.csv")
	python3 "$GEN" "$OUT/far-clean.pcap" "${FAR[@]}" --truth "$OUT/far-truth.json" >/dev/null
	python3 "$GEN" "$OUT/far.pcap" "${FAR[@]}" --syn-flood 1000000 >/dev/null
	for f in far-clean far; do
		"$PROBE" --read "$OUT/$f.pcap" --asn-db "$OUT/far-asn.csv" --quiet \
			--local-net 192.0.2.0/24,2001:db8:ff::/48 --max-flows 100000 --json-out "$OUT/$f.json"
	done
	python3 - "$OUT" <<'PY' || fails=$((fails + 1))
import json, math, sys
out = sys.argv[1]
truth = {i["asn"]: i["rtt_ms"] for i in json.load(open(f"{out}/far-truth.json"))}
far = json.load(open(f"{out}/far-truth.json"))[0]["asn"]
last = lambda n: [json.loads(l) for l in open(f"{out}/{n}.json")][-1]
cs, fs = last("far-clean"), last("far")
clean = {a["asn"]: a for a in cs["asns"]}
flood = {a["asn"]: a for a in fs["asns"]}
st, fails = fs["stats"], []
tot_c = sum(a["rtt_hs"]["n"] for k, a in clean.items() if k)
tot_f = sum(a["rtt_hs"]["n"] for k, a in flood.items() if k)
share = tot_f / tot_c
print(f"far-ISP flood: {st['packets']} packets, {st['syn_unsampled']} SYNs not admitted, "
      f"{st['flows_evicted']} half-open flows evicted; {tot_f} of {tot_c} real handshakes "
      f"sampled ({share:.1%})")
for asn, a in clean.items():
    if not asn:
        continue
    b = flood.get(asn, {"rtt_hs": {"n": 0, "p50_us": 0}, "syn_unsampled": 0})
    n_c, n_f, uns = a["rtt_hs"]["n"], b["rtt_hs"]["n"], b.get("syn_unsampled", 0)
    want = truth[asn] * 1000
    if n_f + uns != n_c:
        fails.append(f"AS{asn}: {n_f} sampled + {uns} unsampled, {n_c} handshakes")
    if n_f and abs(b["rtt_hs"]["p50_us"] - want) > want / 100 + 1:
        fails.append(f"AS{asn}: survivors' handshake p50 {b['rtt_hs']['p50_us']} us, truth {want:.0f} us")
    if asn == far:
        sd = math.sqrt(n_c * share * (1 - share))
        print(f"  the far ISP AS{asn} ({want / 1000:.0f} ms): {n_f} of {n_c} handshakes sampled "
              f"(p50 {b['rtt_hs']['p50_us']} us), {uns} counted unsampled; expected "
              f"{n_c * share:.0f} +- {sd:.0f} at the overall share")
        if not n_f or abs(n_f - n_c * share) > 4 * sd + 1:
            fails.append(f"far AS{asn}: {n_f} of {n_c} sampled, the overall share is {share:.1%}")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
fi
exit $((fails > 0))
