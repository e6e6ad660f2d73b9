#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# config_file.sh - --config FILE is equivalent to the command line, the command line wins,
# a program's own [section] applies and others' do not, and bad keys and values are named
# with FILE:LINE (exit 2); the same for the collector when given.
# Usage: config_file.sh EDGEPROBE_PCAP GEN OUTDIR [EDGEPROBE_COLLECTOR]
set -u
PROBE=$1 GEN=$2 OUT=$3 COLL=${4:-}
mkdir -p "$OUT"
"$GEN" "$OUT" >/dev/null || { echo "FAIL: generating a capture"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
window_ms() { python3 -c "import json,sys; w=[json.loads(l) for l in open(sys.argv[1])][0]; print((w['end_ns']-w['start_ns'])//1000000)" "$1"; }

cat > "$OUT/a.ini" <<INI
# edgeprobe-pcap options, one per line
read = $OUT/mixed.pcap
asn-db = none
interval-ms = 200
json-out = $OUT/a.json
quiet = true

[edgeprobe-pcap]
probe-id = from-section

[edgeprobe-collector]
interval-ms = 999
INI
"$PROBE" --config "$OUT/a.ini" || fail "edgeprobe-pcap --config exited $?"
[ "$(window_ms "$OUT/a.json")" = 200 ] || fail "interval-ms from the file not applied"
grep -q '"probe":"from-section"' "$OUT/a.json" || fail "the program's section was not applied"
"$PROBE" --config "$OUT/a.ini" --interval-ms 100 --json-out "$OUT/b.json" || fail "override run"
[ "$(window_ms "$OUT/b.json")" = 100 ] || fail "the command line did not win over the file"
[ -s "$OUT/a.json" ] || fail "json-out"
echo "ok: the file sets options, [edgeprobe-pcap] applies, other sections do not, the command line wins"

printf 'asn-db = none\nread = %s\nbogus = 1\n' "$OUT/mixed.pcap" > "$OUT/bad1.ini"
msg=$("$PROBE" --config "$OUT/bad1.ini" 2>&1); rc=$?
[ $rc = 2 ] && echo "$msg" | grep -q "bad1.ini:3: unknown key 'bogus'" || fail "unknown key: exit $rc: $msg"
printf 'read = %s\ninterval-ms = soon\n' "$OUT/mixed.pcap" > "$OUT/bad2.ini"
msg=$("$PROBE" --config "$OUT/bad2.ini" 2>&1); rc=$?
[ $rc = 2 ] && echo "$msg" | grep -q "bad2.ini:2: --interval-ms: 'soon'" || fail "bad value: exit $rc: $msg"
printf 'read = %s\nreport = maybe\n' "$OUT/mixed.pcap" > "$OUT/bad3.ini"
msg=$("$PROBE" --config "$OUT/bad3.ini" 2>&1); rc=$?
[ $rc = 2 ] && echo "$msg" | grep -q "bad3.ini:2: 'report' takes true or false" || fail "bad flag: exit $rc: $msg"
msg=$("$PROBE" --config "$OUT/missing.ini" 2>&1); rc=$?
[ $rc = 2 ] && echo "$msg" | grep -q "missing.ini: No such file" || fail "missing file: exit $rc: $msg"
echo "ok: unknown keys, bad values, bad flags and a missing file are named with FILE:LINE"

if [ -n "$COLL" ]; then
	port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	printf '[edgeprobe-collector]\nhttp = 127.0.0.1:%s\nlisten = udp://127.0.0.1:0\nrun-seconds = 3\nquiet = yes\n' "$port" > "$OUT/c.ini"
	"$COLL" --config "$OUT/c.ini" & cp=$!
	ok=0
	for i in $(seq 40); do curl -sf "http://127.0.0.1:$port/api/v1/probes" >/dev/null && ok=1 && break; sleep 0.05; done
	wait $cp
	[ $ok = 1 ] || fail "the collector did not take --http from the file"
	printf 'listen = udp://127.0.0.1:0\ngrace-ms = later\n' > "$OUT/c2.ini"
	msg=$("$COLL" --config "$OUT/c2.ini" 2>&1); rc=$?
	[ $rc = 2 ] && echo "$msg" | grep -q "c2.ini:2: bad value 'later'" || fail "collector bad value: exit $rc: $msg"
	echo "ok: the collector reads --config too, and names FILE:LINE for bad values"
fi
