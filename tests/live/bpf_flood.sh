#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bpf_flood.sh - a random-source SYN flood (300,000 SYNs), and a random-ACK flood (300,000
# ACKs), each mixed with 800 real flows from
# the real ASN data, replayed onto a veth through edgeprobe-bpf with --max-flows 8192
# (new-flow table 2,048), against the same real flows without the flood: the tables are
# preallocated (kernel memory fixed by --max-flows, reported), no map update fails, and
# the real flows keep most of their samples.  Reports the fractions kept; fails when
# in-flow samples fall below 95%.  Under the ACK flood, also when handshake samples fall
# below 50% (a real flow still in the new-flow table when the flood pushes it out loses
# its handshake sample only).  Under the SYN flood new flows are admitted by sampling
# (include/edgeprobe/ep_admit.h): fails when fewer than 95% of the real handshakes are
# either sampled or counted unsampled for their ASN (the flood's first window comes
# before admission engages), or when none is sampled.
#
# Usage: bpf_flood.sh EDGEPROBE_BPF GEN_TRAFFIC WORKDIR   (exit 77 without root/tcpreplay)
set -u
BPF=$1 GEN=$2 OUT=$3
NS=ep-bfl-$$
. "$(dirname "$0")/lib.sh"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v tcpreplay >/dev/null || skip "tcpreplay is not installed"
need_netns $NS
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log
[ -f "$OUT/syn.pcap" ] || python3 "$GEN" "$OUT/syn.pcap" --flows 800 --seconds 10 --syn-flood 300000 \
	--seed 5 --asn-subset "$OUT/asn.csv" >/dev/null || die "gen-traffic"
[ -f "$OUT/ack.pcap" ] || python3 "$GEN" "$OUT/ack.pcap" --flows 800 --seconds 10 --ack-flood 300000 \
	--seed 5 >/dev/null || die "gen-traffic"
[ -f "$OUT/clean.pcap" ] || python3 "$GEN" "$OUT/clean.pcap" --flows 800 --seconds 10 --seed 5 >/dev/null || die "gen-traffic"
ip -n $NS link add fla type veth peer name flb || die veth
ip -n $NS link set fla up && ip -n $NS link set flb up
for f in clean syn ack; do
	ip netns exec $NS "$BPF" --iface flb --asn-db "$OUT/asn.csv" --local-net 192.0.2.0/24,2001:db8:ff::/48 \
		--max-flows 8192 --json-out "$OUT/$f.json" 2>"$OUT/$f.log" &
	pid=$!
	for i in $(seq 100); do grep -q "attached to" "$OUT/$f.log" && break; sleep 0.1; done
	grep -q "attached to" "$OUT/$f.log" || die "edgeprobe-bpf did not attach: $(cat "$OUT/$f.log")"
	[ $f = syn ] && bpftool map show 2>/dev/null |
		awk '/name ep_flows|name ep_ftab/ {getline; print}' > "$OUT/maps.txt"
	ip netns exec $NS tcpreplay -q -i fla "$OUT/$f.pcap" >"$OUT/$f.tcpreplay" 2>&1 || die "tcpreplay"
	sleep 0.5
	kill -TERM $pid
	wait $pid || die "edgeprobe-bpf exited with an error"
done
fails=0
for kind in syn ack; do
python3 - "$OUT" $kind <<'PY' || fails=$((fails + 1))
import json, re, sys
out, kind = sys.argv[1], sys.argv[2]
def summ(n):
    return [json.loads(l) for l in open(f"{out}/{n}.json")][-1]
fs, cs = summ(kind), summ("clean")
def samples(s, k):
    return sum(a[k]["n"] for a in s["asns"] if a["asn"] != 0)
mem = sum(int(x) for x in re.findall(r"memlock (\d+)B", open(f"{out}/maps.txt").read()))
st = fs["stats"]
hs = samples(fs, "rtt_hs") / max(1, samples(cs, "rtt_hs"))
dt = samples(fs, "rtt_data") / max(1, samples(cs, "rtt_data"))
print(f"bpf {kind} flood: {st['packets']} packets, {st['flows_created']} flows created, map "
      f"updates failed {st['bpf_map_full']}, flows promoted {st['flows_promoted']}; flow tables "
      f"{mem / 2**20:.1f} MiB (preallocated by --max-flows 8192); real flows kept {hs:.1%} of "
      f"handshake and {dt:.1%} of in-flow samples ({samples(fs, 'rtt_data')}/{samples(cs, 'rtt_data')})")
uns = sum(a.get("syn_unsampled", 0) for a in fs["asns"] if a["asn"] != 0)
told = (samples(fs, "rtt_hs") + uns) / max(1, samples(cs, "rtt_hs"))
print(f"  handshakes counted unsampled {uns}: sampled or counted {told:.1%}; SYNs not admitted "
      f"{st['syn_unsampled']}, admission level at the end {st['syn_admit_level']}")
ok = st["bpf_map_full"] == 0 and dt >= 0.95
ok = ok and (hs >= 0.5 if kind == "ack" else told >= 0.95 and hs > 0 and st["syn_unsampled"] > 0)
if not ok:
    print(f"FAIL: bpf {kind} flood")
sys.exit(0 if ok else 1)
PY
done
exit $((fails > 0))
