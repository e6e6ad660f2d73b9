#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Detection latency (scripts/bench): the same injected degradation (+80 ms, 3 % loss on the
most popular of 8 ISPs, 150 s into a 240 s capture replayed on the wall clock) detected by
edgeprobe-collector's alert engine and by two real Prometheus servers scraping its /metrics
(every 1 s with rate over 5 s, every 15 s with rate over 60 s), each with the equivalent
histogram_quantile rule and `for: 0`, all delivering to one Debian prometheus-alertmanager.
Reports, per source, the time from the degradation's onset until Alertmanager lists the
alert, and for edgeprobe also from the close of the window that fired it.

Usage: alert_latency.py COLLECTOR PCAP_PROBE GEN_TRAFFIC OUTDIR
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import _SPAWNED, am_alerts, free_port, iso, spawn_collector, start_am  # noqa: E402

collector, probe, gen, out = sys.argv[1:5]
ONSET_S, SECONDS = 150, 240
PROM = shutil.which("prometheus")

RULES = """[rtt_up]
metric = rtt_data:p90
over = 5s
baseline = 2m
ratio = 1.5
margin = 20ms
min_samples = 30
pending = 0
resolve = 5
"""


def prometheus(name, http_port, am_port, scrape_s, window_s):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    q = ('histogram_quantile(0.9, sum by (asn, le) (rate(edgeprobe_rtt_seconds_bucket{kind="data"}'
         f'[{window_s}s]{{off}})))')
    now, base = q.replace("{off}", ""), q.replace(f"[{window_s}s]{{off}}", f"[2m] offset {window_s}s")
    open(os.path.join(d, "rules.yml"), "w").write(f"""groups:
  - name: latency
    interval: {scrape_s}s
    rules:
      - alert: {name}
        expr: ({now}) > 1.5 * ({base}) and ({now}) > ({base}) + 0.02
        for: 0s
""")
    open(os.path.join(d, "prometheus.yml"), "w").write(f"""global:
  scrape_interval: {scrape_s}s
  evaluation_interval: {scrape_s}s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{am_port}']
scrape_configs:
  - job_name: edgeprobe
    static_configs:
      - targets: ['127.0.0.1:{http_port}']
""")
    log = open(os.path.join(d, "prometheus.log"), "w")
    p = subprocess.Popen([PROM, f"--config.file={os.path.join(d, 'prometheus.yml')}",
                          f"--storage.tsdb.path={os.path.join(d, 'data')}",
                          f"--web.listen-address=127.0.0.1:{free_port()}"], stdout=log, stderr=log)
    _SPAWNED.append(p)
    return p


def main():
    if not PROM or not shutil.which("prometheus-alertmanager"):
        print("skipped: prometheus or prometheus-alertmanager is not installed")
        return 0
    os.makedirs(out, exist_ok=True)
    pcap = os.path.join(out, "latency.pcap")
    asns_f = os.path.join(out, "latency.asn.csv")
    truth_f = os.path.join(out, "latency.truth.json")
    subprocess.run([gen, pcap, "--asns", "8", "--flows", "12000", "--segs", "12", "--seconds",
                    str(SECONDS), "--seed", "1", "--degrade", f"0:{ONSET_S}:60:80:0.03",
                    "--truth", truth_f, "--asn-subset", asns_f], check=True, capture_output=True)
    target = [t["asn"] for t in json.load(open(truth_f)) if t["degraded"]][0]
    rules = os.path.join(out, "rules.ini")
    open(rules, "w").write(RULES)
    am_port = free_port()
    am = start_am(shutil.which("prometheus-alertmanager"), out, am_port, "am")
    c, (tcp,), http_port = spawn_collector(collector, out, "collector", ["tcp://127.0.0.1:0"],
                                           ["--alert-rules", rules, "--alertmanager",
                                            f"http://127.0.0.1:{am_port}", "--quiet"])
    proms = [prometheus("prometheus_1s", http_port, am_port, 1, 5),
             prometheus("prometheus_15s", http_port, am_port, 15, 60)]
    time.sleep(2)
    t0 = time.time()
    pr = subprocess.Popen([probe, "--read", pcap, "--realtime", "--asn-db", asns_f, "--local-net",
                           "192.0.2.0/24,2001:db8:ff::/48", "--probe-id", "edge-l",
                           "--collector", f"tcp://127.0.0.1:{tcp}", "--quiet"])
    _SPAWNED.append(pr)
    onset = t0 + ONSET_S
    first = {}
    while time.time() < onset + 150 and len(first) < 3:
        now = time.time()
        try:
            for a in am_alerts(am_port):
                name = a["labels"]["alertname"]
                if a["labels"].get("asn") == str(target) and name not in first:
                    first[name] = now
                elif a["labels"].get("asn") != str(target) and (name, a["labels"].get("asn")) \
                        not in first:
                    first[(name, a["labels"].get("asn"))] = now
        except Exception:
            pass
        time.sleep(0.05)
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/v1/alerts", timeout=10) as r:
        ours = [a for a in json.loads(r.read())["alerts"] if a["asn"] == target]
    for p in proms + [pr, c, am]:
        p.terminate()
    res = {"onset_wall": onset}
    for name in ("rtt_up", "prometheus_1s", "prometheus_15s"):
        res[name] = round(first[name] - onset, 2) if name in first else None
    if ours:
        res["rtt_up_after_window_close_ms"] = round((first.get("rtt_up", 0) -
                                                     iso(ours[0]["fired_at"])) * 1000, 1)
    res["false_alerts"] = [k for k in first if isinstance(k, tuple)]
    print(json.dumps(res))
    print(f"onset -> listed by Alertmanager: edgeprobe {res['rtt_up']} s "
          f"({res.get('rtt_up_after_window_close_ms')} ms after the firing window closed), "
          f"Prometheus scraping every 1 s {res['prometheus_1s']} s, every 15 s "
          f"{res['prometheus_15s']} s; alerts for other ISPs: {res['false_alerts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
