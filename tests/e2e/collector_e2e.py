#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The collector end to end: probes replay the scenario captures into it over
UDP, TCP and a Unix socket (and edgeprobe through a net_pcap vdev when built);
the API must return the ground truth, exactly.

- per probe (probe=ID): every counter and n/p50/p90/p99/max of every histogram
  equal to that capture's truth;
- all probes: counters add, and percentiles equal HdrHistogram's percentiles of
  the union of every probe's true samples (merging histograms = histogram of
  the union), at 100 ms, 1 s and 1 min resolution;
- the histogram endpoint's HISTFAAA decodes to the same numbers;
- series at 1 min: the samples of the points add up to the total;
- the stream of closed 1 s windows carries every sample exactly once;
- bad requests get JSON errors naming the parameter;
- malformed, oversized, unsigned, wrongly signed and replayed messages are
  rejected and counted by reason; sequence gaps, duplicates, reordering and a
  restart are counted exactly;
- edgeprobe-query prints the same numbers.

Usage: collector_e2e.py COLLECTOR PCAP_PROBE QUERY HDR_DECODE GEN OUTDIR [EDGEPROBE]
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import COUNTERS, FAILS, HISTS, OKS, fail, free_port, frames, hdr_pct, ok  # noqa: E402

collector, pcap_probe, query, hdr_decode, gen, out = sys.argv[1:7]
dpdk = sys.argv[7] if len(sys.argv) > 7 and os.path.exists(sys.argv[7]) else None


def compare(label, got_asns, truth_asns):
    eptest.compare_truth(label, {str(a["asn"]): a for a in got_asns}, truth_asns, "ASNs")


def union(truths):
    u = {}
    for t in truths:
        for asn, tr in t["asns"].items():
            x = u.setdefault(asn, {k: 0 for k in COUNTERS} | {h: [] for h in HISTS})
            for k in COUNTERS:
                x[k] += tr[k]
            for h in HISTS:
                x[h] = x[h] + tr[h]
    return u


class Collector(eptest.Collector):
    """The collector with UDP, TCP and Unix ingest."""

    def __init__(self, name, extra=()):
        self.sock = os.path.join(out, name + ".sock")
        super().__init__(collector, out, name, ["udp://127.0.0.1:0", "tcp://127.0.0.1:0",
                                                f"unix:{self.sock}"], extra)
        self.udp, self.tcp = self.ports[0], self.ports[1]


