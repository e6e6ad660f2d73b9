#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bulk_rtt.sh - in-flow RTT under load: real kernel TCP bulk downloads through three
# userspace delay/loss/bottleneck "ISPs" (tests/live/delay_bridge.py), edgeprobe-bpf live on
# the server's bridge and edgeprobe-pcap on a capture of the wire, both against references
# computed from the capture without our code (tests/live/bulk_rtt_check.py).
#
# ns SRV (192.0.2.1 on br0, tests/live/bulk.py serve) and three client namespaces:
#   AS64511 192.0.2.11:  5 ms each way,              40 Mbit/s, 50 ms of buffer
#   AS64512 192.0.2.12: 10 ms each way,              40 Mbit/s, 50 ms of buffer
#   AS64513 192.0.2.13: 30 ms each way, 2% data loss, 80 Mbit/s, 20 ms of buffer
# The first two build a queue when unpaced; the lossy one's flows, unpaced, overshoot the
# 20 ms buffer in slow start, with the losses.  With timestamps (unpaced-ts) that run failed
# the project's CI of 2026-12-01 (p50 +16 %) and 1 of 5 runs on 2026-12-02 (p90 -14 %) until
# each in-flow sample was weighted by the echoes it stands for (ep_track.h); weighted, 13 of
# 13 passed to 2026-12-02 (p90 rank -4.4 to +2.7), then 15 of 16 in a later session's
# benchmark runs (p90 rank -8.2 to +4.5; the failing one -8.2 against its limit of 6.1, pcap
# and bpf alike), and the CI of 2026-12-02 (p90 rank -7.8), until every candidate under a
# hole waited for a retransmission's TSval (ep_track.h): none of 20 captures replayed with
# that rule failed (p90 rank -2.7 to +2.8), nor 10 live runs.  Without timestamps
# (unpaced-nots) it ran paced until the ACKs before a loss weighed on the sample before them
# instead of none (ep_track.h): 1 of 16 runs failed (p90 -20.7 %, rank -8.0), none of the
# same 16 replayed with the new rule (p90 rank -3.9 to +2.7), nor of 10 more live runs
# (docs/performance.md).
# Four runs: server-paced (SO_MAX_PACING_RATE, below the bottleneck) and unpaced (the
# bottleneck's queue fills), each with TCP timestamps on and off (net.ipv4.tcp_timestamps=0
# in the client namespaces).  Per run, 6 parallel downloads per client of 8 MB (4 MB over the
# lossy path when paced), about 10 s: long enough that each probe's quantiles rest on 200-2,000
# RTTs measured per ISP.  The checks are in bulk_rtt_check.py.
#
# The BPF programs' run time per skb (kernel statistics) is printed beside the floor
# program's (tests/live/floor.bpf.c, in front of ours) and, with EP_BOUND_OBJ set to the
# built tests/live/bound.bpf.c (scripts/bench does), the bound program's: the least work per
# packet any tracker does, after ours on both hooks (EP_BOUND_PRIO=2: in front of ours).
#
# Usage: [EP_BOUND_OBJ=OBJ] bulk_rtt.sh EDGEPROBE_BPF EDGEPROBE_PCAP BRIDGE BULK CHECK WORKDIR
#        [RUNS...]   (exit 77 without root, namespaces, /dev/net/tun or BTF)
set -u
BPF=$1 PCAP_PROBE=$2 BRIDGE=$3 BULK=$4 CHECK=$5 OUT=$6
shift 6
RUNS=${*:-paced-ts unpaced-ts paced-nots unpaced-nots}
NS_S=ep-ksrv-$$
. "$(dirname "$0")/lib.sh"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
command -v tshark >/dev/null && command -v mergecap >/dev/null || skip "no tshark/mergecap"
need_netns $NS_S ep-kca-$$ ep-kcb-$$ ep-kcc-$$
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*

