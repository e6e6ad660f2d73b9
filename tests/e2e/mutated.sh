#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mutated.sh - captures mutated at random (editcap -E: each byte changed with a given
# probability, several seeds) through edgeprobe-pcap, and through edgeprobe (DPDK,
# net_pcap) when built: no crash, exit 0, and counters that account for every frame:
# packets = frames in the file = the sum of the parse_* classes.  Under the ASan build
# (scripts/test runs the scenario suite there too) any sanitizer report fails the run.
#
# Usage: mutated.sh EDGEPROBE_PCAP GEN OUTDIR [EDGEPROBE]
set -u
PROBE=$1 GEN=$2 OUT=$3 EP=${4:-}
command -v editcap >/dev/null || { echo "SKIP: editcap (wireshark-common) is not installed"; exit 77; }
mkdir -p "$OUT"
"$GEN" "$OUT" >/dev/null || { echo "FAIL: generating the scenario captures"; exit 1; }
fails=0 runs=0
for name in mixed dense; do
	for rate in 0.002 0.02 0.1; do
		for seed in 1 2 3; do
			m="$OUT/$name-$rate-$seed.pcap"
			editcap -E "$rate" --seed "$seed" "$OUT/$name.pcap" "$m" 2>/dev/null ||
				{ echo "FAIL: editcap"; exit 1; }
			frames=$(capinfos -c -M "$m" | awk '/Number of packets/ {print $NF}')
			for probe in pcap dpdk; do
				js="$m.$probe.json"
				if [ $probe = pcap ]; then
					"$PROBE" --read "$m" --asn-db none --json-out "$js" --quiet 2>"$m.$probe.err"
				else
					[ -n "$EP" ] && [ -x "$EP" ] || continue
					"$EP" -l 0,1 --no-huge --no-pci -m 256 --file-prefix mut$$ \
						--vdev "net_pcap0,rx_pcap=$m" -- --asn-db none --stop-after-idle 300 \
						--stats-interval 0 --json-out "$js" --quiet 2>"$m.$probe.err"
				fi
				rc=$?
				runs=$((runs + 1))
				if [ $rc != 0 ] || grep -q "ERROR: AddressSanitizer\|runtime error" "$m.$probe.err"; then
					echo "FAIL: $probe on $m: exit $rc: $(tail -5 "$m.$probe.err")"
					fails=$((fails + 1))
					continue
				fi
				python3 - "$js" "$frames" "$probe $(basename "$m")" <<'PY' || fails=$((fails + 1))
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]["stats"]
frames, name = int(sys.argv[2]), sys.argv[3]
parsed = sum(v for k, v in s.items() if k.startswith("parse_"))
bad = sum(v for k, v in s.items() if k.startswith("parse_") and k not in
          ("parse_tcp", "parse_not_ip", "parse_not_tcp", "parse_fragment"))
if s["packets"] != frames or parsed != frames:
    print(f"FAIL: {name}: {frames} frames, packets {s['packets']}, parse classes add up to {parsed}")
    sys.exit(1)
print(f"ok: {name}: {frames} frames = packets = sum of parse classes ({bad} malformed)")
PY
			done
		done
	done
done
echo "$runs runs, $fails failed"
[ $fails = 0 ]
