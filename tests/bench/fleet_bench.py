#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""fleet_bench.py - sustained ingest with the history in ClickHouse, one collector and then
two on the same ClickHouse server (scripts/bench; not part of the test suite).

Each collector gets PROBES probes x ASNS ASNs every 100 ms for SECONDS from its own
collector_load. Reported per run: messages merged and lost, the collectors' and
ClickHouse's CPU (seconds, and ns per ASN record), rows written, the writers' largest lag
and queue, how long after the load the queues drained, and what ClickHouse holds on disk.

usage: fleet_bench.py COLLECTOR COLLECTOR_LOAD CLICKHOUSE_SERVER WORKDIR [PROBES ASNS SECONDS]
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import ClickHouse, Collector  # noqa: E402

collector, load, server, out = sys.argv[1:5]
PROBES = int(sys.argv[5]) if len(sys.argv) > 5 else 100
ASNS = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
SECS = int(sys.argv[7]) if len(sys.argv) > 7 else 10
HZ = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        x = f.read().rsplit(")", 1)[1].split()
    return (int(x[11]) + int(x[12])) / HZ


def run(ch, n, db):
    url = f"clickhouse://127.0.0.1:{ch.http}/{db}"
    cs = [Collector(collector, out, f"{db}-{i}", ["udp://127.0.0.1:0"],
                    ["--history", url, "--history-id", f"c{i}", "--history-queue", "2G"])
          for i in range(n)]
    c0 = [cpu(c.p.pid) for c in cs]
    h0 = cpu(ch.p.pid)
    peak = [{"lag": 0.0, "queue": 0.0} for _ in cs]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for i, c in enumerate(cs):
                m = c.history()
                peak[i]["lag"] = max(peak[i]["lag"], m.get("edgeprobe_collector_history_lag_seconds", 0))
                peak[i]["queue"] = max(peak[i]["queue"],
                                       m.get("edgeprobe_collector_history_queue_bytes", 0))
            time.sleep(0.5)
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    gens = [subprocess.Popen([load, f"127.0.0.1:{c.ports[0]}", str(PROBES), str(ASNS), str(SECS)],
                             stdout=subprocess.PIPE, text=True) for c in cs]
    gen = [json.loads(g.communicate(timeout=SECS + 120)[0]) for g in gens]
    t_end = time.monotonic()
    while time.monotonic() - t_end < 600:
        if all(c.history().get("edgeprobe_collector_history_queue_bytes", 1) == 0 for c in cs):
            break
        time.sleep(0.5)
    drained = time.monotonic() - t_end
    stop.set()
    w.join()
    api = [c.get("/api/v1/probes?limit=1000") for c in cs]
    m = [c.history() for c in cs]
    cc = sum(cpu(c.p.pid) - x for c, x in zip(cs, c0))
    hc = cpu(ch.p.pid) - h0
    for c in cs:
        c.stop()
    records = sum(g["records"] for g in gen)
    sent = sum(g["sent"] for g in gen)
    merged = sum(a["collector"]["msgs_accepted"] for a in api)
    lost = sum(p["lost"] for a in api for p in a["probes"])
    rows = sum(x.get("edgeprobe_collector_history_rows_written_total", 0) for x in m)
    dropped = sum(x.get("edgeprobe_collector_history_buckets_dropped_total", 0) for x in m)
    disk = int(ch.query(f"SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '{db}'"
                        " AND active").strip() or 0)
    print(f"{n} collector(s), each {PROBES} probes x {ASNS} ASNs every 100 ms for {SECS} s "
          f"({records / SECS:,.0f} ASN records/s in all): {merged:,} of {sent:,} messages "
          f"merged, {lost} lost; collectors' CPU {cc:.1f} s ({1e9 * cc / records:.0f} ns per "
          f"record), ClickHouse's {hc:.1f} s ({1e9 * hc / records:.0f} ns per record); "
          f"{rows:,.0f} rows written ({rows / (SECS + drained):,.0f}/s), {dropped:.0f} buckets "
          f"dropped; writer lag at most {max(p['lag'] for p in peak):.1f} s, queue at most "
          f"{max(p['queue'] for p in peak) / 2**20:.0f} MiB, drained {drained:.1f} s after the "
          f"load; on disk {disk / 2**20:.1f} MiB", flush=True)


def main():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    ch = ClickHouse(server, os.path.join(out, "ch"))
    try:
        run(ch, 1, "one")
        run(ch, 2, "two")
    finally:
        ch.stop()


if __name__ == "__main__":
    main()
