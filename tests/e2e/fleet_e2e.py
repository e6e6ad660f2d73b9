#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""fleet_e2e.py - several collectors, one view: two collectors, each writing to its own
ClickHouse shard, read through Distributed tables over both (--history
clickhouse://...?cluster=ep), against a collector that got every probe's windows and keeps
them in memory.

Two clickhouse-server processes on loopback ports form the cluster "ep" (two shards).
Collector A ingests probes pa and pb and keeps ten minutes at 1 s in memory; collector B
ingests probe pc and keeps one minute at 1 s and two minutes at 1 min, so that its answers
come mostly from the store. Collector M gets the windows of all three probes, no history.
Asserts:
- each shard holds only its own collector's rows, and the Distributed table both;
- both A's and B's answers (ASN list, one ASN's histogram, series at 1 s and at 1 min) equal
  M's exactly, although neither A nor B ingested all the probes;
- each answers for the other's probes (probe=ID) from the store, equal to M's per-probe
  answers; an unknown probe is still a 404;
- the same after kill -9 of B and a restart, and after a restart of A.

usage: fleet_e2e.py COLLECTOR HOSTILE_SEND WORKDIR CLICKHOUSE_SERVER
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import FAILS, OKS, ClickHouse, Collector, fail, free_port, ok  # noqa: E402

collector, send, out, server = sys.argv[1:5]
NOW = time.time_ns()
END0 = NOW - NOW % 60_000_000_000 - 240 * 1_000_000_000  # 4 min ago, on a minute
N = 1500  # 100 ms windows: 150 s
A_TIERS = ["--tiers", "100ms:2s,1s:10m,1m:1h", "--probe-tiers", "1s:10m,1m:1h"]
B_TIERS = ["--tiers", "100ms:2s,1s:1m,1m:2m", "--probe-tiers", "1s:1m,1m:2m"]
M_TIERS = ["--tiers", "100ms:2s,1s:1h,1m:1d", "--probe-tiers", "1s:1h,1m:1d"]
END = END0 + (N + 50) * 100_000_000
QUERIES = ["/api/v1/asns?range=5m&end={e}", "/api/v1/asns/64521/histogram?range=5m&end={e}",
           "/api/v1/asns/64523/series?range=5m&step=1s&end={e}",
           "/api/v1/asns/64526/series?range=5m&step=1m&metric=rtt_data&q=0.9&end={e}",
           "/api/v1/asns/64520/series?range=5m&step=1m&metric=retx_rate&end={e}",
           "/api/v1/asns?range=1m&end={e}"]


REMOTE = ["/api/v1/asns?range=5m&probe={p}&end={e}",
          "/api/v1/asns/64522/series?range=5m&step=1m&probe={p}&end={e}"]


def compare_remote(name, c, m, probe):
    """c answers for a probe that another collector ingests, from the shared store."""
    bad = []
    for q in REMOTE:
        a, b = c.get(q.format(p=probe, e=END)), m.get(q.format(p=probe, e=END))
        if strip(a) != strip(b) or a.get("probe") != probe:
            bad.append((q, json.dumps(strip(a))[:300], json.dumps(strip(b))[:300]))
    code, _ = c.get_err(f"/api/v1/asns?range=5m&probe=nobody&end={END}")
    if bad or code != 404:
        fail(f"{name}: probe={probe} of the other collector: {bad}; unknown probe: {code}")
    else:
        ok(f"{name}: answers for probe={probe}, which the other collector ingests, equal the "
           f"reference's; an unknown probe is still 404")


def past(c, ids, epoch, n, end):
    subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", ids, str(epoch), str(n), str(end)],
                   capture_output=True, timeout=60, check=True)


def msgs(c):
    return sum(p["msgs"] for p in c.get("/api/v1/probes")["probes"])


def settle(c, want):
    """Until c merged want messages, closed every window and wrote what it closed."""
    deadline = time.time() + 30
    while time.time() < deadline and msgs(c) < want:
        time.sleep(0.05)
    time.sleep(1.5)  # idle close
    while time.time() < deadline:
        h = c.history()
        if not h or h.get("edgeprobe_collector_history_queue_bytes", 1) == 0:
            break
        time.sleep(0.2)
    time.sleep(0.3)


def strip(j):
    j = dict(j)
    for k in ("resolution_ns", "step_ns"):
        j.pop(k, None)
    return j


def compare(name, c, m):
    bad = []
    n = 0
    for q in QUERIES:
        a, b = c.get(q.format(e=END)), m.get(q.format(e=END))
        if q == QUERIES[0]:
            n = sum(x["rtt_data"]["n"] for x in a.get("asns", []))
            want = sum(x["rtt_data"]["n"] for x in b.get("asns", []))
        if strip(a) != strip(b):
            bad.append((q, json.dumps(strip(a))[:400], json.dumps(strip(b))[:400]))
    local = sorted(p["id"] for p in c.get("/api/v1/probes")["probes"])
    if bad or n == 0:
        h = c.history()
        fail(f"{name}: answers differ from the all-probes reference: {bad}; history read "
             f"errors {h.get('edgeprobe_collector_history_read_errors_total')}")
    else:
        ok(f"{name}: {len(QUERIES)} answers (1 s and 1 min) equal the reference's exactly "
           f"({n} in-flow samples of {want}; this collector ingested only {local})")


def main():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if not os.path.exists(server):
        print("skip: clickhouse-server is not installed (scripts/setup installs it)")
        return 77
    ports = [(free_port(), free_port()) for _ in range(2)]
    cluster = "<remote_servers><ep>" + "".join(
        f"<shard><replica><host>127.0.0.1</host><port>{t}</port></replica></shard>"
        for _, t in ports) + "</ep></remote_servers>"
    shards = [ClickHouse(server, os.path.join(out, f"ch{i}"), ports[i], cluster)
              for i in range(2)]
    try:
        return run(shards)
    finally:
        for s in shards:
            s.stop()


def run(shards):
    url = [f"clickhouse://127.0.0.1:{s.http}/edgeprobe_fleet?cluster=ep" for s in shards]
    aargs = A_TIERS + ["--history", url[0], "--history-id", "a"]
    bargs = B_TIERS + ["--history", url[1], "--history-id", "b"]
    a = Collector(collector, out, "a", ["udp://127.0.0.1:0"], aargs)
    b = Collector(collector, out, "b", ["udp://127.0.0.1:0"], bargs)
    m = Collector(collector, out, "m", ["udp://127.0.0.1:0"], M_TIERS)
    past(a, "pa,pb", 1, N, END0)
    past(b, "pc", 5, N - 300, END0 + 200 * 100_000_000)
    past(m, "pa,pb", 1, N, END0)
    past(m, "pc", 5, N - 300, END0 + 200 * 100_000_000)
    settle(a, 2 * N)
    settle(b, N - 300)
    settle(m, 3 * N - 300)

    per = [s.query("SELECT collector, count() FROM edgeprobe_fleet.pair_local GROUP BY collector"
                   " ORDER BY collector FORMAT TSV").split() for s in shards]
    both = shards[0].query("SELECT collector, count() FROM edgeprobe_fleet.pair GROUP BY "
                           "collector ORDER BY collector FORMAT TSV").split()
    if len(per[0]) == 2 and per[0][0] == "a" and len(per[1]) == 2 and per[1][0] == "b" and \
            both == per[0] + per[1]:
        ok(f"sharded by collector: shard 0 holds {per[0]}, shard 1 {per[1]}; the Distributed "
           f"table both")
    else:
        fail(f"shards: {per}, distributed {both}")

    compare("collector A (memory + B's rows)", a, m)
    compare("collector B (mostly the store)", b, m)
    compare_remote("collector A", a, m, "pc")
    compare_remote("collector B", b, m, "pa")

    b.p.send_signal(signal.SIGKILL)
    b.p.wait()
    b = Collector(collector, out, "b2", ["udp://127.0.0.1:0"], bargs)
    compare("collector B after kill -9 and a restart", b, m)
    compare("collector A, B restarted", a, m)
    a.stop()
    a = Collector(collector, out, "a2", ["udp://127.0.0.1:0"], aargs)
    compare("collector A after a restart", a, m)

    # A bad cluster name is refused at start.
    r = subprocess.run([collector, "--listen", "udp://127.0.0.1:0", "--http", "off",
                        "--history", url[0].replace("cluster=ep", "cluster=x;y"),
                        "--run-seconds", "2"], capture_output=True, text=True, timeout=20)
    if r.returncode == 2 and "expected clickhouse://" in r.stderr:
        ok(f"refused at start: {r.stderr.strip()[:120]}")
    else:
        fail(f"bad cluster name: exit {r.returncode} {r.stderr[-200:]!r}")
    for c in (a, b, m):
        c.stop()
    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
