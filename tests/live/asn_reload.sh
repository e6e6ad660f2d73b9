#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# asn_reload.sh - SIGHUP reloads the ASN data without a restart, atomically, in every
# probe: two connections while the client's address belongs to AS64550 "Before", the file
# is rewritten (AS64551 "After") and SIGHUP sent, two more connections, then a malformed
# file and SIGHUP: refused with FILE:LINE in the log, the table kept, one more connection.
# The summary must hold AS64550 with 2 flows and AS64551 with 3.
# Log rotation on the way: the --json-out file is moved away before each SIGHUP and before
# a SIGUSR1 (reopen only); every line of the four files must parse, the windows' per-ASN
# flows must add up to the summary's (no line lost), and the summary counts 3 reopens.
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
	mv "$OUT/$name.json" "$OUT/$name.json.1"
	kill -HUP $pid
	for i in $(seq 50); do grep -q "ASN data reloaded" "$OUT/$name.log" && break; sleep 0.1; done
	grep -q "ASN data reloaded" "$OUT/$name.log" || die "$name: no reload: $(tail -3 "$OUT/$name.log")"
	curls 2
	printf '192.0.2.2,192.0.2.2,not-a-number,Broken\n' > "$OUT/asn.csv"
	mv "$OUT/$name.json" "$OUT/$name.json.2"
	kill -HUP $pid
	for i in $(seq 50); do grep -q "not reloaded" "$OUT/$name.log" && break; sleep 0.1; done
	grep -q "not reloaded, keeping the current table: .*asn.csv:1" "$OUT/$name.log" ||
		die "$name: a bad file was not refused with FILE:LINE: $(tail -3 "$OUT/$name.log")"
	curls 1
	sleep 0.3
	mv "$OUT/$name.json" "$OUT/$name.json.3"
	kill -USR1 $pid
	sleep 0.3
	kill -TERM $pid
	wait $pid || die "$name exited with an error: $(tail -3 "$OUT/$name.log")"
	python3 - "$OUT/$name.json" "$name" <<'PY' || exit 1
import json, sys
lines = []
for f in [sys.argv[1] + s for s in (".1", ".2", ".3", "")]:
    for i, l in enumerate(open(f)):
        try:
            lines.append(json.loads(l))
        except ValueError:
            print(f"FAIL: {f}:{i + 1}: torn or not JSON: {l[:80]!r}")
            sys.exit(1)
summ = lines[-1]
if summ["type"] != "summary" or sum(x["type"] == "summary" for x in lines) != 1:
    print(f"FAIL: {sys.argv[2]}: the summary is not the one last line of the last file")
    sys.exit(1)
got = {}
for w in lines[:-1]:
    for x in w["asns"]:
        got[x["asn"]] = got.get(x["asn"], 0) + x["flows_new"]
want = {x["asn"]: x["flows_new"] for x in summ["asns"] if x["flows_new"]}
if {k: v for k, v in got.items() if v} != want or summ["stats"]["json_reopens"] != 3:
    print(f"FAIL: {sys.argv[2]}: windows over the rotated files hold flows {got}, the summary "
          f"{want}; reopens {summ['stats']['json_reopens']} (want 3): a line was lost")
    sys.exit(1)
print(f"ok: {sys.argv[2]}: {len(lines)} lines over 4 files (moved before 2 SIGHUPs and a "
      f"SIGUSR1), all whole, windows' flows {got} equal the summary's, 3 reopens counted")
a = {x["asn"]: x for x in summ["asns"]}
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
