#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tier_list_bench.py - the last hour's list at high cardinality under three tier layouts
(scripts/bench; not part of the test suite).

Three collectors, no history, get the same 3 hours of ASNS ASNs in one window per minute
(hostile_send day, paced): "1m" keeps it at 1 min; "1m+1h" adds a 1 h tier; "1m+10m" a
10 min tier instead. Over the query budget at 1 min, the two others answer from their
coarse tier, the minutes the range cuts read at 1 min (exact). QUERIES queries of
asns?range=1h each: p50 and p99 latency, and whether the answers equal the first's.

usage: tier_list_bench.py COLLECTOR HOSTILE_SEND WORKDIR [ASNS [QUERIES]]
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import Collector  # noqa: E402

collector, send, out = sys.argv[1:4]
ASNS = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
NQ = int(sys.argv[5]) if len(sys.argv) > 5 else 100
LAYOUTS = {"1m": "100ms:2s,1s:1m,1m:3h", "1m+1h": "100ms:2s,1s:1m,1m:2h,1h:4h",
           "1m+10m": "100ms:2s,1s:1m,1m:2h,10m:1d"}


def main():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    now = time.time_ns()
    end = now - now % 60_000_000_000
    cs = {k: Collector(collector, out, k.replace("+", "_"), ["udp://127.0.0.1:0"],
                       ["--tiers", t, "--probe-tiers", "1s:1m,1m:10m", "--memcap", "0",
                        "--max-asns", str(max(20000, ASNS))])
          for k, t in LAYOUTS.items()}
    try:
        for c in cs.values():
            c.feed_day(send, 180, 60, ASNS, end)
        time.sleep(2)
        q = f"/api/v1/asns?range=1h&end={end + 60_000_000_000}&limit=20"
        ref = None
        for name, c in cs.items():
            lat = []
            for _ in range(NQ):
                t0 = time.monotonic()
                body = c.get(q)
                lat.append(time.monotonic() - t0)
            res = body.pop("resolution_ns", None)
            ref = ref or body
            lat.sort()
            print(f"{name:7s} asns?range=1h at {ASNS} ASNs: p50 {1000 * lat[len(lat) // 2]:.1f} ms, "
                  f"p99 {1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]:.1f} ms over {NQ}, "
                  f"resolution {res / 1e9:.0f} s, "
                  f"{'equal to 1m' if body == ref else 'DIFFERENT from 1m'}", flush=True)
    finally:
        for c in cs.values():
            c.stop()


if __name__ == "__main__":
    main()
