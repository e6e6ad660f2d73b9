#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# pcapng.sh - edgeprobe-pcap reads pcapng (Wireshark's and dumpcap's default) with its block
# reader and gives exactly what it gives on the classic pcap of the same packets, and what
# libpcap gives reading the same pcapng (from stdin, which the block reader leaves to it):
# the JSON lines, byte for byte but the boot epoch, with and without --filter.  A pcapng
# cut inside a packet block is reported with its offset (exit 1, summary written).
# Usage: pcapng.sh EDGEPROBE_PCAP GEN WORKDIR
set -u
PROBE=$1 GEN=$2 OUT=$3
command -v editcap >/dev/null || { echo "SKIP: editcap (wireshark-common) is not installed"; exit 77; }
mkdir -p "$OUT"
python3 "$GEN" "$OUT/t.pcap" --flows 3000 --seconds 10 --seed 21 --asn-subset "$OUT/asn.csv" >/dev/null
editcap -F pcapng "$OUT/t.pcap" "$OUT/t.pcapng" || { echo "FAIL: editcap"; exit 1; }
common=(--asn-db "$OUT/asn.csv" --local-net 192.0.2.0/24,2001:db8:ff::/48 --quiet)
fail=0
run() { # name filter input...
	local name=$1 filter=$2
	shift 2
	if [ -n "$filter" ]; then
		"$PROBE" "${common[@]}" --filter "$filter" --json-out "$OUT/$name.json" "$@"
	else
		"$PROBE" "${common[@]}" --json-out "$OUT/$name.json" "$@"
	fi || { echo "FAIL: $name: exit $?"; fail=1; }
	sed 's/"epoch":[0-9]*,//' "$OUT/$name.json" > "$OUT/$name.norm"
}
for filter in "" "tcp port 443 or ip6"; do
	tag=${filter:+-filtered}
	run "pcap$tag" "$filter" --read "$OUT/t.pcap"
	run "pcapng$tag" "$filter" --read "$OUT/t.pcapng"
	run "libpcap$tag" "$filter" --read - < "$OUT/t.pcapng"
	lines=$(wc -l < "$OUT/pcap$tag.norm")
	if cmp -s "$OUT/pcap$tag.norm" "$OUT/pcapng$tag.norm" && cmp -s "$OUT/pcapng$tag.norm" "$OUT/libpcap$tag.norm" &&
		[ "$lines" -gt 50 ]; then
		echo "ok: ${filter:-no filter}: pcap, pcapng (block reader) and pcapng (libpcap) give the same $lines JSON lines"
	else
		echo "FAIL: ${filter:-no filter}: the JSON lines differ ($lines lines from the pcap)"
		fail=1
	fi
done
# Cut inside a packet block: reported with the offset, what came before is kept.
size=$(stat -c %s "$OUT/t.pcapng")
head -c $((size / 2 + 7)) "$OUT/t.pcapng" > "$OUT/cut.pcapng"
"$PROBE" "${common[@]}" --read "$OUT/cut.pcapng" --json-out "$OUT/cut.json" 2> "$OUT/cut.log"
rc=$?
if [ $rc = 1 ] && grep -q "truncated pcapng block at offset [0-9]*" "$OUT/cut.log" &&
	tail -1 "$OUT/cut.json" | grep -q '"type":"summary"'; then
	echo "ok: a cut pcapng: exit 1, $(grep -o 'truncated pcapng block at offset [0-9]*' "$OUT/cut.log"), summary written"
else
	echo "FAIL: a cut pcapng: exit $rc, $(tail -2 "$OUT/cut.log")"
	fail=1
fi
exit $fail