def wait_quiet(c, probe_ids, msgs=None, timeout=20):
    """Until every probe has reported its summary and the collector closed everything."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        probes = {p["id"]: p for p in c.get("/api/v1/probes")["probes"]}
        if all(p in probes and probes[p]["summaries"] >= 1 for p in probe_ids):
            time.sleep(1.2)  # idle close: 4 x grace
            return probes
        time.sleep(0.1)
    fail(f"probes {probe_ids} did not finish in {timeout}s")
    return {}


def run_probe(pcap, truth, pid, url, extra=()):
    cmd = [pcap_probe, "--read", pcap, "--asn-db", truth["asn_file"], "--local-net",
           truth["local_net"], "--probe-id", pid, "--collector", url, "--quiet",
           "--json-out", os.path.join(out, pid + ".json")] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        fail(f"{' '.join(cmd)}: exit {r.returncode} {r.stderr}")
    lines = [json.loads(x) for x in open(os.path.join(out, pid + ".json"))]
    return lines[-1]


def main():
    os.makedirs(out, exist_ok=True)
    subprocess.run([gen, out], check=True, capture_output=True)
    truth = {n: json.load(open(os.path.join(out, n + ".truth.json"))) for n in ("dense", "mixed")}
    pc = {n: os.path.join(out, n + ".pcap") for n in truth}

    c = Collector("c1")
    sent = [("udp-dense", "dense", f"udp://127.0.0.1:{c.udp}"),
            ("tcp-mixed", "mixed", f"tcp://127.0.0.1:{c.tcp}"),
            ("unix-dense", "dense", f"unix:{c.sock}")]
    summaries = {}
    for pid, name, url in sent:
        summaries[pid] = run_probe(pc[name], truth[name], pid, url)
    ids = [s[0] for s in sent]
    if dpdk:
        pid = "dpdk-mixed"
        js = os.path.join(out, pid + ".json")
        cmd = [dpdk, "-l", "0,1", f"--vdev=net_pcap0,rx_pcap={pc['mixed']}", "--no-huge",
               "--no-pci", "-m", "256", f"--file-prefix=ce{os.getpid()}", "--",
               "--stop-after-idle", "300", "--stats-interval", "0", "--quiet",
               "--asn-db", truth["mixed"]["asn_file"], "--local-net", truth["mixed"]["local_net"],
               "--probe-id", pid, "--collector", f"udp://127.0.0.1:{c.udp}", "--json-out", js]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            fail(f"edgeprobe (DPDK): exit {r.returncode}: {r.stderr[-1500:]}")
        else:
            summaries[pid] = [json.loads(x) for x in open(js)][-1]
            sent.append((pid, "mixed", "udp"))
            ids.append(pid)
    probes = wait_quiet(c, ids)
    for pid, name, _ in sent:
        p = probes.get(pid)
        if not p:
            continue
        sent_msgs = summaries[pid]["stats"]["msgs_sent"]
        # msgs_sent counts the windows' messages; the summary's parts follow it.
        if p["msgs"] != p["seq_max"] or p["msgs"] <= sent_msgs or p["lost"] or p["duplicates"] \
                or p["restarts"]:
            fail(f"{pid}: collector saw {p['msgs']} msgs up to seq {p['seq_max']} (probe sent "
                 f"{sent_msgs} + summary), lost {p['lost']}, dups {p['duplicates']}, restarts {p['restarts']}")
        else:
            ok(f"{pid}: all {p['msgs']} messages, none lost or duplicated")
        if p["stats"]["packets"] != summaries[pid]["stats"]["packets"]:
            fail(f"{pid}: stats.packets {p['stats']['packets']} != {summaries[pid]['stats']['packets']}")
        compare(f"probe={pid} range=1d", c.get(f"/api/v1/asns?range=1d&probe={pid}")["asns"],
                truth[name]["asns"])
    u = union([truth[name] for _, name, _ in sent])
    for rng, res in (("1d", 60000000000), ("30m", 1000000000), ("1m", 100000000)):
        r = c.get(f"/api/v1/asns?range={rng}")
        if r["resolution_ns"] != res:
            fail(f"range={rng}: resolution {r['resolution_ns']} != {res}")
        compare(f"all probes range={rng} (union of {len(sent)} probes)", r["asns"], u)
    # Sorting and limits.
    r = c.get("/api/v1/asns?range=1d&sort=p99&limit=3")
    p99s = [a["rtt_data"]["p99_us"] for a in r["asns"]]
    if len(p99s) != 3 or p99s != sorted(p99s, reverse=True):
        fail(f"sort=p99&limit=3: {p99s}")
    else:
        ok(f"sort=p99&limit=3 gives {p99s}")
    # Histogram endpoint: the encoding decodes to the same numbers.
    asn = sorted(u)[0]
    h = c.get(f"/api/v1/asns/{asn}/histogram?range=1d")["asn"]
    dec = subprocess.run([hdr_decode], input=h["rtt_data"]["hdr"] + "\n", capture_output=True,
                         text=True).stdout.split()
    want = [len(u[asn]["rtt_data"]), hdr_pct(u[asn]["rtt_data"], 50), hdr_pct(u[asn]["rtt_data"], 90),
            hdr_pct(u[asn]["rtt_data"], 99), hdr_pct(u[asn]["rtt_data"], 100)]
    if [int(x) for x in dec[:5]] != want:
        fail(f"histogram AS{asn}: decoded {dec} != {want}")
    else:
        ok(f"histogram AS{asn}: HISTFAAA decodes to n/p50/p90/p99/max {want}")
    # Series: the points' sample counts add up; percentiles of single points are plausible.
    s = c.get(f"/api/v1/asns/{asn}/series?metric=rtt_data&q=0.5&step=1m&range=1d")
    n = sum(p[2] for p in s["points"])
    if n != len(u[asn]["rtt_data"]):
        fail(f"series AS{asn}: samples add to {n}, truth {len(u[asn]['rtt_data'])}")
    else:
        ok(f"series AS{asn} step=1m: {len(s['points'])} points, {n} samples")
    s = c.get(f"/api/v1/asns/{asn}/series?metric=rtt_hs&q=0.99&step=100ms&range=2m")
    n = sum(p[2] for p in s["points"])
    if n != len(u[asn]["rtt_hs"]) or s["resolution_ns"] != 100000000:
        fail(f"series AS{asn} step=100ms: {n} samples at {s['resolution_ns']}")
    else:
        ok(f"series AS{asn} step=100ms: {n} handshake samples")
    reg = c.get("/api/v1/regressions?range=1s&baseline=1h&min_samples=1")
    if "regressions" not in reg:
        fail(f"regressions: {reg}")
    # Errors.
    for path, code, param in (("/api/v1/asns?range=yesterday", 400, "range"),
                              ("/api/v1/asns?sort=loudest", 400, "sort"),
                              ("/api/v1/asns?limit=0", 400, "limit"),
                              ("/api/v1/asns?probe=nobody", 404, "probe"),
                              ("/api/v1/asns/4200000001/histogram?range=1d", 404, "asn"),
                              (f"/api/v1/asns/{asn}/series?q=2", 400, "q"),
                              (f"/api/v1/asns/{asn}/series?step=1ms&range=1d", 400, "step"),
                              ("/api/v1/regressions?baseline=x", 400, "baseline"),
                              ("/api/v1/nothing", 404, None),
                              ("/../../etc/passwd", 404, None)):
        got_code, body = c.get_err(path)
        if got_code != code or not body or "error" not in body or (param and body.get("param") != param):
            fail(f"{path}: {got_code} {body}, want {code} naming {param}")
    ok("bad requests: JSON errors with 4xx codes naming the parameter")
    # edgeprobe-query shows the same numbers.
    r = subprocess.run([query, "--server", c.url(""), "top", "--range", "1d", "--by", "asn"],
                       capture_output=True, text=True)
    row = [l for l in r.stdout.splitlines() if l.startswith(f"AS{asn} ")]
    p50 = f"{hdr_pct(u[asn]['rtt_data'], 50) / 1000:.1f}"
    if r.returncode or not row or p50 not in row[0].split():
        fail(f"edgeprobe-query top: exit {r.returncode}, row {row}, want p50 {p50} ms: {r.stderr}")
    else:
        ok(f"edgeprobe-query top: {row[0].split()[0]} p50 {p50} ms")
    r = subprocess.run([query, "--server", c.url(""), "--json", "series", asn, "--range", "1d",
                        "--step", "1m"], capture_output=True, text=True)
    if r.returncode or sum(p[2] for p in json.loads(r.stdout)["points"]) != len(u[asn]["rtt_data"]):
        fail(f"edgeprobe-query --json series: {r.returncode} {r.stderr}")
    r = subprocess.run([query, "--server", c.url(""), "series", asn, "--range", "1d", "--step",
                        "1m"], capture_output=True, text=True)
    import re
    rows = r.stdout.splitlines()[1:]
    if r.returncode or not rows or not all(
            re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", x.split()[0]) for x in rows):
        fail(f"edgeprobe-query series: times not ISO-8601 UTC with Z: {rows[:2]}")
    else:
        ok(f"edgeprobe-query series: {len(rows)} rows, times like {rows[0].split()[0]}")
    r = subprocess.run([query, "--server", c.url(""), "top", "--range", "soon"],
                       capture_output=True, text=True)
    if r.returncode != 1 or "range" not in r.stderr:
        fail(f"edgeprobe-query with a bad range: exit {r.returncode}: {r.stderr}")
    r = subprocess.run([query, "--server", "http://127.0.0.1:1", "probes"], capture_output=True, text=True)
    if r.returncode != 1 or "cannot connect" not in r.stderr:
        fail(f"edgeprobe-query, no server: exit {r.returncode}: {r.stderr}")
    ok("edgeprobe-query: tables, --json, API errors and connection errors")

    # Hostile messages.
    wire = os.path.join(out, "seq.wire")
    run_probe(pc["mixed"], truth["mixed"], "seq", "file:" + wire, ["--max-payload", "300"])
    msgs = frames(wire)
    before = c.get("/api/v1/probes")["collector"]
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad = {"short": b"EPP", "magic": b"XXXX" + bytes(msgs[0][4:]),
           "version": bytes(msgs[0][:4]) + b"\x09" + bytes(msgs[0][5:]),
           "length": bytes(msgs[0]) + b"\x00",
           "record": bytes(msgs[0][:8]) + struct.pack(">I", len(msgs[0]) - 5) + bytes(msgs[0][12:-5])}
    for m in bad.values():
        us.sendto(m, ("127.0.0.1", c.udp))
    # Oversized TCP frame: the connection is dropped and counted.
    ts = socket.create_connection(("127.0.0.1", c.tcp))
    ts.sendall(struct.pack(">I", 1 << 24) + b"x" * 100)
    time.sleep(0.3)
    ts.close()
    # Sequence: drop #3, duplicate #5, swap #7/#8, then a restart (new epoch) sending all.
    order = [i for i in range(len(msgs)) if i != 3]
    order.insert(order.index(5), 5)
    i7, i8 = order.index(7), order.index(8)
    order[i7], order[i8] = order[i8], order[i7]
    for i in order:
        us.sendto(bytes(msgs[i]), ("127.0.0.1", c.udp))
        time.sleep(0.001)
    time.sleep(0.3)
    for m in msgs:
        m2 = bytearray(m)
        epoch = struct.unpack(">Q", m2[12:20])[0] + 1
        m2[12:20] = struct.pack(">Q", epoch)
        us.sendto(bytes(m2), ("127.0.0.1", c.udp))
        time.sleep(0.001)
    # A message of the old epoch after the restart: stale.
    us.sendto(bytes(msgs[3]), ("127.0.0.1", c.udp))
    time.sleep(0.5)
    r = c.get("/api/v1/probes")
    after = r["collector"]
    p = {x["id"]: x for x in r["probes"]}["seq"]
    for reason in ("shorter than a header", "bad magic", "unsupported version",
                   "length field does not match"):
        if after["rejected"][reason] - before["rejected"][reason] < 1:
            fail(f"malformed: reason '{reason}' not counted: {after['rejected']}")
    nrej = sum(after["rejected"].values()) - sum(before["rejected"].values())
    if nrej != 5:
        fail(f"malformed: {nrej} rejected by the decoder, sent 5")
    if after["frames_oversized"] - before["frames_oversized"] != 1:
        fail(f"oversized TCP frame not counted: {after['frames_oversized']}")
    want = {"lost": 1, "duplicates": 1, "reordered": 1, "restarts": 1, "stale_epoch": 1,
            "msgs": 2 * len(msgs) - 1}
    gotp = {k: p[k] for k in want}
    if gotp != want:
        fail(f"sequence accounting {gotp} != {want}")
    else:
        ok(f"sequence accounting exact: {gotp}; 5 malformed messages rejected by reason, "
           "an oversized frame counted")
    c.stop()

    # Signed messages: a collector with a key accepts the probe with the same key only.
    key, other = os.path.join(out, "key"), os.path.join(out, "other.key")
    with open(key, "w") as fp:
        fp.write("correct horse battery staple\n")
    with open(other, "w") as fp:
        fp.write("incorrect horse\n")
    os.chmod(key, 0o600)
    c = Collector("c2", ["--key-file", key, "--allow-probe", "signed", "--allow-probe", "forger",
                         "--metrics-top", "2"])
    events = []
    stream_ready = threading.Event()

    def listen_stream():
        req = urllib.request.urlopen(c.url("/api/v1/stream"), timeout=60)
        stream_ready.set()
        data = b""
        try:
            for line in req:
                if line.startswith(b"data: "):
                    events.append(json.loads(line[6:]))
        except Exception:
            pass

    th = threading.Thread(target=listen_stream, daemon=True)
    th.start()
    stream_ready.wait(5)
    counted = {}
    for pid, k in (("forger", other), ("forger", None), ("stranger", key), ("signed", key)):
        f = os.path.join(out, f"{pid}-{bool(k)}.wire")
        run_probe(pc["mixed"], truth["mixed"], pid, f"udp://127.0.0.1:{c.udp}",
                  (["--key-file", k] if k else []) + ["--collector", "file:" + f])
        counted[(pid, k)] = len(frames(f))
    probes = wait_quiet(c, ["signed"])
    r = c.get("/api/v1/probes")
    col = r["collector"]
    n_bad = counted[("forger", other)] + counted[("forger", None)]
    n_stranger = counted[("stranger", key)]
    if col["rejected"]["missing or bad signature"] != n_bad or "forger" in probes:
        fail(f"signatures: {col['rejected']['missing or bad signature']} rejected, want {n_bad}")
    elif col["rejected_unknown_probe"] != n_stranger:
        fail(f"allow-list: {col['rejected_unknown_probe']} rejected, want {n_stranger}")
    else:
        ok(f"signed: {probes['signed']['msgs']} accepted; {n_bad} unsigned or wrongly signed and "
           f"{col['rejected_unknown_probe']} from a probe not allowed rejected")
    compare("signed probe", c.get("/api/v1/asns?range=1d")["asns"], truth["mixed"]["asns"])
    # /metrics exports the --metrics-top ASNs with the most RTT samples.
    with urllib.request.urlopen(c.url("/metrics")) as r:
        metrics = r.read().decode()
    exported = sorted({l.split('asn="')[1].split('"')[0] for l in metrics.splitlines()
                       if l.startswith("edgeprobe_rtt_seconds_count")})
    most = sorted(truth["mixed"]["asns"], key=lambda a: -(len(truth["mixed"]["asns"][a]["rtt_data"]) +
                                                         len(truth["mixed"]["asns"][a]["rtt_hs"])))[:2]
    if exported != sorted(most) or 'edgeprobe_collector_metrics_asns{state="exported"} 2' not in metrics:
        fail(f"--metrics-top 2: exported {exported}, want {sorted(most)}")
    else:
        ok(f"--metrics-top 2: /metrics carries the two busiest ASNs {exported}")
    # The stream: each closed 1 s window once, every sample exactly once.
    time.sleep(0.5)
    tot = {}
    starts = [e["start_ns"] for e in events]
    for e in events:
        for a in e["asns"]:
            tot[str(a["asn"])] = tot.get(str(a["asn"]), 0) + a["rtt_data"]["n"]
    want_tot = {k: len(v["rtt_data"]) for k, v in truth["mixed"]["asns"].items()}
    if tot != want_tot or len(starts) != len(set(starts)):
        fail(f"stream: {len(events)} events, rtt_data samples {tot} != {want_tot}")
    else:
        ok(f"stream: {len(events)} closed 1 s windows carry all {sum(tot.values())} in-flow samples once")
    c.stop()

    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
