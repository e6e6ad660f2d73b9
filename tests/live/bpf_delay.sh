#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bpf_delay.sh - edgeprobe-bpf on real kernel TCP through two "ISPs" with real delay and loss.
#
# ns SRV (192.0.2.1 on bridge br0, HTTP) reaches two client namespaces through two
# userspace delay/loss bridges (tests/live/delay_bridge.py, TAP devices):
#   ISP A: 192.0.2.11, AS64511, 5 ms each way, 1% of data frames lost
#   ISP B: 192.0.2.12, AS64512, 20 ms each way, 2% of data frames lost
# edgeprobe-bpf runs on br0 (TC ingress + egress) in the server namespace; tcpdump records
# br0 for edgeprobe-pcap; ss -ti samples the kernel's srtt per client.  Per ASN it asserts:
#  - handshake RTT p50 within 5% (+ the bridge's lateness) of the injected RTT;
#  - in-flow RTT p50 within 10% (+ the bridge's p99 lateness, as for the handshake) of the kernel's srtt
#    median, and within 5% of edgeprobe-pcap's on the same traffic;
#  - retransmissions between the bridge's drops towards that client and twice them + 5;
#  - the same connections as edgeprobe-pcap on the capture, retransmissions within 10%;
#  - segments towards each client: what the downloads need (GSO super-packets counted as
#    their segments).
#
# Usage: bpf_delay.sh EDGEPROBE_BPF EDGEPROBE_PCAP BRIDGE WORKDIR   (exit 77 without root)
set -u
BPF=$1 PCAP_PROBE=$2 BRIDGE=$3 OUT=$4
NS_S=ep-bsrv-$$ NS_A=ep-bca-$$ NS_B=ep-bcb-$$
. "$(dirname "$0")/lib.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
need_netns $NS_S $NS_A $NS_B
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.pcap "$OUT"/*.txt

ip -n $NS_S link add br0 type bridge && ip -n $NS_S link set br0 up || die "bridge"
ns_addr $NS_S br0 192.0.2.1/24
delay_isp A epsa$$ epca$$ $NS_A 192.0.2.11 5 0.01 3
delay_isp B epsb$$ epcb$$ $NS_B 192.0.2.12 20 0.02 5

head -c 2000000 /dev/urandom > "$OUT/blob"
printf '192.0.2.11,192.0.2.11,64511,Near ISP\n192.0.2.12,192.0.2.12,64512,Far ISP\n' > "$OUT/asn.csv"
http_server $NS_S 192.0.2.1 "$OUT" $NS_A asn.csv
ip netns exec $NS_B curl -s -o /dev/null --max-time 5 http://192.0.2.1:8080/asn.csv || die "client B"

ip netns exec $NS_S "$BPF" --iface br0 --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
	--json-out "$OUT/bpf.json" 2>"$OUT/bpf.log" &
BPPID=$!
for i in $(seq 100); do grep -q "attached to br0" "$OUT/bpf.log" && break; sleep 0.1; done
grep -q "attached to br0" "$OUT/bpf.log" || die "edgeprobe-bpf did not attach: $(cat "$OUT/bpf.log")"
ip netns exec $NS_S tcpdump -Z root --immediate-mode -i br0 -s 160 -U -w "$OUT/ref.pcap" 'tcp port 8080' 2>/dev/null &
TDPID=$!
( while :; do ip netns exec $NS_S ss -tin state established '( sport = :8080 )' 2>/dev/null |
	awk '/192.0.2.1[12]/ {peer=$4} / rtt:/ {match($0, / rtt:[0-9.]*/); print peer, substr($0, RSTART+5, RLENGTH-5)}';
	sleep 0.01; done ) > "$OUT/ss.txt" &
SSPID=$!
sleep 1
for c in A B; do
	ns=$NS_A; [ $c = B ] && ns=$NS_B
	( for i in 1 2 3; do
		ip netns exec $ns curl -s -o /dev/null --max-time 120 http://192.0.2.1:8080/blob || exit 1
	done ) &
	eval "DL_$c=$!"
done
wait $DL_A || die "downloads over ISP A"
wait $DL_B || die "downloads over ISP B"
sleep 1
kill $SSPID
kill -INT $TDPID
kill -TERM $BPPID
wait $BPPID || die "edgeprobe-bpf exited with an error: $(tail -3 "$OUT/bpf.log")"
wait $TDPID 2>/dev/null
kill -TERM $BR_A $BR_B
wait $BR_A $BR_B 2>/dev/null
# The filters are gone after a clean exit.
ip netns exec $NS_S tc filter show dev br0 ingress | grep -q . && die "a filter is left on br0 ingress"
"$PCAP_PROBE" --read "$OUT/ref.pcap" --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
	--json-out "$OUT/ref.json" --quiet || die "edgeprobe-pcap on the reference capture"
