#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bpf_replay.sh - the scenario captures, and one mutated at random (editcap -E), replayed
# onto a veth (tcpreplay) through edgeprobe-bpf, with TC on ingress and again with XDP
# (--xdp), give the same counts as edgeprobe-pcap --read on the files: every parse class
# (malformations included; not_ip/not_tcp may be higher: the kernel's own ICMPv6), flows
# created, closed and active, and per ASN flows opened and closed, segments and
# retransmissions each way, and the number of handshake, in-flow and retransmission-share
# samples, per (ASN, country) with the scenario's country file.  The two probes share the parser and the tracking rules as source, so any
# difference is a bug.  (RTT values differ: the BPF path timestamps at replay time.)
#
# Usage: bpf_replay.sh EDGEPROBE_BPF EDGEPROBE_PCAP GEN WORKDIR   (exit 77 without root)
set -u
BPF=$1 PCAP_PROBE=$2 GEN=$3 OUT=$4
NS=ep-rply-$$
. "$(dirname "$0")/lib.sh"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v tcpreplay >/dev/null || skip "tcpreplay is not installed (scripts/setup installs it)"
need_netns $NS
mkdir -p "$OUT"
rm -f "$OUT"/*.json
"$GEN" "$OUT" >/dev/null || die "generating the scenario captures"
command -v editcap >/dev/null || skip "editcap (wireshark-common) is not installed (scripts/setup installs it)"
editcap -E 0.02 --seed 7 "$OUT/mixed.pcap" "$OUT/mutated.pcap" 2>/dev/null || die "editcap"
cp "$OUT/mixed.truth.json" "$OUT/mutated.truth.json"
ip -n $NS link add rpa type veth peer name rpb || die "veth"
ip -n $NS link set rpa up && ip -n $NS link set rpb up
# No offloads in the way of the raw frames.
ip netns exec $NS ethtool -K rpb rx off gro off >/dev/null 2>&1 || true

fails=0
for mode in tc xdp; do
xdp=; [ $mode = xdp ] && xdp=--xdp
for name in mixed dense mutated; do
	# The ASN data with its countries: AS64501 is two aggregates (DE, FR) in both probes.
	asnf=$(python3 -c "import json;t=json.load(open('$OUT/$name.truth.json'));print(t['asn_file'] + ',' + t['country_file'])")
	local_net=$(python3 -c "import json;print(json.load(open('$OUT/$name.truth.json'))['local_net'])")
	"$PCAP_PROBE" --read "$OUT/$name.pcap" --asn-db "$asnf" --local-net "$local_net" \
		--json-out "$OUT/$name.ref.json" --quiet || die "edgeprobe-pcap on $name"
	ip netns exec $NS "$BPF" --iface rpb $xdp --asn-db "$asnf" --local-net "$local_net" \
		--json-out "$OUT/$name.bpf.json" 2>"$OUT/$name.bpf.log" &
	pid=$!
	for i in $(seq 100); do grep -q "attached to" "$OUT/$name.bpf.log" && break; sleep 0.1; done
	grep -q "attached to" "$OUT/$name.bpf.log" || die "edgeprobe-bpf did not attach: $(cat "$OUT/$name.bpf.log")"
	ip netns exec $NS tcpreplay -q -i rpa "$OUT/$name.pcap" >"$OUT/$name.tcpreplay.txt" 2>&1 ||
		die "tcpreplay $name: $(cat "$OUT/$name.tcpreplay.txt")"
	sleep 0.5
	kill -TERM $pid
	wait $pid || die "edgeprobe-bpf exited with an error"
	grep -o "XDP on ingress in [a-z ()]* mode" "$OUT/$name.bpf.log"
	python3 - "$OUT/$name.ref.json" "$OUT/$name.bpf.json" "$name ($mode)" <<'PY' || fails=$((fails + 1))
import json, sys
rsum = [json.loads(l) for l in open(sys.argv[1])][-1]
gsum = [json.loads(l) for l in open(sys.argv[2])][-1]
ref = {(a["asn"], a["country"]): a for a in rsum["asns"]}
got = {(a["asn"], a["country"]): a for a in gsum["asns"]}
name, bad = sys.argv[3], []
for k, v in rsum["stats"].items():
    if not (k.startswith("parse_") or k in ("flows_created", "flows_closed", "flows_active")):
        continue
    g = gsum["stats"].get(k, 0)
    if (g < v) if k in ("parse_not_ip", "parse_not_tcp") else (g != v):
        bad.append(f"{k} {g} != {v}")
if set(ref) != set(got):
    bad.append(f"(ASN, country) keys {sorted(got, key=str)} != {sorted(ref, key=str)}")
if (64501, "DE") not in ref or (64501, "FR") not in ref:
    bad.append(f"AS64501 is not split into DE and FR: {sorted(ref, key=str)}")
for asn, r in ref.items():
    g = got.get(asn)
    if not g:
        continue
    for k in ("flows_new", "flows_closed", "segs_out", "segs_in", "retx_out", "retx_in"):
        if g[k] != r[k]:
            bad.append(f"AS{asn[0]}/{asn[1]} {k} {g[k]} != {r[k]}")
    for h in ("rtt_hs", "rtt_data", "retx_ppm"):
        if g[h]["n"] != r[h]["n"]:
            bad.append(f"AS{asn[0]}/{asn[1]} {h} n {g[h]['n']} != {r[h]['n']}")
for b in bad:
    print(f"FAIL: {name}: {b}")
if not bad:
    print(f"ok: {name}: {len(ref)} (ASN, country) aggregates, {rsum['stats']['packets']} frames: every parse class, "
          f"flow count, per-ASN counter and sample count equal to edgeprobe-pcap --read")
sys.exit(1 if bad else 0)
PY
done
done
exit $((fails > 0))
