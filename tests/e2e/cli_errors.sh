#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_errors.sh - bad files, flags and interfaces get a clear message naming them and a
# non-zero exit; nothing crashes.  Usage: cli_errors.sh PROBE DUMP WORKDIR [DPDK_PROBE]
set -u
PROBE=$1 DUMP=$2 OUT=$3 DPDK=${4:-none}
mkdir -p "$OUT"
fails=0

expect() { # exit code, text the message must contain, command...
	local code=$1 text=$2
	shift 2
	local msg rc
	msg=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" != "$code" ] || [[ "$msg" != *"$text"* ]]; then
		echo "FAIL: $* -> exit $rc, message: $msg (want exit $code and '$text')"
		fails=$((fails + 1))
	else
		echo "ok: exit $rc: ${msg%%$'\n'*}"
	fi
}

printf '1.0.0.0,1.0.0.255,13335,A\n1.0.1.0,1.0.1.255,x,B\n' > "$OUT/bad.csv"
printf 'not a capture\n' > "$OUT/bad.pcap"
# An empty but valid capture (pcap header only).
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' > "$OUT/empty.pcap"
# A capture cut short inside its first record (read in blocks: named with the offset).
{ cat "$OUT/empty.pcap"; printf '\x01\x00\x00\x00\x00\x00\x00\x00\x3c\x00\x00\x00\x3c\x00\x00\x00'; printf '0123456789'; } > "$OUT/trunc.pcap"
expect 1 "--read $OUT/trunc.pcap: truncated record at offset 24: 60 bytes captured, 10 left" \
	"$PROBE" --read "$OUT/trunc.pcap" --asn-db none
expect 1 "--read -: truncated dump file" sh -c "exec \"\$0\" --read - --asn-db none < \"\$1\"" "$PROBE" "$OUT/trunc.pcap"
expect 1 "--read /nonexistent/trace.pcap" "$PROBE" --read /nonexistent/trace.pcap --asn-db none
expect 1 "$OUT/bad.pcap" "$PROBE" --read "$OUT/bad.pcap" --asn-db none
expect 1 "$OUT/bad.csv:2: bad ASN 'x'" "$PROBE" --read "$OUT/empty.pcap" --asn-db "$OUT/bad.csv"
printf '1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,XK\n' > "$OUT/bad-cc.csv"
printf '1.0.0.0,1.0.0.255,13335,A\n' > "$OUT/good.csv"
expect 1 "$OUT/bad-cc.csv:2: 'XK' is not an ISO 3166-1 alpha-2 country code" \
	"$PROBE" --read "$OUT/empty.pcap" --asn-db "$OUT/good.csv,$OUT/bad-cc.csv"
expect 2 "--interval-ms: '0'" "$PROBE" --read x --interval-ms 0
expect 2 "--max-flows: 'lots'" "$PROBE" --read x --max-flows lots
expect 2 "unknown option" "$PROBE" --read x --frobnicate
expect 2 "exactly one of --read FILE or --iface IF" "$PROBE"
expect 2 "--local-net: '10.0.0.0/40'" "$PROBE" --read "$OUT/empty.pcap" --asn-db none --local-net 10.0.0.0/40
expect 1 "'bogus://x'" "$PROBE" --read "$OUT/empty.pcap" --asn-db none --collector bogus://x
expect 1 "no ASN data in /nonexistent" env EDGEPROBE_ASN_DIR=/nonexistent "$PROBE" --read "$OUT/empty.pcap"
expect 2 "give exactly one of --listen URL or --read FILE" "$DUMP"
expect 2 "--count: 'many' is not a whole number" "$DUMP" --listen udp://127.0.0.1:0 --count many
expect 2 "--timeout-ms: '-5' is not a whole number" "$DUMP" --listen udp://127.0.0.1:0 --timeout-ms -5
expect 1 "no message for 200 ms" "$DUMP" --listen udp://127.0.0.1:0 --timeout-ms 200
# A replay whose collector resets the connection: counted, reported, exit 1 (not SIGPIPE).
# The replay is long (--loop) so that it is still writing when the reset arrives.
GEN=$(dirname "$0")/../../scripts/gen-traffic
if python3 "$GEN" "$OUT/small.pcap" --flows 40 --seconds 3 --seed 3 >/dev/null 2>&1; then
	python3 -c 'import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()' > "$OUT/closer.port" &
	closer=$!
	for i in $(seq 50); do [ -s "$OUT/closer.port" ] && break; sleep 0.1; done
	expect 1 "messages could not be sent to a collector" "$PROBE" --read "$OUT/small.pcap" \
		--loop 1000 --asn-db none --collector "tcp://127.0.0.1:$(cat "$OUT/closer.port")"
	kill $closer
	# The first record's time in 2100: every later packet is older than its window.
	python3 -c 'import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[24:28] = struct.pack("<I" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">I", 4102444800)
open(sys.argv[2], "wb").write(b)' "$OUT/small.pcap" "$OUT/future.pcap"
	expect 1 "older than the window they came in" "$PROBE" --read "$OUT/future.pcap" --asn-db none
	if [ "$DPDK" != none ]; then # the DPDK probe replaying it through a net_pcap port
		expect 1 "older than the window they came in" "$DPDK" -l 0,1 --no-huge --no-pci -m 256 \
			--file-prefix cli$$ --vdev "net_pcap0,rx_pcap=$OUT/future.pcap" -- --asn-db none \
			--stop-after-idle 300
	fi
else
	echo "FAIL: gen-traffic could not write a capture"
	fails=$((fails + 1))
fi
if [ "$(id -u)" = 0 ]; then
	expect 1 "--iface ep-nosuch0: no such interface" "$PROBE" --iface ep-nosuch0 --asn-db none
	# Unprivileged live capture: a clear message, not a crash.
	expect 1 "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PROBE" --iface lo --asn-db none
fi
echo "$fails failures"
[ $fails = 0 ]
