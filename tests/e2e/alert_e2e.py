#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The alert engine end to end, against Debian's prometheus-alertmanager started here on a
loopback port with its own data directory.

1. A 150 s capture (gen-traffic) in which ISPs of rank 0 and 1 get +80 ms RTT and 3 %
   loss from 80 s to 110 s and rank 2 flaps (4 s on, 4 s off, 80 s to 120 s), replayed
   at 10x its pace into a collector with rules relative to each ISP's own last minute.
   Alertmanager lists each degraded ISP's alert within 1 s of the close of the window
   that fired it, and drops it within 1 s of the resolve; nothing else fires; the
   flapping ISP gives one alert; the webhook receiver run here, the librdkafka mock
   cluster (kcat) and the event stream get the same firing and resolved events; the
   CLI and /metrics agree.
2. 30 minutes of steady traffic (the shipped default rules, replayed as fast as it
   goes): zero alerts.
3. Rules-file errors name their line; SIGHUP reloads a good file and refuses a bad one
   (counted, the old rules stay).
4. Alertmanager down, then up: the alerts are queued, retried (failures counted) and
   delivered; a queue too small drops the oldest and counts them.

Usage: alert_e2e.py COLLECTOR PCAP_PROBE QUERY GEN_TRAFFIC OUTDIR
Exit 77 when prometheus-alertmanager is not installed (scripts/setup installs it).
"""
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import (FAILS, _SPAWNED, am_alerts, fail, free_port, iso, ok, spawn_collector,  # noqa: E402
                    start_am)

collector, probe, query, gen, out = sys.argv[1:6]
AM = shutil.which("prometheus-alertmanager")
KCAT = shutil.which("kcat") or shutil.which("kafkacat")
T0 = 1767225600 * 10**9  # gen-traffic's trace start
LOCAL = "192.0.2.0/24,2001:db8:ff::/48"

RULES = """# the test's rules: relative to the ISP's own previous minute
[rtt_up]
metric = rtt_data:p90
over = 5s
baseline = 60s
ratio = 1.5
margin = 20ms
min_samples = 30
pending = 1
resolve = 5
severity = warning

[retx_up]
metric = retx_rate
over = 10s
baseline = 60s
ratio = 3
margin = 5%
min_samples = 500
pending = 1
resolve = 5

