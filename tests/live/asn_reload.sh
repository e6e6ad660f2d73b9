#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# asn_reload.sh - SIGHUP reloads the ASN data without a restart, atomically, in every
# probe: two connections while the client's address belongs to AS64550 "Before", the file
# is rewritten (AS64551 "After") and SIGHUP sent, two more connections, then a malformed
# file and SIGHUP: refused with FILE:LINE in the log, the table kept, one more connection.
# The summary must hold AS64550 with 2 flows and AS64551 with 3.
#
# Usage: asn_reload.sh EDGEPROBE_PCAP EDGEPROBE_BPF|none EDGEPROBE|none WORKDIR (77 without root)
set -u
PCAPP=$1 BPF=$2 EP=$3 OUT=$4
NS_S=ep-rlsrv-$$ NS_C=ep-rlcli-$$
. "$(dirname "$0")/lib.sh"
need_netns $NS_S $NS_C
mkdir -p "$OUT"
rm -f "$OUT"/*
ip link add eprl$$ netns $NS_S type veth peer name eprc$$ netns $NS_C || die "veth"
ns_addr $NS_S eprl$$ 192.0.2.1/24
ns_addr $NS_C eprc$$ 192.0.2.2/24
echo hello > "$OUT/f"
http_server $NS_S 192.0.2.1 "$OUT" $NS_C f

curls() { local i; for i in $(seq "$1"); do ip netns exec $NS_C curl -s -o /dev/null http://192.0.2.1:8080/f || die curl; done; }
run() { # name cmd...
	local name=$1 i
	shift
	printf '192.0.2.2,192.0.2.2,64550,Before\n' > "$OUT/asn.csv"
	ip netns exec $NS_S "$@" --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
		--json-out "$OUT/$name.json" 2>"$OUT/$name.log" &
	local pid=$!
	for i in $(seq 150); do grep -q "attached to\|capturing on\|ports started\|worker" "$OUT/$name.log" && break; sleep 0.1; done
	sleep 1
	curls 2
	sleep 0.3
	printf '192.0.2.2,192.0.2.2,64551,After\n' > "$OUT/asn.csv"
	kill -HUP $pid
	for i in $(seq 50); do grep -q "ASN data reloaded" "$OUT/$name.log" && break; sleep 0.1; done
	grep -q "ASN data reloaded" "$OUT/$name.log" || die "$name: no reload: $(tail -3 "$OUT/$name.log")"
	curls 2
	printf '192.0.2.2,192.0.2.2,not-a-number,Broken\n' > "$OUT/asn.csv"
	kill -HUP $pid
	for i in $(seq 50); do grep -q "not reloaded" "$OUT/$name.log" && break; sleep 0.1; done
	grep -q "not reloaded, keeping the current table: .*asn.csv:1" "$OUT/$name.log" ||
		die "$name: a bad file was not refused with FILE:LINE: $(tail -3 "$OUT/$name.log")"
	curls 1
	sleep 0.5
	kill -TERM $pid
	wait $pid || die "$name exited with an error: $(tail -3 "$OUT/$name.log")"
	python3 - "$OUT/$name.json" "$name" <<'PY' || exit 1
import json, sys
a = {x["asn"]: x for x in [json.loads(l) for l in open(sys.argv[1])][-1]["asns"]}
b, c = a.get(64550, {}), a.get(64551, {})
if b.get("flows_new") != 2 or c.get("flows_new") != 3 or c.get("org") != "After":
    print(f"FAIL: {sys.argv[2]}: AS64550 {b.get('flows_new')} flows, AS64551 {c.get('flows_new')} "
          f"flows ({c.get('org')!r}); want 2 and 3 ('After')")
    sys.exit(1)
print(f"ok: {sys.argv[2]}: 2 connections in AS64550 before SIGHUP, 3 in AS64551 'After' after it; "
      "a malformed file was refused and the table kept")
PY
}

run pcap "$PCAPP" --iface eprl$$
if [ "$EP" != none ] && [ -x "$EP" ]; then
	run dpdk "$EP" -l 0,1 --no-huge --no-pci -m 256 --file-prefix rl$$ \
		--vdev "net_af_packet0,iface=eprl$$" -- --stats-interval 0
fi
if [ "$BPF" != none ] && [ -x "$BPF" ]; then
	run bpf "$BPF" --iface eprl$$
fi