grep "processed by the verifier" "$OUT/bpf.log" | sed 's/^[^ ]* [a-z]*: //'

python3 - "$OUT" <<'PY'
import json, re, statistics, sys
out = sys.argv[1]
def asns(path):
    s = [json.loads(l) for l in open(path)][-1]
    return s, {a["asn"]: a for a in s["asns"]}
bs, b = asns(f"{out}/bpf.json")
_, r = asns(f"{out}/ref.json")
srtt = {}
for line in open(f"{out}/ss.txt"):
    p = line.split()
    if len(p) == 2:
        srtt.setdefault(p[0].rsplit(":", 1)[0], []).append(float(p[1]) * 1000)
fails = []
for asn, addr, one_way, name in ((64511, "192.0.2.11", 5, "A"), (64512, "192.0.2.12", 20, "B")):
    br = open(f"{out}/bridge-{name}.txt").read()
    m = re.search(r"dropped a->b (\d+) b->a (\d+), lateness p50 (\d+) us p99 (\d+) us", br)
    a, ref, k = b.get(asn), r.get(asn), srtt.get(addr)
    if not (a and ref and m and k):
        fails.append(f"AS{asn}: missing data (bpf {bool(a)}, pcap {bool(ref)}, bridge {bool(m)}, ss {bool(k)})")
        continue
    drops, late, late50 = int(m.group(1)), int(m.group(4)), int(m.group(3))
    want, kk = 2 * one_way * 1000, statistics.median(k)
    print(f"AS{asn} (ISP {name}): injected RTT {want} us, bridge lateness p99 {late} us, kernel srtt "
          f"median {kk:.0f} us, {drops} data frames dropped towards the client")
    for who, x in (("edgeprobe-bpf", a), ("edgeprobe-pcap", ref)):
        print(f"  {who}: flows {x['flows_new']}, rtt_hs n {x['rtt_hs']['n']} p50 {x['rtt_hs']['p50_us']} us, "
              f"rtt_data n {x['rtt_data']['n']} p50 {x['rtt_data']['p50_us']} us, retx {x['retx_out']}")
    if abs(a["rtt_hs"]["p50_us"] - want) > 0.05 * want + 2 * late:
        fails.append(f"AS{asn}: handshake p50 {a['rtt_hs']['p50_us']} us, injected {want} us")
    # The kernel's srtt is smoothed over the whole transfer, the p50 is of 10-20 samples: the
    # bridge's own jitter (measured in this run) widens the tolerance.
    if abs(a["rtt_data"]["p50_us"] - kk) > 0.10 * kk + late:
        fails.append(f"AS{asn}: in-flow p50 {a['rtt_data']['p50_us']} us vs kernel srtt {kk:.0f} us")
    if abs(a["rtt_data"]["p50_us"] - ref["rtt_data"]["p50_us"]) > 0.05 * ref["rtt_data"]["p50_us"]:
        fails.append(f"AS{asn}: in-flow p50 {a['rtt_data']['p50_us']} us vs edgeprobe-pcap "
                     f"{ref['rtt_data']['p50_us']} us on the same traffic")
    if not drops <= a["retx_out"] <= 2 * drops + 5:
        fails.append(f"AS{asn}: {a['retx_out']} retransmissions for {drops} drops")
    # Segments towards the client: 3 downloads of 2,000,000 bytes need at least
    # 3 x ceil(2e6 / 1448) data segments at this MSS, plus handshakes, headers and FINs.
    # TSO/GSO super-packets must count as their segments (the capture on br0 sees them
    # merged, so edgeprobe-pcap counts fewer).
    need = 3 * -(-2000000 // 1448)
    first = a["segs_out"] - a["retx_out"]
    print(f"  segments towards the client: edgeprobe-bpf {a['segs_out']} ({first} first "
          f"transmissions, {need} data segments needed), edgeprobe-pcap on the merged capture "
          f"{ref['segs_out']}")
    if not need <= first <= need + 60:
        fails.append(f"AS{asn}: {first} first transmissions towards the client, {need} needed")
    if a["flows_new"] != ref["flows_new"] or a["flows_closed"] != ref["flows_closed"]:
        fails.append(f"AS{asn}: flows {a['flows_new']}/{a['flows_closed']} vs pcap {ref['flows_new']}/{ref['flows_closed']}")
    if abs(a["retx_out"] - ref["retx_out"]) > max(2, 0.1 * ref["retx_out"]):
        fails.append(f"AS{asn}: retransmissions {a['retx_out']} vs pcap {ref['retx_out']}")
st = bs["stats"]
print(f"edgeprobe-bpf counters: packets {st['packets']}, tcp {st['parse_tcp']}, gso_packets {st['gso_packets']}, "
      f"map_full {st['bpf_map_full']}, flows promoted {st['flows_promoted']}")
if st["bpf_map_full"]:
    fails.append(f"{st['bpf_map_full']} map updates failed")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