[rtt_absurd]
metric = rtt_data:p50
over = 5s
above = 5s
min_samples = 30
"""


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: every POST body, with its arrival time."""
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.got.append((time.time(), self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def server_bind(self):  # no getfqdn(): no name look-up
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


def get(http_port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=10) as r:
        return json.loads(r.read())


def metrics(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {k: float(v) for k, v in (x.rsplit(" ", 1) for x in text.splitlines()
                                     if x.startswith("edgeprobe_") and " " in x)}


class Stream(threading.Thread):
    """The collector's event stream: the alert events."""

    def __init__(self, http_port):
        super().__init__(daemon=True)
        self.port, self.events = http_port, []

    def run(self):
        try:
            r = urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/stream", timeout=60)
            ev = None
            for line in r:
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    ev = line[7:]
                elif line.startswith("data: ") and ev == "alert":
                    self.events.append(json.loads(line[6:]))
        except Exception:
            pass


def degradation():
    """Part 1."""
    pcap = os.path.join(out, "degrade.pcap")
    truth_f = os.path.join(out, "degrade.truth.json")
    asns_f = os.path.join(out, "degrade.asn.csv")
    subprocess.run([gen, pcap, "--asns", "8", "--flows", "8000", "--segs", "12", "--seconds",
                    "150", "--seed", "1", "--degrade", "0:80:30:80:0.03", "--degrade",
                    "1:80:30:80:0.03", "--degrade", "2:80:40:80:0.03:4", "--truth", truth_f,
                    "--asn-subset", asns_f], check=True, capture_output=True)
    truth = json.load(open(truth_f))
    degraded = {t["asn"]: t for t in truth if t["degraded"]}
    rules = os.path.join(out, "rules.ini")
    open(rules, "w").write(RULES)
    am_port = free_port()
    am = start_am(AM, out, am_port, "am1")
    hook = Server(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    c, (tcp,), http_port = spawn_collector(collector, out, "collector-degrade",
                                           ["tcp://127.0.0.1:0"],
                                           ["--grace-ms", "200", "--alert-rules", rules,
                                            "--alertmanager", f"http://127.0.0.1:{am_port}",
                                            "--alert-webhook",
                                            f"http://127.0.0.1:{hook.server_port}/hook",
                                            "--alert-resend-s", "2", "--kafka-mock", "1",
                                            "--external-url", "http://noc.example:8080"])
    stream = Stream(http_port)
    stream.start()
    time.sleep(0.3)
    pr = subprocess.Popen([probe, "--read", pcap, "--pace", "10", "--asn-db", asns_f,
                           "--local-net", LOCAL, "--probe-id", "edge-1", "--collector",
                           f"tcp://127.0.0.1:{tcp}", "--quiet"])
    _SPAWNED.append(pr)
    seen, gone = {}, {}  # (rule, asn) -> wall time Alertmanager listed it first / dropped it
    deadline = time.time() + 60
    while time.time() < deadline:
        now = time.time()
        listed = set()
        for a in am_alerts(am_port):
            k = (a["labels"]["alertname"], int(a["labels"].get("asn", 0)))
            listed.add(k)
            if k not in seen:
                seen[k] = (now, iso(a["updatedAt"]), a)
        for k in seen:
            if k not in listed and k not in gone:
                gone[k] = now
        if pr.poll() is not None and seen and len(gone) == len(seen) and \
                get(http_port, "/api/v1/alerts")["firing"] == 0:
            break
        time.sleep(0.02)
    pr.wait(timeout=30)
    time.sleep(1.0)
    api = get(http_port, "/api/v1/alerts?state=resolved")
    alerts = api["alerts"]
    fired = {(a["rule"], a["asn"]): a for a in alerts}
    # The RTT rule fires for exactly the three degraded ISPs, once each (the flapping one too).
    rtt = sorted(a["asn"] for a in alerts if a["rule"] == "rtt_up")
    if rtt != sorted(degraded):
        fail(f"rtt_up fired for {rtt}, the degraded ISPs are {sorted(degraded)}")
    else:
        ok(f"rtt_up fired once for each of the 3 degraded ISPs (one of them flapping), "
           f"for no other of {len(truth)}")
    others = [a["id"] for a in alerts if a["asn"] not in degraded or a["rule"] == "rtt_absurd"]
    if others:
        fail(f"alerts for ISPs that were not degraded: {others}")
    for a in alerts:
        start = (a["since_ns"] - T0) / 1e9
        if not 79 <= start <= 95:
            fail(f"{a['id']}: its episode began at trace {start:.1f} s (degraded from 80 s)")
        if a["baseline"] is None or a["value"] is None:
            fail(f"{a['id']}: no value or baseline: {a}")
        if a["rule"] == "rtt_up":
            base = degraded[a["asn"]]["rtt_ms"] * 1000
            if not base * 0.9 <= a["baseline"] <= base * 1.35:
                fail(f"{a['id']}: baseline {a['baseline']} us, the ISP's RTT is {base:.0f} us "
                     f"(+jitter up to 25 %)")
            if a["peak"] < base + 60000:
                fail(f"{a['id']}: peak {a['peak']} us, the degradation adds 80 ms to {base:.0f}")
        if not a["url"].startswith("http://noc.example:8080/#asn="):
            fail(f"{a['id']}: dashboard link {a['url']}")
    # Alertmanager: every alert listed within 1 s of the close of the window that fired it.
    lat = []
    for (rule, asn), a in fired.items():
        k = (rule, asn)
        if k not in seen:
            fail(f"Alertmanager never listed {a['id']}")
            continue
        polled, updated, am_a = seen[k]
        closed = iso(a["fired_at"])
        lat.append(polled - closed)
        if polled - closed > 1.0:
            fail(f"{a['id']}: Alertmanager listed it {polled - closed:.3f} s after its window "
                 f"closed")
        if am_a["labels"].get("severity") != a["severity"] or "summary" not in am_a["annotations"]:
            fail(f"Alertmanager's copy lacks labels or annotations: {am_a}")
        if k not in gone:
            fail(f"{a['id']}: still listed by Alertmanager after its resolve")
        elif gone[k] - iso(a["resolved_at"]) > 1.0:
            fail(f"{a['id']}: Alertmanager dropped it {gone[k] - iso(a['resolved_at']):.3f} s "
                 f"after the resolve")
    extra = [k for k in seen if k not in fired]
    if extra:
        fail(f"Alertmanager got alerts the collector does not list: {extra}")
    if lat and not [f for f in FAILS if "Alertmanager" in f]:
        ok(f"Alertmanager listed {len(lat)} alerts {min(lat) * 1000:.0f}-{max(lat) * 1000:.0f} ms "
           f"after the close of the firing window (limit 1 s), and dropped each within 1 s "
           f"of its resolve")
    # The webhook, the stream and Kafka: one firing and one resolved event per alert.
    want = sorted((a["id"], e) for a in alerts for e in ("firing", "resolved"))
    hooked = sorted((x["id"], x["event"]) for _, path, body in Hook.got for x in body["alerts"])
    if hooked != want or any(p != "/hook" for _, p, _ in Hook.got):
        fail(f"webhook events {hooked} != {want}")
    else:
        ok(f"the webhook received {len(hooked)} events (firing + resolved per alert)")
    streamed = sorted((x["id"], x["event"]) for x in stream.events)
    if streamed != want:
        fail(f"stream events {streamed} != {want}")
    else:
        ok(f"the event stream carried the same {len(streamed)} alert events")
    if KCAT:
        log = open(os.path.join(out, "collector-degrade.log")).read()
        m = re.search(r"kafka: producing to topic \S+ at (\S+)", log)
        r = subprocess.run([KCAT, "-C", "-b", m.group(1), "-t", "edgeprobe-alerts", "-o",
                            "beginning", "-e", "-q", "-J"], capture_output=True, text=True,
                           timeout=60)
        msgs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        kafka = sorted((m["key"], json.loads(m["payload"])["event"]) for m in msgs)
        if kafka != want:
            fail(f"Kafka edgeprobe-alerts {kafka} != {want}: {r.stderr[-300:]}")
        else:
            ok(f"Kafka topic edgeprobe-alerts (librdkafka mock cluster): the same "
               f"{len(kafka)} events, keyed by the alert's identity")
    else:
        fail("kcat is not installed (scripts/setup installs it)")
    cli = subprocess.run([query, "--server", f"http://127.0.0.1:{http_port}", "alerts", "--state",
                          "resolved"], capture_output=True, text=True)
    rows = [x for x in cli.stdout.splitlines() if x.startswith("resolved")]
    if cli.returncode or len(rows) != len(alerts):
        fail(f"edgeprobe-query alerts: exit {cli.returncode}, {len(rows)} rows: {cli.stdout}")
    else:
        ok(f"edgeprobe-query alerts lists the {len(rows)} resolved alerts")
    m = metrics(http_port)
    if m.get("edgeprobe_collector_alerts_fired_total") != len(alerts) or \
            m.get("edgeprobe_alerts_firing") != 0 or \
            m.get("edgeprobe_collector_alerts_sent_total", 0) < len(alerts):
        fail(f"/metrics: fired {m.get('edgeprobe_collector_alerts_fired_total')}, firing "
             f"{m.get('edgeprobe_alerts_firing')}, sent {m.get('edgeprobe_collector_alerts_sent_total')}")
    c.terminate()
    c.wait(timeout=15)
    am.terminate()
    am.wait(timeout=15)
    hook.shutdown()


def steady():
    """Part 2: 30 minutes of trace, the shipped rules, zero alerts."""
    pcap = os.path.join(out, "steady.pcap")
    asns_f = os.path.join(out, "steady.asn.csv")
    subprocess.run([gen, pcap, "--asns", "12", "--flows", "24000", "--segs", "10", "--seconds",
                    "1800", "--seed", "5", "--asn-subset", asns_f], check=True,
                   capture_output=True)
    rules = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "collector",
                         "alerts.ini")
    c, (tcp,), http_port = spawn_collector(collector, out, "collector-steady",
                                           ["tcp://127.0.0.1:0"],
                                           ["--grace-ms", "200", "--alert-rules", rules])
    subprocess.run([probe, "--read", pcap, "--asn-db", asns_f, "--local-net", LOCAL,
                    "--probe-id", "edge-s", "--collector", f"tcp://127.0.0.1:{tcp}", "--quiet"],
                   check=True)
    # Windows close 4 x grace after the last message; the probe is not silent for 10 s yet.
    time.sleep(2.0)
    api = get(http_port, "/api/v1/alerts")
    ctr = api["counters"]
    asns = get(http_port, "/api/v1/asns?range=1h&limit=100")
    span = len([1 for a in asns["asns"]])
    if api["alerts"] or ctr["alerts_fired"]:
        fail(f"steady traffic raised alerts: {[a['id'] for a in api['alerts']]}")
    elif ctr["alert_evaluations"] < 1700 * 5:
        fail(f"only {ctr['alert_evaluations']} evaluations over 30 minutes: {ctr}")
    else:
        ok(f"30 minutes of steady traffic ({span} ISPs), {len(api['rules'])} shipped rules, "
           f"{ctr['alert_evaluations']} evaluations ({ctr['alert_baselines']} baselines): "
           f"zero alerts")
    c.terminate()
    c.wait(timeout=15)


def rules_files():
    """Part 3."""
    bad = {
        "[a]\nmetric = rtt_data:p90\nabove = 20\n": ":3: bad above '20'",
        "[a]\nmetric = rtt_data\nabove = 20ms\n": ":2: metric 'rtt_data' needs a quantile",
        "[a]\nmetric = rtt_data:p90\nabove = 20ms\nbogus = 1\n": ":4: unknown key 'bogus'",
        "metric = retx_rate\n": ":1: 'metric' outside a [rule] section",
        "[a]\nmetric = retx_rate\nabove = 5%\n[a]\nmetric = retx_rate\nabove = 1%\n":
            ":4: rule 'a' is defined twice",
        "# x\n\n[b]\nover = 5s\n": ":3: rule 'b' has no metric",
        "[c]\nmetric = retx_rate\nbaseline = 1h\nabove = 2%\n": ":1: rule 'c': 'above' and",
        "[d]\nmetric = probe_silent\nscope = asn\nabove = 5s\n": ":1: rule 'd': probe_silent is a probe",
        "[e]\nmetric = retx_rate\nnot an ini line\n": ":3: not an INI line",
    }
    n = 0
    for i, (text, want) in enumerate(bad.items()):
        f = os.path.join(out, f"bad{i}.ini")
        open(f, "w").write(text)
        r = subprocess.run([collector, "--alert-rules", f, "--listen", "udp://127.0.0.1:0",
                            "--http", "off", "--run-seconds", "1"], capture_output=True,
                           text=True, timeout=20)
        if r.returncode != 2 or f + want not in r.stderr:
            fail(f"rules {text!r}: exit {r.returncode}, wanted '{f}{want}': {r.stderr[-300:]}")
        else:
            n += 1
    if n == len(bad):
        ok(f"{n} bad rules files refused at start, each error naming FILE:LINE")
    f = os.path.join(out, "reload.ini")
    open(f, "w").write("[one]\nmetric = retx_rate\nabove = 50%\n")
    c, _, http_port = spawn_collector(collector, out, "collector-reload", ["udp://127.0.0.1:0"],
                                      ["--alert-rules", f])
    open(f, "w").write("[one]\nmetric = retx_rate\nabove = 50%\n[two]\nmetric = rtt_hs:p99\n"
                       "above = 2s\n")
    c.send_signal(signal.SIGHUP)
    names = []
    for _ in range(50):
        names = [r["name"] for r in get(http_port, "/api/v1/alerts")["rules"]]
        if names == ["one", "two"]:
            break
        time.sleep(0.05)
    open(f, "w").write("[three]\nmetric = nonsense\n")
    c.send_signal(signal.SIGHUP)
    ctr = {}
    for _ in range(50):
        api = get(http_port, "/api/v1/alerts")
        ctr = api["counters"]
        if ctr["alert_rule_errors"]:
            break
        time.sleep(0.05)
    after = [r["name"] for r in get(http_port, "/api/v1/alerts")["rules"]]
    log = open(os.path.join(out, "collector-reload.log")).read()
    if names != ["one", "two"] or after != names or ctr["alert_rule_errors"] != 1 or \
            ctr["alert_reloads"] != 2 or f"{f}:2: unknown metric 'nonsense'" not in log:
        fail(f"SIGHUP: rules {names} then {after}, counters {ctr}; log: {log[-400:]}")
    else:
        ok("SIGHUP reloads the rules; a bad file is refused (logged with its line, counted) "
           "and the previous rules stay")
    c.terminate()
    c.wait(timeout=15)


def am_outage():
    """Part 4: Alertmanager down, then up."""
    pcap = os.path.join(out, "short.pcap")
    asns_f = os.path.join(out, "short.asn.csv")
    subprocess.run([gen, pcap, "--asns", "6", "--flows", "1500", "--segs", "10", "--seconds",
                    "20", "--seed", "3", "--asn-subset", asns_f], check=True, capture_output=True)
    rules = os.path.join(out, "always.ini")
    open(rules, "w").write("[always]\nmetric = rtt_data:p50\nover = 2s\nabove = 1us\n"
                           "min_samples = 1\npending = 0\nresolve = 600\n")
    am_port = free_port()

    def replay_into(name, pid, extra):
        """A collector alerting to am_port (extra options), the short capture replayed in."""
        c, (tcp,), http_port = spawn_collector(
            collector, out, name, ["tcp://127.0.0.1:0"],
            ["--grace-ms", "200", "--alert-rules", rules, "--alertmanager",
             f"http://127.0.0.1:{am_port}"] + extra)
        subprocess.run([probe, "--read", pcap, "--asn-db", asns_f, "--local-net", LOCAL,
                        "--probe-id", pid, "--collector", f"tcp://127.0.0.1:{tcp}", "--quiet"],
                       check=True)
        return c, http_port

    c, http_port = replay_into("collector-amdown", "edge-o", ["--alert-resend-s", "1"])
    firing, col = [], {}
    for _ in range(100):
        firing = get(http_port, "/api/v1/alerts?state=firing")["alerts"]
        col = get(http_port, "/api/v1/probes")["collector"]
        if firing and col["alert_send_failures"] >= 2:
            break
        time.sleep(0.1)
    if not firing or col["alert_send_failures"] < 2 or col["alerts_sent"]:
        fail(f"Alertmanager down: {len(firing)} firing, counters {col}")
        c.terminate()
        return
    am = start_am(AM, out, am_port, "am2")
    listed = []
    t0 = time.time()
    while time.time() - t0 < 20:
        listed = am_alerts(am_port)
        if len(listed) == len(firing):
            break
        time.sleep(0.1)
    col = get(http_port, "/api/v1/probes")["collector"]
    if sorted(int(a["labels"]["asn"]) for a in listed) != sorted(a["asn"] for a in firing):
        fail(f"after Alertmanager came back it lists {len(listed)} of {len(firing)} alerts")
    else:
        ok(f"Alertmanager down: {col['alert_send_failures']} failed POSTs counted, the "
           f"{len(firing)} alerts queued; up again: all delivered "
           f"{time.time() - t0:.1f} s later (backoff)")
        # Re-sent while firing (--alert-resend-s 1): Alertmanager's copies are refreshed, and
        # each stays valid for four re-send periods.
        before = {a["fingerprint"]: iso(a["updatedAt"]) for a in listed}
        time.sleep(2.5)
        after = am_alerts(am_port)
        stale = [a["labels"]["asn"] for a in after
                 if iso(a["updatedAt"]) <= before.get(a["fingerprint"], 0)]
        ends = [iso(a["endsAt"]) - time.time() for a in after]
        if stale or len(after) != len(listed) or min(ends) < 1.0 or max(ends) > 5.0:
            fail(f"re-sends: not refreshed {stale}, endsAt in {ends} s")
        else:
            ok(f"firing alerts re-sent every second: all {len(after)} refreshed in "
               f"Alertmanager, endsAt {min(ends):.1f}-{max(ends):.1f} s ahead")
    c.terminate()
    c.wait(timeout=15)
    # A queue of 2 while Alertmanager is down: the oldest are dropped and counted.
    am.terminate()
    am.wait(timeout=15)
    c, http_port = replay_into("collector-amqueue", "edge-q", ["--alert-queue", "2"])
    for _ in range(100):
        firing = get(http_port, "/api/v1/alerts?state=firing")["alerts"]
        col = get(http_port, "/api/v1/probes")["collector"]
        if firing and col["alerts_dropped"]:
            break
        time.sleep(0.1)
    if len(firing) <= 2 or col["alerts_dropped"] < len(firing) - 2:
        fail(f"--alert-queue 2 with {len(firing)} alerts: dropped {col['alerts_dropped']}")
    else:
        ok(f"--alert-queue 2, {len(firing)} alerts, receiver down: {col['alerts_dropped']} "
           f"dropped and counted")
    c.terminate()
    c.wait(timeout=15)


def main():
    if not AM:
        print("SKIP: prometheus-alertmanager is not installed (scripts/setup installs it)")
        return 77
    os.makedirs(out, exist_ok=True)
    rules_files()
    degradation()
    am_outage()
    steady()
    print(f"{len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