ip -n $NS_S link add br0 type bridge && ip -n $NS_S link set br0 up || die "bridge"
ns_addr $NS_S br0 192.0.2.1/24
# The server's buffers fit a 60 ms path at the bottleneck's rate.
ip netns exec $NS_S sysctl -qw net.ipv4.tcp_wmem="4096 262144 8388608"
TAPS=()
start_bridge() { # name one_way_ms loss seed addr rate_mbit queue_ms
	local c=${1,,}
	delay_isp "$1" epk${c}s$$ epk${c}c$$ ep-kc$c-$$ "$5" "$2" "$3" "$4" "$6" "$7"
	TAPS+=(epk${c}s$$)
}
start_bridge A 5 0 3 192.0.2.11 40 50
start_bridge B 10 0 5 192.0.2.12 40 50
start_bridge C 30 0.02 7 192.0.2.13 80 20
printf '192.0.2.11,192.0.2.11,64511,Near ISP\n192.0.2.12,192.0.2.12,64512,Mid ISP\n192.0.2.13,192.0.2.13,64513,Far lossy ISP\n' > "$OUT/asn.csv"

ip netns exec $NS_S python3 "$BULK" serve 192.0.2.1 9000 > "$OUT/server.txt" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do grep -q ready "$OUT/server.txt" && break; sleep 0.1; done
for c in a b c; do # the paths work (and ARP is settled) before anything is measured
	ip netns exec ep-kc$c-$$ python3 "$BULK" fetch 192.0.2.1 9000 1 1000 0 || die "client $c"
done

# The BPF programs' run time per packet (kernel statistics), restored at exit.
bpf_stats_on
bpf_stats() { # the programs' cumulative run count and time, one "name.key value" per line
	bpftool prog show -j 2>/dev/null | python3 -c 'import json, sys
bound = {v: k for k, v in json.loads(sys.argv[1]).items()}
for p in json.load(sys.stdin):
    n = p.get("name")
    if n == "ep_bound":
        n = bound.get(p["id"])
    elif n == "ep_floor":
        n += str(p["id"])
    elif n not in ("ep_tc_egress", "ep_tc_ingress"):
        n = None
    if n and "run_cnt" in p:
        print(n + ".run_cnt", p["run_cnt"]); print(n + ".run_time_ns", p["run_time_ns"])' \
	"$BOUND_IDS"
}
BOUND_IDS='{}'

# The peer in the same run (tests/live/floor.bpf.c): the cheapest classifier that reads the
# frame, in front of edgeprobe's on both hooks; its run time per skb is this machine's floor.
if command -v clang >/dev/null && clang -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c "$(dirname "$0")/floor.bpf.c" -o "$OUT/floor.o" 2>"$OUT/floor.log"; then
	ip netns exec $NS_S tc qdisc add dev br0 clsact &&
	for h in ingress egress; do
		ip netns exec $NS_S tc filter add dev br0 $h prio 1 bpf da obj "$OUT/floor.o" sec tc ||
			die "attaching the floor program"
	done
else
	echo "no floor program (clang): $(cat "$OUT/floor.log")"
fi
# The least a tracker does per packet (tests/live/bound.bpf.c, built by meson), for the
# benchmark: after edgeprobe's program on both hooks, its run time per skb beside ours.
# EP_BOUND_PRIO=2 puts it in front of ours instead (the order's effect on both figures).
BOUND_PRIO=${EP_BOUND_PRIO:-240}
if [ -n "${EP_BOUND_OBJ:-}" ]; then
	BOUND_IDS=
	ip netns exec $NS_S tc qdisc add dev br0 clsact 2>/dev/null # unless the floor's is there
	for h in ingress egress; do
		ip netns exec $NS_S tc filter add dev br0 $h prio $BOUND_PRIO bpf da \
			obj "$EP_BOUND_OBJ" sec tc || die "attaching the bound program"
		id=$(ip netns exec $NS_S tc filter show dev br0 $h prio $BOUND_PRIO |
			grep -o ' id [0-9]*' | head -1 | awk '{print $2}')
		BOUND_IDS+="${BOUND_IDS:+, }\"ep_bound_$h\": $id"
	done
	BOUND_IDS="{$BOUND_IDS}"
fi

