#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""api_json_bench.py - what writing a list's JSON costs, beside what summing it costs
(scripts/bench; not part of the test suite).

Each collector given gets the same 10 minutes of ASNS ASNs, one window per minute
(hostile_send day, paced). Then, interleaved, QUERIES times each: asns?range=10m with
limit=10 (the sums, 10 entries written) and with limit=ASNS (the same sums, every entry
written). The difference of the p50s over the extra entries is the cost of one entry's
JSON. With a second collector binary (e.g. an older build), both run in the same run and
the answers must be equal.

usage: api_json_bench.py HOSTILE_SEND WORKDIR ASNS QUERIES COLLECTOR [COLLECTOR ...]
"""
import json
import os
import shutil
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import Collector  # noqa: E402


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    send, out, asns, nq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    bins = sys.argv[5:]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    now = time.time_ns()
    end = now - now % 60_000_000_000
    cs = [Collector(b, out, f"c{i}", ["udp://127.0.0.1:0"],
                    ["--tiers", "100ms:2s,1s:1m,1m:1h", "--memcap", "0",
                     "--max-asns", str(max(20000, asns))]) for i, b in enumerate(bins)]
    try:
        for c in cs:
            c.feed_day(send, 10, 60, asns, end)
        time.sleep(1)
        q = f"/api/v1/asns?range=10m&end={end + 60_000_000_000}&limit="
        lat = {(i, n): [] for i in range(len(cs)) for n in (10, asns)}
        size = {}
        ref = None
        for _ in range(nq):
            for i, c in enumerate(cs):
                for n in (10, asns):
                    t0 = time.monotonic()
                    with urllib.request.urlopen(c.url(q + str(n)), timeout=60) as r:
                        body = r.read()
                    lat[(i, n)].append(time.monotonic() - t0)
                    size[n] = len(body)
                    if n == asns:
                        doc = json.loads(body)
                        ref = ref or doc
                        if doc != ref:
                            print(f"collector {i}: answer DIFFERENT from collector 0", flush=True)
        for i, b in enumerate(bins):
            small, big = pct(lat[(i, 10)], 0.5), pct(lat[(i, asns)], 0.5)
            per = (big - small) / (asns - 10) * 1e6
            print(f"api_json {b}: "
                  f"asns?range=10m at {asns} ASNs, p50 limit=10 {small * 1000:.1f} ms, "
                  f"limit={asns} {big * 1000:.1f} ms ({size[asns] >> 10} KiB), "
                  f"{per:.2f} us per entry written, p99 {pct(lat[(i, asns)], 0.99) * 1000:.1f} ms",
                  flush=True)
    finally:
        for c in cs:
            c.stop()


if __name__ == "__main__":
    main()
