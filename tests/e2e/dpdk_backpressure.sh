#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dpdk_backpressure.sh - a slow exporter must not slow the workers: with the exporter
# sleeping 400 ms per window (test knob), a live worker (net_null, TSC clock) keeps its
# cost per packet (TSC cycles per packet while busy, within 30% of the unslowed run) and
# the windows it cannot hand over are dropped and counted.
# Usage: dpdk_backpressure.sh EDGEPROBE WORKDIR
set -eu
PROBE=$1 OUT=$2
mkdir -p "$OUT"
for d in 0 400; do
	"$PROBE" -l 0,1 --no-huge --no-pci -m 256 --file-prefix "bp$$-$d" --vdev net_null0 -- \
		--asn-db none --run-seconds 3 --stats-interval 0 \
		--test-export-delay-ms $d --json-out "$OUT/bp$d.json" 2> "$OUT/bp$d.log"
done
python3 - "$OUT" <<'PY'
import json, re, sys
out = sys.argv[1]
res = {}
for d in (0, 400):
    st = [json.loads(l) for l in open(f"{out}/bp{d}.json")][-1]["stats"]
    m = re.search(r"worker 0 \(lcore \d+\): (\d+) packets, (\d+) cycles/packet", open(f"{out}/bp{d}.log").read())
    res[d] = (st, int(m.group(1)), int(m.group(2)))
(s0, p0, c0), (s4, p4, c4) = res[0], res[400]
print(f"exporter unslowed: worker {p0} packets at {c0} cycles/packet, {s0['windows']} windows "
      f"exported, {s0['windows_dropped']} dropped; exporter at 400 ms/window: worker {p4} packets "
      f"at {c4} cycles/packet, {s4['windows']} exported, {s4['windows_dropped']} dropped")
ok = (s4["windows_dropped"] > 0 and s0["windows_dropped"] == 0 and p0 > 0 and p4 > 0
      and c4 <= 1.3 * c0)
sys.exit(0 if ok else 1)
PY