retrans() { ip netns exec $NS_S awk '/^Tcp:/ {n++; if (n == 1) for (i = 1; i <= NF; i++) h[i] = $i;
	else for (i = 1; i <= NF; i++) if (h[i] == "RetransSegs") print $i}' /proc/net/snmp; }

for run in $RUNS; do
	d="$OUT/$run"
	mkdir -p "$d"
	ts=1; [ "${run#*-}" = nots ] && ts=0
	pace=0; [ "${run%-*}" = paced ] && pace=600000 # 6 x 4.8 Mbit/s, under the bottleneck
	for c in a b c; do ip netns exec ep-kc$c-$$ sysctl -qw net.ipv4.tcp_timestamps=$ts; done
	ip netns exec $NS_S "$BPF" --iface br0 --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
		--json-out "$d/bpf.json" 2>"$d/bpf.log" &
	BPPID=$!
	for i in $(seq 100); do grep -q "attached to br0" "$d/bpf.log" && break; sleep 0.1; done
	grep -q "attached to br0" "$d/bpf.log" || die "edgeprobe-bpf did not attach: $(cat "$d/bpf.log")"
	TD=()
	for t in "${TAPS[@]}"; do
		ip netns exec $NS_S tcpdump -Z root --immediate-mode -i "$t" -s 160 -B 16384 -U \
			-w "$d/$t.pcap" 'tcp port 9000' 2>"$d/tcpdump-$t.txt" &
		TD+=($!)
	done
	( while :; do ip netns exec $NS_S ss -tin state established '( sport = :9000 )' 2>/dev/null |
		awk '/192.0.2.1[1-3]/ {peer=$4} / rtt:/ {match($0, / rtt:[0-9.]*/); print peer, substr($0, RSTART+5, RLENGTH-5)}';
		sleep 0.02; done ) > "$d/ss.txt" &
	SSPID=$!
	sleep 1
	r0=$(retrans)
	bpf_stats > "$d/bpf_stats0.txt"
	start=$(date +%s.%N)
	DL=()
	for c in a b c; do
		size=8000000 p=$pace
		[ $c = c ] && [ $pace != 0 ] && size=4000000
		ip netns exec ep-kc$c-$$ python3 "$BULK" fetch 192.0.2.1 9000 6 $size $p \
			2>"$d/fetch-$c.txt" &
		DL+=($!)
	done
	for p in "${DL[@]}"; do wait "$p" || die "$run: downloads failed: $(cat "$d"/fetch-*.txt)"; done
	echo "$run: downloads took $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $start}") s"
	sleep 1
	r1=$(retrans)
	echo "$((r1 - r0))" > "$d/retrans_segs.txt"
	bpf_stats > "$d/bpf_stats.txt"
	kill $SSPID
	for p in "${TD[@]}"; do kill -INT "$p"; done
	kill -TERM $BPPID
	wait $BPPID || die "$run: edgeprobe-bpf exited with an error: $(tail -3 "$d/bpf.log")"
	for p in "${TD[@]}"; do wait "$p" 2>/dev/null; done
	grep -h "packets dropped by kernel" "$d"/tcpdump-*.txt | grep -v "^0 " && die "$run: tcpdump dropped packets"
	mergecap -F pcap -w "$d/wire.pcap" "$d"/epk*.pcap || die "mergecap"
	"$PCAP_PROBE" --read "$d/wire.pcap" --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
		--json-out "$d/pcap.json" --quiet || die "$run: edgeprobe-pcap on the capture"
	tshark -r "$d/wire.pcap" -n -T fields -E separator=, -e frame.number -e frame.time_epoch \
		-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.fin \
		-e tcp.seq_raw -e tcp.ack_raw -e tcp.len -e tcp.options.timestamp.tsval \
		-e tcp.options.timestamp.tsecr -e tcp.analysis.ack_rtt -e tcp.analysis.acks_frame \
		> "$d/fields.csv" || die "tshark"
	rm -f "$d"/epk*.pcap
done
kill -TERM $BR_A $BR_B $BR_C
wait $BR_A $BR_B $BR_C 2>/dev/null
python3 "$CHECK" "$OUT" $RUNS
