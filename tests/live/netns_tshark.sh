#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# netns_tshark.sh - real kernel TCP between two network namespaces, with real loss,
# captured on the server's interface and analysed twice: by edgeprobe-pcap and by
# tshark's own TCP analysis.  Asserts that they agree.
#
# Topology: ns SRV (192.0.2.1, HTTP server) <-veth-> ns CLI (192.0.2.2, curl).  A tc
# cls_bpf classifier on the client's ingress drops 2% of data packets *after* the
# capture point, so the server retransmits and the capture shows both copies.  Two
# rounds: with TCP timestamps (TSval/TSecr samples) and without (data/ACK samples).
#
# Usage: netns_tshark.sh PROBE DROP_BPF_SOURCE WORKDIR
# Exit 77 (skip) only where root or network namespaces are missing.
set -u
PROBE=$1
DROP_SRC=$2
OUT=$3
NS_S=ep-srv-$$
NS_C=ep-cli-$$
. "$(dirname "$0")/lib.sh"

need_netns $NS_S $NS_C
for t in tshark tcpdump curl clang tc; do
	command -v $t >/dev/null || die "$t is not installed (scripts/setup installs it)"
done
mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.json

ip link add ep-s netns $NS_S type veth peer name ep-c netns $NS_C || die "veth"
ns_addr $NS_S ep-s 192.0.2.1/24
ns_addr $NS_C ep-c 192.0.2.2/24

clang -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$DROP_SRC" -o "$OUT/drop.o" ||
	die "compiling the drop classifier"
tc -n $NS_C qdisc add dev ep-c clsact || die "clsact"
tc -n $NS_C filter add dev ep-c ingress bpf da obj "$OUT/drop.o" sec tc ||
	die "attaching the drop classifier"

head -c 6000000 /dev/urandom > "$OUT/blob"
printf '192.0.2.2,192.0.2.2,64510,Namespace client\n' > "$OUT/asn.csv"
http_server $NS_S 192.0.2.1 "$OUT" $NS_C asn.csv

round() { # name, timestamps on (1/0)
	local name=$1 ts=$2 pcap="$OUT/$1.pcap"
	ip netns exec $NS_C sysctl -qw net.ipv4.tcp_timestamps=$ts
	ip netns exec $NS_S sysctl -qw net.ipv4.tcp_timestamps=$ts
	ip netns exec $NS_S tcpdump -Z root --immediate-mode -i ep-s -s 160 -U -w "$pcap" 'tcp port 8080' 2>"$OUT/$name.tcpdump.log" &
	local cap=$! live=
	if [ "$name" = ts ]; then
		# The same traffic, live: edgeprobe-pcap on the interface (wall-clock windows).
		ip netns exec $NS_S "$PROBE" --iface ep-s --filter 'tcp port 8080' --local-net 192.0.2.1/32 \
			--asn-db "$OUT/asn.csv" --json-out "$OUT/live.json" --quiet &
		live=$!
	fi
	sleep 1
	for i in 1 2 3 4; do
		ip netns exec $NS_C curl -s -o /dev/null --max-time 60 http://192.0.2.1:8080/blob ||
			die "download $i failed"
	done
	sleep 0.5
	kill -INT $cap
	wait $cap 2>/dev/null
	if [ -n "$live" ]; then
		kill -TERM $live
		wait $live || die "live edgeprobe-pcap exited with an error"
	fi
	"$PROBE" --read "$pcap" --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
		--json-out "$OUT/$name.json" --quiet || die "edgeprobe-pcap failed on $pcap"
}
round ts 1
round nots 0

python3 - "$OUT" <<'PY'
import json, math, subprocess, sys
out = sys.argv[1]
fails = 0

def fail(m):
    global fails
    fails += 1
    print("FAIL:", m)

def tshark(pcap, filt, *fields):
    args = ["tshark", "-r", pcap, "-Y", filt]
    if fields:
        args += ["-T", "fields"] + sum((["-e", f] for f in fields), [])
    r = subprocess.run(args, capture_output=True, text=True, check=True)
    return [l.split("\t") for l in r.stdout.splitlines() if l.strip()]

def heq(v):  # HdrHistogram highest equivalent value, 2 digits, lowest 1
    b = (v | 255).bit_length() - 8
    return ((v >> b) << b) + (1 << b) - 1

def pct(vals, p):
    s = sorted(vals)
    return s[max(1, math.ceil(p / 100 * len(s))) - 1]

