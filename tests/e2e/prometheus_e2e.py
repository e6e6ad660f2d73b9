#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real Prometheus server (Debian's prometheus, on loopback) scrapes the
collector's /metrics after a scenario replay; PromQL must return what the
ground truth predicts:

- histogram_quantile(q, edgeprobe_rtt_data_seconds_bucket{asn=...}) equals
  Prometheus's linear interpolation over the true samples put into the same
  le buckets (each sample by the lowest value of its HDR bucket), for several q;
- the per-ASN counters equal the truth;
- the collector's own counters are there.

Usage: prometheus_e2e.py COLLECTOR PCAP_PROBE GEN OUTDIR
Exit 77 when no prometheus binary is installed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import FAILS, fail, free_port, hdr_top, spawn_collector  # noqa: E402

collector, probe, gen, out = sys.argv[1:5]
prom = shutil.which("prometheus")
if not prom:
    print("SKIP: no prometheus binary (Debian package prometheus; scripts/setup installs it)")
    sys.exit(77)
LE_US = [100, 250, 500, 1000, 2500, 5000, 10000, 20000, 30000, 50000, 75000, 100000, 150000,
         200000, 300000, 500000, 1000000, 2500000, 5000000, 10000000]
# The collector moves each nominal bound up to the top of its HDR bucket.
LE_US = [hdr_top(v) for v in LE_US]


def expected_quantile(samples, q):
    """Prometheus's histogram_quantile over le buckets filled as the collector does."""
    counts = [0] * (len(LE_US) + 1)
    for v in samples:
        top = hdr_top(v)
        i = next((i for i, le in enumerate(LE_US) if top <= le), len(LE_US))
        counts[i] += 1
    total = sum(counts)
    rank = q * total
    cum = 0
    for i, c in enumerate(counts):
        if cum + c >= rank and c:
            if i == len(LE_US):
                return LE_US[-1] / 1e6
            lower = LE_US[i - 1] / 1e6 if i else 0.0
            upper = LE_US[i] / 1e6
            return lower + (upper - lower) * (rank - cum) / c
        cum += c
    return None


def promql(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]["result"]


def main():
    os.makedirs(out, exist_ok=True)
    subprocess.run([gen, out], check=True, capture_output=True)
    truth = json.load(open(os.path.join(out, "mixed.truth.json")))
    pport = free_port()  # Prometheus's own (it cannot report a port it chose)
    c, (udp,), http = spawn_collector(collector, out, "collector", ["udp://127.0.0.1:0"],
                                      ["--quiet", "--metrics-probe-asns", "100"])
    time.sleep(0.3)
    subprocess.run([probe, "--read", os.path.join(out, "mixed.pcap"), "--asn-db", truth["asn_file"],
                    "--local-net", truth["local_net"], "--probe-id", "prom", "--collector",
                    f"udp://127.0.0.1:{udp}", "--json-out", os.path.join(out, "probe.jsonl"),
                    "--quiet"], check=True)
    # The probe's own packet count (its summary line) for edgeprobe_probe_packets_total.
    with open(os.path.join(out, "probe.jsonl")) as fp:
        last = json.loads(fp.read().splitlines()[-1])
    json.dump({"packets": (last.get("stats") or last.get("summary", {}).get("stats", {})).get("packets")},
              open(os.path.join(out, "probe.json"), "w"))
    cfg = os.path.join(out, "prometheus.yml")
    with open(cfg, "w") as fp:
        fp.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: edgeprobe
    static_configs:
      - targets: ['127.0.0.1:{http}']
