#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# delay_rtt.sh - RTT and retransmission accuracy on real kernel TCP with real delay.
#
# ns SRV (192.0.2.1, HTTP) and ns CLI (192.0.2.2, curl) are joined by the userspace
# delay bridge (tests/live/delay_bridge.py: 10 ms each way, 1% of data frames lost).
# The server's TAP is mirrored (u32 + mirred) to a veth read by edgeprobe through
# net_af_packet, recorded by tcpdump for edgeprobe-pcap, and the kernel's smoothed RTT
# of the server sockets is sampled with ss -ti during the downloads.
#
# Asserts, for the client's AS:
#  - handshake RTT (edgeprobe-pcap and edgeprobe): p50 within 5% of the injected 20 ms
#    plus the bridge's measured lateness;
#  - in-flow RTT p50 within 10% (+ the bridge's p99 lateness, as for the handshake) of the kernel's srtt
#    median, for both probes;
#  - retransmissions: at least the bridge's drops towards the client, at most twice
#    them plus 5 (a loss can cause a few resends); edgeprobe within 10% of edgeprobe-pcap.
#
# Usage: delay_rtt.sh EDGEPROBE EDGEPROBE_PCAP BRIDGE WORKDIR   (exit 77 without root)
set -u
EP=$1 PCAP_PROBE=$2 BRIDGE=$3 OUT=$4
NS_S=ep-dsrv-$$ NS_C=ep-dcli-$$ TA=epta$$ TB=eptb$$ MON=epdm$$
DELAY_MS=10
. "$(dirname "$0")/lib.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
need_netns $NS_S $NS_C
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.pcap "$OUT"/*.txt

python3 "$BRIDGE" $TA $TB $DELAY_MS 0.01 7 > "$OUT/bridge.txt" 2>&1 &
BRPID=$!
for i in $(seq 50); do grep -q ready "$OUT/bridge.txt" && break; sleep 0.1; done
grep -q ready "$OUT/bridge.txt" || die "the delay bridge did not start: $(cat "$OUT/bridge.txt")"
ip link set $TA netns $NS_S && ip link set $TB netns $NS_C || die "moving the TAP devices"
ns_addr $NS_S $TA 192.0.2.1/24
ns_addr $NS_C $TB 192.0.2.2/24
mirror_to $NS_S $TA $MON

head -c 3000000 /dev/urandom > "$OUT/blob"
printf '192.0.2.2,192.0.2.2,64510,Delayed client\n' > "$OUT/asn.csv"
http_server $NS_S 192.0.2.1 "$OUT" $NS_C asn.csv

"$EP" -l 0,1 --no-huge --no-pci -m 512 --file-prefix dly$$ --vdev "net_af_packet0,iface=${MON}b,framecnt=4096" -- \
	--asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 --json-out "$OUT/dpdk.json" --stats-interval 0 \
	--quiet 2>"$OUT/dpdk.log" &
EPPID=$!
ip netns exec $NS_S tcpdump -Z root --immediate-mode -i $TA -s 160 -U -w "$OUT/ref.pcap" 'tcp port 8080' 2>/dev/null &
TDPID=$!
( while :; do ip netns exec $NS_S ss -tin state established '( sport = :8080 )' 2>/dev/null |
	grep -o ' rtt:[0-9.]*'; sleep 0.01; done ) > "$OUT/ss.txt" &
SSPID=$!
# Traffic only once the probe polls (see dpdk_afpacket.sh).
for i in $(seq 200); do [ -s "$OUT/dpdk.json" ] && break; sleep 0.1; done
[ -s "$OUT/dpdk.json" ] || die "edgeprobe wrote no window in 20 s: $(tail -3 "$OUT/dpdk.log")"
sleep 0.5
for i in 1 2 3 4; do
	ip netns exec $NS_C curl -s -o /dev/null --max-time 120 http://192.0.2.1:8080/blob || die "download $i"
done
sleep 1
kill $SSPID
kill -INT $TDPID
kill -TERM $EPPID
wait $EPPID || die "edgeprobe exited with an error: $(tail -3 "$OUT/dpdk.log")"
wait $TDPID 2>/dev/null
kill -TERM $BRPID
wait $BRPID 2>/dev/null
"$PCAP_PROBE" --read "$OUT/ref.pcap" --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
	--json-out "$OUT/ref.json" --quiet || die "edgeprobe-pcap on the reference capture"

python3 - "$OUT" $DELAY_MS <<'PY'
import json, re, statistics, sys
out, delay_ms = sys.argv[1], float(sys.argv[2])
def asn(path):
    s = [json.loads(l) for l in open(path)][-1]
    return s, {a["asn"]: a for a in s["asns"]}.get(64510)
ds, d = asn(f"{out}/dpdk.json")
_, r = asn(f"{out}/ref.json")
br = open(f"{out}/bridge.txt").read()
m = re.search(r"dropped a->b (\d+) b->a (\d+), lateness p50 (\d+) us p99 (\d+) us", br)
srtt = [float(x.split(":")[1]) * 1000 for x in open(f"{out}/ss.txt").read().split()]
if not (d and r and m and srtt):
    print(f"FAIL: missing data (dpdk {bool(d)}, pcap {bool(r)}, bridge {bool(m)}, ss {len(srtt)})")
    sys.exit(1)
drops_to_client, late_p50, late_p99 = int(m.group(1)), int(m.group(3)), int(m.group(4))
want = 2 * delay_ms * 1000
k = statistics.median(srtt)
print(f"injected RTT {want:.0f} us (bridge lateness p50 {m.group(3)} us, p99 {late_p99} us); "
      f"kernel srtt median {k:.0f} us ({len(srtt)} samples); bridge dropped {drops_to_client} "
      f"data frames towards the client")
for name, a in (("edgeprobe-pcap", r), ("edgeprobe/af_packet", d)):
    print(f"{name}: rtt_hs n {a['rtt_hs']['n']} p50 {a['rtt_hs']['p50_us']} us; rtt_data n "
          f"{a['rtt_data']['n']} p50 {a['rtt_data']['p50_us']} us p90 {a['rtt_data']['p90_us']} us; "
          f"retransmissions {a['retx_out']}")
print(f"edgeprobe capture drops (AF_PACKET ring): {ds['stats']['src_drops']}")
fails = []
for name, a in (("edgeprobe-pcap", r), ("edgeprobe", d)):
    if abs(a["rtt_hs"]["p50_us"] - want) > 0.05 * want + 2 * late_p99:
        fails.append(f"{name}: handshake p50 {a['rtt_hs']['p50_us']} us, injected {want:.0f} us")
    # The kernel's srtt is smoothed over the transfer, the p50 is of tens of samples: the
    # bridge's own jitter (measured in this run) widens the tolerance.
    if abs(a["rtt_data"]["p50_us"] - k) > 0.10 * k + late_p99:
        fails.append(f"{name}: in-flow p50 {a['rtt_data']['p50_us']} us vs kernel srtt {k:.0f} us")
    if not drops_to_client <= a["retx_out"] <= 2 * drops_to_client + 5:
        fails.append(f"{name}: {a['retx_out']} retransmissions for {drops_to_client} drops")
if abs(d["retx_out"] - r["retx_out"]) > max(2, 0.1 * r["retx_out"]):
    fails.append("edgeprobe and edgeprobe-pcap retransmissions differ by more than 10%")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