for name in ("ts", "nots"):
    pcap = f"{out}/{name}.pcap"
    summ = [json.loads(l) for l in open(f"{out}/{name}.json")][-1]
    a = {x["asn"]: x for x in summ["asns"]}.get(64510)
    if not a:
        fail(f"{name}: no AS64510 in the probe's summary")
        continue
    syns = tshark(pcap, "tcp.flags.syn==1 && tcp.flags.ack==0")
    # Handshake, remote client: SYN-ACK seen -> the client's first ACK, per stream.
    hs = {}
    for stream, t, flags, src in tshark(pcap, "tcp", "tcp.stream", "frame.time_epoch",
                                        "tcp.flags", "ip.src"):
        f = int(flags, 16)
        st = hs.setdefault(stream, {})
        if f & 0x12 == 0x12:
            st.setdefault("synack", float(t))
        elif f & 0x10 and src == "192.0.2.2" and "synack" in st and "ack" not in st:
            st["ack"] = float(t)
    hs_us = [round((s["ack"] - s["synack"]) * 1e6) for s in hs.values() if "ack" in s]
    # Loss is injected after the capture point and one socket's egress on a veth is in
    # order, so every re-sent range in this capture is a retransmission.  At veth RTTs
    # (~10 us) tshark's timing heuristic labels most fast retransmissions "out-of-order",
    # so its out_of_order flags on the server's segments count too.
    retx = tshark(pcap, "ip.src==192.0.2.1 && (tcp.analysis.retransmission || "
                  "tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission || "
                  "tcp.analysis.out_of_order)")
    ack_rtt = [float(x[0]) * 1e6 for x in tshark(pcap, "ip.src==192.0.2.2 && tcp.analysis.ack_rtt",
                                                  "tcp.analysis.ack_rtt")]
    print(f"{name}: connections probe {a['flows_new']} / tshark {len(syns)}; "
          f"rtt_hs n {a['rtt_hs']['n']} p50 {a['rtt_hs']['p50_us']} us / tshark {len(hs_us)} "
          f"p50 {pct(hs_us, 50) if hs_us else '-'} us; retransmissions probe {a['retx_out']} / "
          f"tshark {len(retx)}; rtt_data n {a['rtt_data']['n']} p50 {a['rtt_data']['p50_us']} us "
          f"/ tshark ack_rtt n {len(ack_rtt)} p50 {round(pct(ack_rtt, 50)) if ack_rtt else '-'} us")
    if a["flows_new"] != len(syns):
        fail(f"{name}: {a['flows_new']} flows, tshark sees {len(syns)} SYNs")
    if a["rtt_hs"]["n"] != len(hs_us):
        fail(f"{name}: {a['rtt_hs']['n']} handshake samples, tshark-derived {len(hs_us)}")
    elif hs_us:
        # The same definition on the same capture: equal up to the microsecond truncation.
        for p, k in ((50, "p50_us"), (100, "max_us")):
            want = pct(hs_us, p)
            if not (heq(max(0, want - 1)) <= a["rtt_hs"][k] <= heq(want + 1)):
                fail(f"{name}: rtt_hs {k} {a['rtt_hs'][k]}, tshark-derived {want}")
    if not retx:
        fail(f"{name}: no retransmissions in the capture: the loss injection did not work")
    elif abs(a["retx_out"] - len(retx)) > max(1, 0.02 * len(retx)):
        fail(f"{name}: {a['retx_out']} retransmissions, tshark {len(retx)} (tolerance 2%)")
    if a["rtt_data"]["n"] < 20 or not ack_rtt:
        fail(f"{name}: too few in-flow samples ({a['rtt_data']['n']})")
    elif name == "nots":
        # Data/ACK matching is tshark's ack_rtt definition; at veth RTTs (a few us) allow
        # a factor of 2 or 10 us of scheduling noise.
        ours, theirs = a["rtt_data"]["p50_us"], pct(ack_rtt, 50)
        if not (0.5 <= ours / max(1.0, theirs) <= 2.0 or abs(ours - theirs) <= 10):
            fail(f"{name}: rtt_data p50 {ours} us vs tshark ack_rtt p50 {theirs:.0f} us")
    else:
        # TSval/TSecr samples: Linux updates TS.Recent only from a segment at the last
        # ACKed edge, so the first echo of a TSval may belong to a later segment of the same
        # 1 ms tick.  The bias is bounded by one tick: at most 1000 us above ack_rtt.
        ours, theirs = a["rtt_data"]["p50_us"], pct(ack_rtt, 50)
        if not (0.5 * theirs <= ours <= theirs + 1000):
            fail(f"{name}: rtt_data p50 {ours} us vs tshark ack_rtt p50 {theirs:.0f} us "
                 f"(allowed: half of it up to one 1 ms TSval tick above)")
    if name == "ts":
        live = [json.loads(l) for l in open(f"{out}/live.json")]
        lsum = live[-1]
        la = {x["asn"]: x for x in lsum["asns"]}.get(64510, {})
        wins = [w for w in live if w["type"] == "window"]
        print(f"live: {len(wins)} windows, flows {la.get('flows_new')}, retransmissions "
              f"{la.get('retx_out')}, capture drops {lsum['stats']['src_drops']}")
        if lsum["type"] != "summary" or la.get("flows_new") != a["flows_new"]:
            fail(f"live: summary flows {la.get('flows_new')} != {a['flows_new']} from the capture")
        elif lsum["stats"]["src_drops"] == 0 and la.get("retx_out") != a["retx_out"]:
            fail(f"live: {la.get('retx_out')} retransmissions, {a['retx_out']} from the capture")
        if len(wins) < 5 or any(w["end_ns"] - w["start_ns"] != 100000000 for w in wins):
            fail("live: expected aligned 100 ms windows, including empty ones, while capturing")
    st = summ["stats"]
    if sum(v for k, v in st.items() if k.startswith("parse_")) != st["packets"]:
        fail(f"{name}: parse counters do not add up to packets")
sys.exit(1 if fails else 0)
PY
