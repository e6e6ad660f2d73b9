#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bpf_iperf.sh - iperf3 throughput over a veth between two namespaces, without and with
# edgeprobe-bpf attached to the server's side, alternating runs in one invocation
# (for scripts/bench; prints one line).  -R: the server sends, as a CDN edge does.   Usage: bpf_iperf.sh EDGEPROBE_BPF SECONDS ROUNDS
set -u
BPF=$1 SECS=${2:-5} ROUNDS=${3:-3}
NS_S=ep-ipsrv-$$ NS_C=ep-ipcli-$$
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "iperf3 is not installed"
need_netns $NS_S $NS_C
ip link add epiv$$ netns $NS_S type veth peer name epic$$ netns $NS_C || die "veth"
ns_addr $NS_S epiv$$ 192.0.2.1/24
ns_addr $NS_C epic$$ 192.0.2.2/24
printf '192.0.2.2,192.0.2.2,64530,Client\n' > /tmp/ep-iperf-asn-$$.csv
ip netns exec $NS_S iperf3 -s -B 192.0.2.1 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
rate() { ip netns exec $NS_C iperf3 -c 192.0.2.1 -R -t "$SECS" -J 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'; }
off=() on=()
for r in $(seq "$ROUNDS"); do
	off+=("$(rate)")
	ip netns exec $NS_S "$BPF" --iface epiv$$ --asn-db /tmp/ep-iperf-asn-$$.csv --local-net 192.0.2.1/32 \
		--json-out /tmp/ep-iperf-$$.json 2>/tmp/ep-iperf-$$.log &
	bp=$!
	for i in $(seq 100); do grep -q "attached to" /tmp/ep-iperf-$$.log && break; sleep 0.1; done
	on+=("$(rate)")
	kill -TERM $bp; wait $bp
done
python3 - "${off[*]}" "${on[*]}" /tmp/ep-iperf-$$.json <<'PY'
import json, statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
s = [json.loads(l) for l in open(sys.argv[3])][-1]
a = {x["asn"]: x for x in s["asns"]}.get(64530, {})
mo, mn = statistics.median(off), statistics.median(on)
print(f"bpf iperf3 over veth: {mo / 1e9:.2f} Gbit/s without, {mn / 1e9:.2f} Gbit/s with edgeprobe-bpf "
      f"({100 * (mo - mn) / mo:+.1f}% loss; medians of {len(off)} alternating runs); last run: "
      f"{s['stats']['packets']} segments, {s['stats']['gso_packets']} GSO/GRO super-packets, "
      f"rtt_data n {a.get('rtt_data', {}).get('n', 0)}")
PY
rm -f /tmp/ep-iperf-*$$*
