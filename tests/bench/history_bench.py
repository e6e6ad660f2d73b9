#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""history_bench.py - query latency over a day of data from memory, SQLite and ClickHouse
(scripts/bench; not part of the test suite).

Three collectors get the same day: ASNS ASNs in one window per minute for 24 h (hostile_send
day). "memory" keeps the day in its 1 min tier; "sqlite" and "clickhouse" keep 10 minutes
in memory and the rest in their history. For each, QUERIES queries of asns?range=1h,
asns?range=1d and asns/ASN/series?range=1d: p50 and p99 latency, and whether the answers
equal memory's.

"sqlite-1h" adds a fourth tier of 1 h (memory holds 4 h of it and 2 h of 1 min, the history
a year): a day's list then reads 24 rows per ASN instead of 1,440.
"clickhouse-1h" is the same in ClickHouse.
HISTORY_BENCH_ONLY=name,... runs only those (the first is the reference of the others).
HISTORY_BENCH_PACE_US: microseconds between two ASN records of the feed (4): more leaves the
collectors, their writers and ClickHouse the CPU to keep up on a small machine.

usage: history_bench.py COLLECTOR HOSTILE_SEND CLICKHOUSE_SERVER WORKDIR [ASNS [QUERIES]]
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import ClickHouse, Collector  # noqa: E402

collector, send, server, out = sys.argv[1:5]
ASNS = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
NQ = int(sys.argv[6]) if len(sys.argv) > 6 else 20
SMALL = ["--tiers", "100ms:2s,1s:1m,1m:10m", "--probe-tiers", "1s:1m,1m:10m",
         "--retain", "1s=1d,1m=90d", "--max-asns", "20000",
         "--history-queue", "8G"]  # a day fed in seconds: the writer catches up after
HOUR = ["--tiers", "100ms:2s,1s:1m,1m:2h,1h:4h", "--probe-tiers", "1s:1m,1m:10m",
        "--retain", "1s=1d,1m=90d,1h=365d", "--max-asns", "20000", "--history-queue", "8G"]
LARGE = ["--tiers", "100ms:2s,1s:1m,1m:1d", "--probe-tiers", "1s:1m,1m:10m",
         "--max-asns", "20000", "--memcap", "0"]  # the reference sheds nothing


def get(c, path):
    t0 = time.monotonic()
    with urllib.request.urlopen(c.url(path), timeout=600) as r:
        body = json.loads(r.read())
    return time.monotonic() - t0, body


def main():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    ch = ClickHouse(server, os.path.join(out, "ch"))
    now = time.time_ns()
    end = now - now % 60_000_000_000
    try:
        only = [x for x in os.environ.get("HISTORY_BENCH_ONLY", "").split(",") if x]
        args = {"memory": ("mem", LARGE),
                "sqlite": ("sqlite", SMALL + ["--history", os.path.join(out, "h.db")]),
                "clickhouse": ("ch", SMALL + ["--history",
                                              f"clickhouse://127.0.0.1:{ch.http}/bench"]),
                "sqlite-1h": ("sqlite1h", HOUR + ["--history", os.path.join(out, "h1h.db")]),
                "clickhouse-1h": ("ch1h", HOUR + ["--history",
                                                  f"clickhouse://127.0.0.1:{ch.http}/bench1h"])}
        pace = os.environ.get("HISTORY_BENCH_PACE_US", "4")
        cs = {k: Collector(collector, out, args[k][0], ["udp://127.0.0.1:0"], args[k][1])
              for k in (only or ["memory", "sqlite", "clickhouse", "sqlite-1h", "clickhouse-1h"])}
        for name, c in cs.items():
            t0 = time.monotonic()
            r = subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "day", "1440", "60", str(ASNS),
                                str(end), pace], capture_output=True, text=True, timeout=1200)
            sent = json.loads(r.stdout)["msgs"]
            for _ in range(1200):
                got = sum(p["msgs"] for p in c.get("/api/v1/probes")["probes"])
                if got >= sent:
                    break
                time.sleep(0.1)
            time.sleep(2)
            print(f"{name}: fed {sent} messages ({1440 * ASNS:,} ASN records) in "
                  f"{time.monotonic() - t0:.1f} s, merged {got}", flush=True)
        # Let the writers finish: the history queue empty.
        for name in [k for k in cs if k != "memory"]:
            t0 = time.monotonic()
            for _ in range(1200):
                with urllib.request.urlopen(cs[name].url("/metrics"), timeout=30) as r:
                    m = {x.split()[0]: float(x.split()[1]) for x in r.read().decode().splitlines()
                         if x.startswith("edgeprobe_collector_history_")}
                if m.get("edgeprobe_collector_history_queue_bytes", 1) == 0:
                    break
                time.sleep(0.5)
            print(f"{name}: the writer drained its queue {time.monotonic() - t0:.1f} s after the "
                  f"feed; rows written {m.get('edgeprobe_collector_history_rows_written_total', 0):,.0f}, "
                  f"buckets dropped {m.get('edgeprobe_collector_history_buckets_dropped_total', 0):,.0f}",
                  flush=True)
        e = end + 60_000_000_000
        eh = end - end % 3_600_000_000_000  # whole hours: a 1 h tier answers the same windows
        queries = {"asns 1h": f"/api/v1/asns?range=1h&end={e}&limit=20",
                   "asns 1d": f"/api/v1/asns?range=1d&end={eh}&limit=20",
                   "series 1d": f"/api/v1/asns/{200000 + ASNS // 2}/series?range=1d&step=1m&end={e}"}
        first = "memory" if "memory" in cs else next(iter(cs))
        ref = {q: get(cs[first], p)[1] for q, p in queries.items()}
        for name, c in cs.items():
            for q, p in queries.items():
                lat, same = [], True
                for _ in range(NQ):
                    t, body = get(c, p)
                    lat.append(t)
                    body.pop("resolution_ns", None)
                    r0 = dict(ref[q])
                    r0.pop("resolution_ns", None)
                    same &= body == r0
                lat.sort()
                print(f"{name:10s} {q:9s}: p50 {1000 * lat[len(lat) // 2]:8.1f} ms, p99 "
                      f"{1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]:8.1f} ms over {NQ}, "
                      f"{'equal to ' + first if same else 'DIFFERENT from ' + first}", flush=True)
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)
                   if f.startswith("h.db"))
        size1h = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)
                     if f.startswith("h1h.db"))
        chsize = ch.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench'"
                          " AND active").strip() or "0"
        print(f"history size for the day ({ASNS} ASNs, 1 min, all probes and the one probe's "
              f"view): SQLite {size / 2**20:.0f} MiB (with the 1 h tier {size1h / 2**20:.0f} MiB), "
              f"ClickHouse {int(chsize) / 2**20:.0f} MiB")
        for c in cs.values():
            c.stop()
    finally:
        ch.stop()


if __name__ == "__main__":
    main()
