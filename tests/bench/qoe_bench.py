#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""qoe_bench.py - players' CMCD reports into the collector: reports per second and collector
CPU per report, alone and with the probes' ingest beside it (collector_load: 20 probes x
1,000 ASNs every 100 ms), and memory per active ASN.  The peer in the same run: the same
collector's CPU per RTT record of the probes' ingest alone.

usage: qoe_bench.py COLLECTOR QOE_LOAD COLLECTOR_LOAD ASN_CSV OUTDIR [SECONDS] [MANY_ASN_CSV]
(MANY_ASN_CSV: ranges of 10,000 ASNs for the memory run)
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

coll, qoe_load, coll_load, asn_csv, out = sys.argv[1:6]
secs = sys.argv[6] if len(sys.argv) > 6 else "10"
many = sys.argv[7] if len(sys.argv) > 7 else None
os.makedirs(out, exist_ok=True)
TCK = os.sysconf("SC_CLK_TCK")


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK


def metrics(http):
    text = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=30).read().decode()
    return {k: float(v) for k, v in (x.rsplit(" ", 1) for x in text.splitlines()
                                     if x.startswith("edgeprobe_collector_") and " " in x)}


def run(label, qoe=True, rtt=False, conns=4, per_req=64, ranges=None, own_listener=False):
    udp, http, qhttp = port(), port(), port()
    p = subprocess.Popen([coll, "--listen", f"udp://127.0.0.1:{udp}", "--http", f"127.0.0.1:{http}",
                          "--qoe", "--qoe-trusted-proxy", "127.0.0.1", "--qoe-rate", "0",
                          "--alert-rules", "none", "--quiet"] +
                         (["--qoe-http", f"127.0.0.1:{qhttp}"] if own_listener else []))
    time.sleep(1.0)
    m0, c0 = metrics(http), cpu(p.pid)
    procs = []
    if rtt:
        procs.append(subprocess.Popen([coll_load, f"127.0.0.1:{udp}", "20", "1000", secs],
                                      stdout=subprocess.PIPE, text=True))
    if qoe:
        procs.append(subprocess.Popen([qoe_load, f"127.0.0.1:{qhttp if own_listener else http}",
                                       str(conns), str(per_req),
                                       secs, ranges or asn_csv], stdout=subprocess.PIPE,
                                      text=True))
    outs = [json.loads(x.communicate()[0].splitlines()[-1]) for x in procs]
    time.sleep(0.5)
    m1, c1 = metrics(http), cpu(p.pid)
    active = json.load(urllib.request.urlopen(
        f"http://127.0.0.1:{http}/api/v1/asns?with=qoe&range=1m&limit=1", timeout=60))["total"]
    p.terminate()
    p.wait(timeout=20)
    reports = m1.get("edgeprobe_collector_qoe_reports_total", 0) - m0.get(
        "edgeprobe_collector_qoe_reports_total", 0)
    records = m1["edgeprobe_collector_msgs_accepted_total"] - m0[
        "edgeprobe_collector_msgs_accepted_total"]
    used = c1 - c0
    q = outs[-1] if qoe else {"seconds": float(secs), "refused": 0, "errors": 0}
    r = {"label": label, "cpu_s": round(used, 2), "qoe_reports": int(reports),
         "reports_per_s": round(reports / q["seconds"]), "rtt_messages": int(records),
         "refused": q["refused"], "errors": q["errors"],
         "qoe_memory_bytes": m1.get("edgeprobe_collector_qoe_memory_bytes", 0),
         "qoe_memory_fixed": m0.get("edgeprobe_collector_qoe_memory_bytes", 0),
         "asns": active}
    if active:
        r["bytes_per_asn"] = round((r["qoe_memory_bytes"] - r["qoe_memory_fixed"]) / active)
    if qoe and reports:
        r["reports_per_cpu_s"] = round(reports / used)
    print(json.dumps(r), flush=True)
    return r


alone = run("qoe alone, 4 connections x 64 reports per request")
small = run("qoe alone, 4 connections x 1 report per request", per_req=1)
own = run("qoe alone, 1 report per request, on --qoe-http (epoll threads)", per_req=1,
          own_listener=True)
own64 = run("qoe alone, 64 reports per request, on --qoe-http", own_listener=True)
rtt = run("rtt alone (20 probes x 1,000 ASNs every 100 ms)", qoe=False, rtt=True)
both = run("qoe with rtt beside", rtt=True)
print(f"qoe: {alone['reports_per_s']:,} reports/s through HTTP (64 per request, 4 connections), "
      f"{alone.get('reports_per_cpu_s', 0):,} per collector CPU-second; one report per request: "
      f"{small['reports_per_s']:,}/s, {small.get('reports_per_cpu_s', 0):,} per CPU-second; with "
      f"the probes' ingest beside: {both['reports_per_s']:,}/s while the collector also merged "
      f"{both['rtt_messages']:,} probe messages (alone: {rtt['rtt_messages']:,}), CPU "
      f"{both['cpu_s']} s vs {alone['cpu_s']} + {rtt['cpu_s']} s apart; on --qoe-http: one "
      f"report per request {own['reports_per_s']:,}/s, {own.get('reports_per_cpu_s', 0):,} per "
      f"CPU-second, 64 per request {own64.get('reports_per_cpu_s', 0):,} per CPU-second")
if many:
    mem = run("qoe over 10,000 ASNs (memory)", ranges=many)
    print(f"qoe memory: {mem['asns']:,} ISPs reported on over {secs} s: "
          f"{mem['bytes_per_asn']:,} bytes of roll-ups per ISP above the fixed "
          f"{mem['qoe_memory_fixed'] / 2**20:.1f} MiB (session and rate tables)")