""")
    data = os.path.join(out, "prom-data")
    shutil.rmtree(data, ignore_errors=True)
    plog = open(os.path.join(out, "prometheus.log"), "w")
    p = subprocess.Popen([prom, f"--config.file={cfg}", f"--storage.tsdb.path={data}",
                          f"--web.listen-address=127.0.0.1:{pport}"], stdout=plog, stderr=plog)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                r = promql(pport, 'edgeprobe_rtt_seconds_count{asn="64501",kind="data"}')
                if r:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        else:
            fail("prometheus never scraped the collector (see prometheus.log)")
            return 1
        checked = 0
        for asn, t in truth["asns"].items():
            for kind, key in (("data", "rtt_data"), ("handshake", "rtt_hs")):
                for q in (0.5, 0.9, 0.99):
                    want = expected_quantile(t[key], q)
                    r = promql(pport, f'histogram_quantile({q}, sum by (le) (edgeprobe_rtt_seconds_bucket'
                                      f'{{asn="{asn}",kind="{kind}"}}))')
                    got = float(r[0]["value"][1]) if r else None
                    if got is None or abs(got - want) > 1e-9 * max(1.0, want):
                        fail(f"AS{asn} {kind} histogram_quantile({q}) = {got}, expected {want}")
                    checked += 1
            for k in ("segs_out", "retx_out", "flows_new"):
                r = promql(pport, f'edgeprobe_asn_{k}_total{{asn="{asn}"}}')
                got = int(float(r[0]["value"][1])) if r else None
                if got != t[k]:
                    fail(f"AS{asn} edgeprobe_asn_{k}_total = {got}, truth {t[k]}")
        r = promql(pport, "edgeprobe_collector_msgs_accepted_total")
        if not r or float(r[0]["value"][1]) < 1:
            fail(f"edgeprobe_collector_msgs_accepted_total: {r}")
        r = promql(pport, 'edgeprobe_probe_lost_messages_total{probe="prom"}')
        if not r or float(r[0]["value"][1]) != 0:
            fail(f"edgeprobe_probe_lost_messages_total: {r}")
        # Names only on the info metric; the probe's own counters; the build.
        r = promql(pport, 'count(edgeprobe_rtt_seconds_count{org!=""}) or vector(0)')
        if float(r[0]["value"][1]) != 0:
            fail("org is still a label of edgeprobe_rtt_seconds")
        r = promql(pport, 'edgeprobe_asn_info')
        if len(r) != len(truth["asns"]) or any(not x["metric"].get("org") for x in r):
            fail(f"edgeprobe_asn_info: {r}")
        r = promql(pport, 'edgeprobe_probe_packets_total{probe="prom"}')
        pk = json.load(open(os.path.join(out, "probe.json")))["packets"] if os.path.exists(
            os.path.join(out, "probe.json")) else None
        if not r or float(r[0]["value"][1]) < 1 or (pk is not None and float(r[0]["value"][1]) != pk):
            fail(f"edgeprobe_probe_packets_total: {r}, the probe counted {pk}")
        # One probe: its own RTT family (--metrics-probe-asns) equals the all-probes one.
        a = promql(pport, 'sum by (asn, kind, le) (edgeprobe_rtt_seconds_bucket)')
        b = promql(pport, 'sum by (asn, kind, le) (edgeprobe_probe_rtt_seconds_bucket{probe="prom"})')
        key = lambda r: sorted((tuple(sorted(x["metric"].items())), x["value"][1]) for x in r)  # noqa: E731
        if not a or key(a) != key(b):
            fail(f"edgeprobe_probe_rtt_seconds: {len(b)} series differ from edgeprobe_rtt_seconds ({len(a)})")
        r = promql(pport, 'edgeprobe_build_info')
        if not r or not r[0]["metric"].get("version"):
            fail(f"edgeprobe_build_info: {r}")
        if not FAILS:
            print(f"ok: Prometheus {checked} histogram_quantile queries over "
                  f"{len(truth['asns'])} ASNs equal the truth's interpolation; counters equal; "
                  f"org only on edgeprobe_asn_info; the probe's packet count; build info; the "
                  f"per-probe RTT family equals the all-probes one")
    finally:
        p.terminate()
        c.terminate()
        p.wait(timeout=20)
        c.wait(timeout=10)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
