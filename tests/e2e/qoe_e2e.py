#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""qoe_e2e.py - players' CMCD reports through the collector, against the simulator's truth.

scripts/gen-qoe sends 300 playback sessions (v2 event mode as text lines and JSON, v1
request mode as the CMCD query argument and as CMCD-* headers) from client addresses of
the test's ISPs through a trusted proxy (X-Forwarded-For).  Checked:
  - per (ASN, country) and per ASN, at the 100 ms, 1 s and 1 min resolutions: reports,
    sessions, play and stall time, stalls, and n/p50/p90 of startup, throughput and bitrate
    equal the simulator's truth (HdrHistogram's quantiles of the true values);
  - re-sent reports are dropped and counted as duplicates;
  - hostile requests get their status and reason, each counted by reason, and change
    nothing; a flood from one source is rate limited while another source is served;
  - --qoe-http is a listener of its own that serves nothing else;
  - no client address appears in any API answer, metric or log.
Usage: qoe_e2e.py COLLECTOR GEN_QOE ASN_CSV COUNTRY_CSV OUTDIR
"""
import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import FAILS, OKS, fail, free_port, hdr_pct, ok  # noqa: E402

collector, gen_qoe, asn_csv, cc_csv, out = sys.argv[1:6]
QCOUNTERS = ("reports", "sessions", "play_ms", "stalls", "stall_ms", "fatal")
QHISTS = ("startup_ms", "mtp_kbps", "br_kbps")


def post(c, body=b"", headers=None, path="/api/v1/qoe", method="POST", port=None):
    url = f"http://127.0.0.1:{port or c.http}{path}"
    req = urllib.request.Request(url, data=body if method == "POST" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def metrics(c):
    with urllib.request.urlopen(c.url("/metrics"), timeout=10) as r:
        text = r.read().decode()
    return text, {k: float(v) for k, v in (x.rsplit(" ", 1) for x in text.splitlines()
                                           if x.startswith("edgeprobe_collector_qoe"))}


def compare(label, got, truth):
    """got: {key: API entry}; truth: {key: the simulator's entry}."""
    if set(got) != set(truth):
        fail(f"{label}: keys {sorted(got)} != {sorted(truth)}")
        return
    bad = 0
    for key, tr in truth.items():
        q = got[key].get("qoe")
        if not q:
            fail(f"{label}: {key} has no qoe")
            bad += 1
            continue
        for k in QCOUNTERS:
            if q[k] != tr[k]:
                fail(f"{label}: {key} {k} {q[k]} != {tr[k]}")
                bad += 1
        for h in QHISTS:
            s = tr[h]
            want = {"n": len(s)}
            if s:
                want.update(p50=hdr_pct(s, 50), p90=hdr_pct(s, 90))
            if q[h] != want:
                fail(f"{label}: {key} {h} {q[h]} != {want}")
                bad += 1
        ratio = tr["stall_ms"] / (tr["play_ms"] + tr["stall_ms"]) if tr["play_ms"] else None
        if (ratio is None) != (q["rebuffer_ratio"] is None) or \
                (ratio is not None and abs(q["rebuffer_ratio"] - ratio) > 1e-6):
            fail(f"{label}: {key} rebuffer_ratio {q['rebuffer_ratio']} != {ratio}")
            bad += 1
    if not bad:
        ok(f"{label}: {len(truth)} entries equal the truth")


def per_asn(entries):
    out = {}
    for e in entries.values():
        x = out.setdefault(str(e["asn"]), {k: 0 for k in QCOUNTERS} | {h: [] for h in QHISTS})
        for k in QCOUNTERS:
            x[k] += e[k]
        for h in QHISTS:
            x[h] += e[h]
    return out


def hostile(c):
    """Each bad request: its status and reason, counted by reason, nothing added."""
    xff = {"X-Forwarded-For": "198.51.100.7"}
    cases = [
        ("unknown key", b'sid="h",foo=1', {}, 400, "unknown_key"),
        ("repeated key", b'sid="h",br=1,br=2', {}, 400, "repeated_key"),
        ("wrong type", b'sid="h",bl="5"', {}, 400, "bad_type"),
        ("out of range", b'sid="h",msd=99999999', {}, 400, "out_of_range"),
        ("undefined token", b'sid="h",sta=x', {}, 400, "out_of_range"),
        ("syntax", b'sid="h",,br=1', {}, 400, "syntax"),
        ("long string", b'sid="' + b"x" * 65 + b'"', {}, 400, "too_long"),
        ("JSON duplicate key", b'{"br":1,"br":2}', {"Content-Type": "application/json"}, 400,
         "repeated_key"),
        ("JSON wrong type", b'[{"sid":"h","bl":null}]', {"Content-Type": "application/json"},
         400, "bad_type"),
        ("JSON not a report", b'[1]', {"Content-Type": "application/json"}, 400, "syntax"),
        ("bad JSON", b'{"br":', {"Content-Type": "application/json"}, 400, "syntax"),
        ("JSON of bytes that are not UTF-8 (the answer stays JSON)", b'{"br":\xff\xfe}',
         {"Content-Type": "application/json"}, 400, "syntax"),
        ("too many reports", b"br=1\n" * 257, {}, 400, "too_long"),
        ("bad header", b"", {"CMCD-Object": "br=1;x"}, 400, "syntax"),
        ("no report", b"", {}, 400, "request"),
        ("body too large", b"br=1," * 14000, {}, 413, "request"),
        ("proxy without X-Forwarded-For", b'sid="h",br=1', {"X-Forwarded-For": ""}, 400,
         "request"),
        ("garbled X-Forwarded-For", b'sid="h",br=1', {"X-Forwarded-For": "1.2.3.4, nope"}, 400,
         "request"),
    ]
    _, before = metrics(c)
    bad = 0
    for name, body, h, status, reason in cases:
        hh = dict(xff)
        hh.update(h)
        if hh.get("X-Forwarded-For") == "":
            del hh["X-Forwarded-For"]
        code, resp = post(c, body, hh)
        try:
            j = json.loads(resp)
        except ValueError:
            j = {}
        if code != status or j.get("reason") != reason:
            fail(f"hostile {name}: {code} {resp[:120]!r}, want {status} {reason}")
            bad += 1
    code, _ = post(c, b"br=1", xff, method="PUT")
    if code != 405:
        fail(f"hostile: PUT gave {code}, want 405")
        bad += 1
    _, after = metrics(c)
    want = {"syntax": 5, "unknown_key": 1, "repeated_key": 2, "bad_type": 2, "out_of_range": 2,
            "too_long": 2}
    for reason, n in want.items():
        k = f'edgeprobe_collector_qoe_refused_total{{reason="{reason}"}}'
        if after.get(k, 0) - before.get(k, 0) != n:
            fail(f"hostile: {k} grew by {after.get(k, 0) - before.get(k, 0)}, want {n}")
            bad += 1
    for k, n in (("too_large", 1), ("bad_forwarded", 2), ("refused_requests", len(cases) + 1),
                 ("reports", 0)):
        k = f"edgeprobe_collector_qoe_{k}_total"
        if after[k] - before[k] != n:
            fail(f"hostile: {k} grew by {after[k] - before[k]}, want {n}")
            bad += 1
    if not bad:
        ok(f"hostile: {len(cases) + 1} bad requests refused with their reasons, counted, "
           "nothing added")


def limits(out_dir):
    """--qoe-rate and --qoe-http on a second collector."""
    qport = free_port()
    c = eptest.Collector(collector, out_dir, "qoe-limits", ["udp://127.0.0.1:0"],
                         ["--qoe-http", f"127.0.0.1:{qport}", "--qoe-asn-db",
                          f"{asn_csv},{cc_csv}", "--qoe-trusted-proxy", "127.0.0.1",
                          "--qoe-rate", "5", "--alert-rules", "none"])
    try:
        codes = [post(c, b'br=100,sid="r"', {"X-Forwarded-For": "203.0.113.5"},
                      port=qport)[0] for _ in range(30)]
        other, _ = post(c, b'br=100,sid="o"', {"X-Forwarded-For": "203.0.113.77"}, port=qport)
        _, m = metrics(c)
        passed = codes.count(204)
        if not (10 <= passed < 30 and codes.count(429) == 30 - passed and other == 204 and
                m["edgeprobe_collector_qoe_rate_limited_total"] == 30 - passed):
            fail(f"rate: {passed} of 30 passed at 5/s (burst 10), other source {other}, "
                 f"counted {m['edgeprobe_collector_qoe_rate_limited_total']}")
        else:
            ok(f"rate: a flood from one source got {passed} of 30 through (5/s, burst 10), "
               f"the rest 429 and counted; another source was served")
        code, _ = post(c, path="/api/v1/asns", method="GET", port=qport)
        code2, _ = post(c, b'br=1,sid="api"', {"X-Forwarded-For": "203.0.113.6"})
        if code != 404 or code2 != 204:
            fail(f"--qoe-http: /api/v1/asns there gave {code} (want 404), the API port's "
                 f"/api/v1/qoe {code2} (want 204)")
        else:
            ok("--qoe-http: a listener of its own serves only /api/v1/qoe")
    finally:
        c.stop()


def restart(out_dir, responses):
    """--history: the players' roll-ups of 1 s and coarser come back after a restart."""
    db = os.path.join(out_dir, "qoe-history.db")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    # Memory holds 3 minutes at 1 min; the sessions span about 6: the older minutes come
    # from the history alone, before and after the restart.
    args = ["--qoe", "--qoe-asn-db", f"{asn_csv},{cc_csv}", "--qoe-trusted-proxy", "127.0.0.1",
            "--qoe-rate", "0", "--tiers", "100ms:1m,1s:2m,1m:3m", "--history", db,
            "--alert-rules", "none"]
    c = eptest.Collector(collector, out_dir, "qoe-h1", ["udp://127.0.0.1:0"], args)
    truth_path = os.path.join(out_dir, "qoe-h.truth.json")
    r = subprocess.run([sys.executable, gen_qoe, "--url", c.url("/api/v1/qoe"), "--clients",
                        asn_csv, "--countries", cc_csv, "--sessions", "100", "--seconds", "180",
                        "--truth", truth_path, "--seed", "11"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        fail(f"gen-qoe: {r.stdout} {r.stderr[-300:]}")
    entries = json.load(open(truth_path))["entries"]
    time.sleep(1.5)  # the history's writer: the buckets memory let go are in the store
    j = c.get("/api/v1/asns?by=country&with=qoe&range=30m&limit=1000")
    compare("before a restart, pairs over 30m (memory holds 3 min, the history the rest)",
            {f"{e['asn']},{e['country'] or ''}": e for e in j["pairs"]}, entries)
    c.stop()
    c = eptest.Collector(collector, out_dir, "qoe-h2", ["udp://127.0.0.1:0"], args)
    try:
        for rng in ("30m", "2h"):
            j = c.get(f"/api/v1/asns?by=country&with=qoe&range={rng}&limit=1000")
            responses.append(json.dumps(j))
            got = {f"{e['asn']},{e['country'] or ''}": e for e in j["pairs"]}
            compare(f"after a restart, pairs over {rng} (from the history, resolution "
                    f"{j['qoe_resolution_ns'] // 1000000} ms)", got, entries)
    finally:
        c.stop()
    log = open(os.path.join(out_dir, "qoe-h2.log")).read()
    if "qoe: 0 roll-up buckets reloaded" in log or "roll-up buckets reloaded" not in log:
        fail("the restarted collector did not reload the players' roll-ups")
    # A probe may not take the name the players' roll-ups are stored under.
    r = subprocess.run([os.path.join(os.path.dirname(collector), "..", "probe", "pcap",
                                     "edgeprobe-pcap"), "--probe-id", "@qoe", "--read",
                        "/dev/null"], capture_output=True, text=True)
    if r.returncode != 2 or "reserved" not in r.stderr:
        fail(f"--probe-id @qoe: exit {r.returncode} {r.stderr[:200]!r}")
    else:
        ok("--probe-id @qoe is refused: the name is the players' in the history")


def main():
    os.makedirs(out, exist_ok=True)
    c = eptest.Collector(collector, out, "qoe", ["udp://127.0.0.1:0"],
                         ["--qoe", "--qoe-asn-db", f"{asn_csv},{cc_csv}",
                          "--qoe-trusted-proxy", "127.0.0.1", "--qoe-rate", "0",
                          "--tiers", "100ms:10m,1s:30m,1m:2h", "--alert-rules", "none"])
    truth_path = os.path.join(out, "qoe.truth.json")
    r = subprocess.run([sys.executable, gen_qoe, "--url", c.url("/api/v1/qoe"), "--clients",
                        asn_csv, "--countries", cc_csv, "--sessions", "300", "--seconds", "120",
                        "--dups", "20", "--degrade", "64502:0:60", "--nonnet", "64503:30:60",
                        "--truth", truth_path, "--seed", "7"],
                       capture_output=True, text=True, timeout=240)
    if r.returncode:
        fail(f"gen-qoe: {r.stdout} {r.stderr[-500:]}")
    truth = json.load(open(truth_path))
    entries = truth["entries"]
    if len(entries) < 6 or truth["duplicates"] != 20:
        fail(f"the simulation is too small: {len(entries)} pairs, {truth['duplicates']} dups")
    responses = []
    resolutions = set()
    for rng in ("10m", "30m", "2h"):
        j = c.get(f"/api/v1/asns?by=country&with=qoe&range={rng}&limit=1000")
        responses.append(json.dumps(j))
        resolutions.add(j["qoe_resolution_ns"])
        got = {f"{e['asn']},{e['country'] or ''}": e for e in j["pairs"]}
        compare(f"pairs over {rng} (resolution {j['qoe_resolution_ns'] // 1000000} ms)", got, entries)
        j = c.get(f"/api/v1/asns?with=qoe&range={rng}&limit=1000")
        responses.append(json.dumps(j))
        compare(f"ASNs over {rng}", {str(e["asn"]): e for e in j["asns"]}, per_asn(entries))
    names = {str(e["asn"]): e["org"] for e in j["asns"]}
    if names.get("64502") != "Example ISP Two" or names.get("64503") != "Example ISP Three, Ltd.":
        fail(f"ISPs only players report on are not named from the ASN data: {names}")
    else:
        ok("ISPs only players report on carry their names from the ASN data")
    if resolutions != {100000000, 1000000000, 60000000000}:
        fail(f"the ranges were read at {sorted(resolutions)} ns, not 100 ms, 1 s and 1 min")
    text, m = metrics(c)
    if m["edgeprobe_collector_qoe_reports_total"] != truth["reports"] or \
            m["edgeprobe_collector_qoe_duplicate_total"] != truth["duplicates"] or \
            m["edgeprobe_collector_qoe_ts_ignored_total"] != 0:
        fail(f"metrics: reports {m['edgeprobe_collector_qoe_reports_total']} (want "
             f"{truth['reports']}), duplicates {m['edgeprobe_collector_qoe_duplicate_total']} "
             f"(want {truth['duplicates']}), ts ignored "
             f"{m['edgeprobe_collector_qoe_ts_ignored_total']} (want 0)")
    else:
        ok(f"metrics: {truth['reports']} reports added, {truth['duplicates']} re-sent reports "
           "dropped as duplicates")
    code, body = post(c, path="/api/v1/asns?with=qoe&range=1m&country=DE", method="GET")
    if code != 200 or any(e["qoe"] is None for e in json.loads(body)["asns"]):
        fail(f"country=DE with=qoe: {code} {body[:200]!r}")
    hostile(c)
    responses.append(text)
    c.stop()
    limits(out)
    restart(out, responses)
    # No client address in any answer, metric or log.
    addrs = set()
    for row in open(asn_csv):
        lo = row.split(",")[0]
        if "." in lo:
            net = ipaddress.ip_address(lo)
            addrs.update(str(net + i) for i in range(1, 255) if
                         int(net) + i <= int(ipaddress.ip_address(row.split(",")[1])))
    logs = "".join(open(os.path.join(out, f)).read() for f in os.listdir(out)
                   if f.endswith(".log"))
    blob = "\n".join(responses) + logs
    leaked = sorted(a for a in addrs if f'"{a}"' in blob or f" {a}" in blob or f"={a}" in blob)
    if leaked:
        fail(f"client addresses appear in answers or logs: {leaked[:5]}")
    else:
        ok(f"no client address ({len(addrs)} possible) in {len(responses)} answers and the logs")
    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
