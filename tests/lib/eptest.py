# SPDX-License-Identifier: BSD-3-Clause
"""eptest.py - what the Python end-to-end tests share: pass/fail bookkeeping, free
loopback ports, HdrHistogram's answers for true samples (lowest 1, 2 significant
digits), and reading the wire protocol's length-prefixed files, and a collector to talk to."""
import atexit
import datetime
import json
import math
import re
import os
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

FAILS = []
OKS = []
_SPAWNED = []  # servers this test started: killed at exit if a failure left them running


def _reap():
    for p in _SPAWNED:
        if p.poll() is None:
            p.kill()


atexit.register(_reap)


def fail(msg):
    FAILS.append(msg)
    print("FAIL:", msg, flush=True)


def ok(msg):
    OKS.append(msg)
    print("ok:", msg, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _bucket(v):
    return max(0, (v | 255).bit_length() - 1 - 7)


def hdr_lowest(v):
    """Lowest value of v's HDR bucket."""
    b = _bucket(v)
    return (v >> b) << b


def hdr_top(v):
    """Highest value of v's HDR bucket (what HdrHistogram reports for it)."""
    b = _bucket(v)
    return ((v >> b) << b) + (1 << b) - 1


def hdr_pct(samples, p):
    """HdrHistogram's value at percentile p (0..100) of the true samples."""
    s = sorted(samples)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return hdr_top(s[rank - 1])


def hdr_min(samples):
    return hdr_lowest(min(samples))


COUNTERS = ("flows_new", "flows_closed", "segs_out", "segs_in", "retx_out", "retx_in")
HISTS = ("rtt_hs", "rtt_data", "retx_ppm")


def compare_truth(label, got, truth, what="entries"):
    """got, truth: {key: entry} (entries as the API or the JSON lines write them; truth with
    the true samples): every counter, and n/p50/p90/p99/max/min of every histogram equal to
    HdrHistogram's of the samples; retx_rate where the entry has one.  Returns the failures."""
    if set(got) != set(truth):
        fail(f"{label}: keys {sorted(got, key=str)} != {sorted(truth, key=str)}")
        return 1
    bad = 0
    for key, tr in truth.items():
        a = got[key]
        for k in COUNTERS:
            if a[k] != tr[k]:
                fail(f"{label}: {key} {k} {a[k]} != {tr[k]}")
                bad += 1
        for h in HISTS:
            unit = "" if h == "retx_ppm" else "_us"
            s = tr[h]
            if a[h]["n"] != len(s):
                fail(f"{label}: {key} {h} n {a[h]['n']} != {len(s)}")
                bad += 1
                continue
            if not s:
                continue
            want = {f"p50{unit}": hdr_pct(s, 50), f"p90{unit}": hdr_pct(s, 90),
                    f"p99{unit}": hdr_pct(s, 99), f"max{unit}": hdr_pct(s, 100),
                    f"min{unit}": hdr_min(s)}
            for k, v in want.items():
                if a[h][k] != v:
                    fail(f"{label}: {key} {h} {k} {a[h][k]} != {v}")
                    bad += 1
        if "retx_rate" in a:
            rate = tr["retx_out"] / tr["segs_out"] if tr["segs_out"] else 0
            if abs(a["retx_rate"] - rate) > 1e-5:
                fail(f"{label}: {key} retx_rate {a['retx_rate']} != {rate}")
                bad += 1
    if not bad:
        ok(f"{label}: {len(truth)} {what} equal the truth")
    return bad


def doc_asn_dir(out, asn_csv):
    """The test's ASN file (documentation addresses) as gen-traffic's ASN directory, without
    the more specific AS64599 range (a flow of its parent's range would count for it).
    Returns (the directory, a clients file of the same ranges for gen-qoe and the collector)."""
    asn_dir = os.path.join(out, "asn")
    os.makedirs(asn_dir, exist_ok=True)
    rows = [r for r in open(asn_csv) if ",64599," not in r]
    open(os.path.join(asn_dir, "asn-ipv4.csv"), "w").writelines(r for r in rows if ":" not in r)
    open(os.path.join(asn_dir, "asn-ipv6.csv"), "w").writelines(r for r in rows if ":" in r)
    clients = os.path.join(out, "clients.csv")
    open(clients, "w").writelines(rows)
    return asn_dir, clients


def frames(path):
    """The messages of a file: sink (u32 big-endian length, then the message)."""
    data = open(path, "rb").read()
    out, off = [], 0
    while off < len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        out.append(bytearray(data[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def spawn_collector(binary, out, name, listen, args=()):
    """edgeprobe-collector on loopback, every port chosen by the collector itself (port 0,
    reported with --ports-file: no race with another process for a port picked here).
    listen: URLs (port 0 where any will do).  Its log goes to OUT/NAME.log (kept, and its
    tail printed when it does not come up).  Returns (process, listen ports, http port)."""
    ports = os.path.join(out, name + ".ports")
    try:
        os.unlink(ports)
    except FileNotFoundError:
        pass
    log = open(os.path.join(out, name + ".log"), "w")
    cmd = [binary] + [x for url in listen for x in ("--listen", url)] + list(args) + [
        "--ports-file", ports]
    if "--http" not in args:
        cmd += ["--http", "127.0.0.1:0"]
    p = subprocess.Popen(cmd, stdout=log, stderr=log)
    _SPAWNED.append(p)
    for _ in range(200):
        if os.path.exists(ports):
            j = json.load(open(ports))
            return p, j["listen"], j["http"]
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    p.wait()
    log.close()
    tail = open(os.path.join(out, name + ".log")).read()[-2000:]
    raise SystemExit(f"FAIL: collector did not start: {cmd}\n{tail}")


class Collector:
    """edgeprobe-collector on loopback: listen (a list of URLs; port 0 lets it choose, see
    self.ports) for ingest, the HTTP API on a port of its choosing, its log in OUT/NAME.log."""

    def __init__(self, binary, out, name, listen, extra=()):
        self.p, self.ports, self.http = spawn_collector(
            binary, out, name, listen, ["--grace-ms", "200", "--web-dir", out] + list(extra))
        for _ in range(100):
            try:
                self.get("/api/v1/probes")
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit(f"FAIL: collector {name} does not answer on port {self.http}")

    def url(self, path):
        return f"http://127.0.0.1:{self.http}{path}"

    def get(self, path):
        with urllib.request.urlopen(self.url(path), timeout=10) as r:
            return json.loads(r.read())

    def get_err(self, path):
        try:
            urllib.request.urlopen(self.url(path), timeout=10)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
        return 200, None

    def history(self):
        """The collector's edgeprobe_collector_history_* values on /metrics, by name."""
        with urllib.request.urlopen(self.url("/metrics"), timeout=30) as r:
            text = r.read().decode()
        return {k: float(v) for k, v in (x.rsplit(" ", 1) for x in text.splitlines()
                                         if x.startswith("edgeprobe_collector_history"))}

    def feed_day(self, send, windows, step_s, asns, end_ns, pace_us=10):
        """hostile_send day into the first listener: WINDOWS windows STEP_S apart of ASNS ASNs,
        the last ending at END_NS; returns the messages sent once all are merged (or 2 min)."""
        r = subprocess.run([send, f"127.0.0.1:{self.ports[0]}", "day", str(windows), str(step_s),
                            str(asns), str(end_ns), str(pace_us)], capture_output=True, text=True,
                           timeout=600)
        sent = json.loads(r.stdout)["msgs"]
        for _ in range(1200):
            if sum(p["msgs"] for p in self.get("/api/v1/probes")["probes"]) >= sent:
                break
            time.sleep(0.1)
        return sent

    def probe(self, pid):
        return {p["id"]: p for p in self.get("/api/v1/probes")["probes"]}.get(pid)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


class ClickHouse:
    """clickhouse-server (Debian's) on free loopback ports, with its own configuration and
    data directory under root, started and stopped by the caller."""

    def __init__(self, server, root, ports=None, extra=""):
        """ports: (http, tcp) chosen by the caller (a cluster names them all in extra)."""
        self.server, self.root = server, root
        self.http, self.tcp = ports or (free_port(), free_port())
        for d in ("data", "tmp", "log", "user_files"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, "config.xml"), "w") as f:
            f.write(f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{root}/log/server.log</log><errorlog>{root}/log/err.log</errorlog><console>0</console></logger>
  <http_port>{self.http}</http_port><tcp_port>{self.tcp}</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>{root}/data/</path><tmp_path>{root}/tmp/</tmp_path><user_files_path>{root}/user_files/</user_files_path>
  <users_config>{root}/users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>5368709</mark_cache_size>
  {extra}
</yandex>
""")
        with open(os.path.join(root, "users.xml"), "w") as f:
            f.write("""<?xml version="1.0"?>
<yandex><profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>
""")
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen([self.server, f"--config-file={self.root}/config.xml"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _SPAWNED.append(self.p)
        for _ in range(300):
            try:
                if self.query("SELECT 1").strip() == "1":
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise SystemExit("FAIL: clickhouse-server did not answer in 30 s")

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=60)

    def query(self, q):
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/", q.encode(), timeout=30) as r:
            return r.read().decode()


def start_am(binary, out, port, name):
    """Debian's prometheus-alertmanager on a loopback port, its data in OUT/NAME."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "am.yml")
    with open(cfg, "w") as fp:
        fp.write('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    log = open(os.path.join(d, "am.log"), "w")
    p = subprocess.Popen([binary, f"--config.file={cfg}", f"--storage.path={d}",
                          f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                          "--log.level=warn"], stdout=log, stderr=log)
    _SPAWNED.append(p)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/status", timeout=1).read()
            return p
        except Exception:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    raise SystemExit(f"FAIL: alertmanager did not start on {port}: "
                     f"{open(os.path.join(d, 'am.log')).read()[-1500:]}")


def am_alerts(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=5) as r:
        return json.loads(r.read())


def iso(s):
    """Alertmanager's and our RFC 3339 times (UTC, milliseconds) as Unix seconds."""
    s = s.replace("Z", "+00:00")
    m = re.match(r"(.*\.\d{1,6})\d*(\+.*)", s)
    if m:
        s = m.group(1) + m.group(2)
    return datetime.datetime.fromisoformat(s).timestamp()
