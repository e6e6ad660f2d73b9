#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run a probe on the scenario captures and compare its JSON with the ground truth.

Checks, per ASN: every counter exactly, the number of samples of rtt_hs,
rtt_data and retx_ppm exactly, and p50/p90/p99/max exactly as HdrHistogram
reports them for the true samples (the highest value of the bucket of the
sample at that rank, computed here independently); the probe's counters
(packets, each parse class); that windows are aligned and their counters add
up to the summary; and that edgeprobe-dump turns the wire messages back into
the same JSON lines (file, UDP, TCP and Unix transports).

Usage: check_scenarios.py PROBE DUMP GEN OUTDIR [--probe-cmd-prefix ...]
Exit 0 when everything matches, 1 otherwise.
"""
import json
import math
import os
import socket
import subprocess
import sys
import time

FAILS = []
# The per-ASN counters (include/edgeprobe/ep_tcp.h) the truth gives; syn_unsampled is 0 here.
COUNTERS = ("flows_new", "flows_closed", "segs_out", "segs_in", "retx_out", "retx_in",
            "rtt_data_timed")


def fail(msg):
    FAILS.append(msg)
    print("FAIL:", msg)


def hdr_highest_equivalent(v, sub_bucket_half_mag=7):
    """HdrHistogram's highest equivalent value for lowest=1 and 2 digits (256 sub-buckets)."""
    mask = (1 << (sub_bucket_half_mag + 1)) - 1
    bucket = (v | mask).bit_length() - 1 - sub_bucket_half_mag
    sub = v >> bucket
    return (sub << bucket) + (1 << bucket) - 1


def hdr_percentile(samples, p):
    s = sorted(samples)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return hdr_highest_equivalent(s[rank - 1])


def run_probe(probe, pcap, truth, out_json, extra=()):
    cmd = [probe, "--read", pcap, "--asn-db", truth["asn_file"], "--local-net",
           truth["local_net"], "--json-out", out_json, "--probe-id", "scenario", "--quiet"]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
        return []
    with open(out_json) as fp:
        return [json.loads(line) for line in fp]


def compare(name, lines, truth):
    windows = [x for x in lines if x["type"] == "window"]
    summary = [x for x in lines if x["type"] == "summary"]
    if len(summary) != 1:
        fail(f"{name}: {len(summary)} summary lines")
        return
    summary = summary[0]
    # Windows: aligned, increasing sequence numbers, counters adding up to the summary.
    totals = {}
    last_seq = 0
    for w in windows:
        if w["start_ns"] % 100000000 or w["end_ns"] - w["start_ns"] != 100000000:
            fail(f"{name}: window {w['start_ns']}..{w['end_ns']} not aligned to 100 ms")
        if w["seq"] <= last_seq:
            fail(f"{name}: sequence {w['seq']} after {last_seq}")
        last_seq = w["seq"]
        for a in w["asns"]:
            t = totals.setdefault(a["asn"], {})
            for k in COUNTERS:
                t[k] = t.get(k, 0) + a[k]
            for h in ("rtt_hs", "rtt_data", "retx_ppm"):
                t[h] = t.get(h, 0) + a[h]["n"]
    got = {str(a["asn"]): a for a in summary["asns"]}
    if set(got) != set(truth["asns"]):
        fail(f"{name}: ASNs {sorted(got)} != truth {sorted(truth['asns'])}")
    for asn, tr in truth["asns"].items():
        a = got.get(asn)
        if not a:
            continue
        for k in COUNTERS:
            if a[k] != tr[k]:
                fail(f"{name}: AS{asn} {k} = {a[k]}, truth {tr[k]}")
            if totals.get(int(asn), {}).get(k) != a[k]:
                fail(f"{name}: AS{asn} {k}: windows add up to {totals.get(int(asn), {}).get(k)}, summary {a[k]}")
        for h in ("rtt_hs", "rtt_data", "retx_ppm"):
            samples = tr[h]
            unit = "" if h == "retx_ppm" else "_us"
            if a[h]["n"] != len(samples):
                fail(f"{name}: AS{asn} {h} n = {a[h]['n']}, truth {len(samples)}")
                continue
            if totals.get(int(asn), {}).get(h) != a[h]["n"]:
                fail(f"{name}: AS{asn} {h}: windows add up to {totals[int(asn)].get(h)} samples")
            if not samples:
                continue
            for p in (50, 90, 99, 100):
                key = "max" + unit if p == 100 else f"p{p}{unit}"
                want = hdr_percentile(samples, p)
                if a[h][key] != want:
                    fail(f"{name}: AS{asn} {h} {key} = {a[h][key]}, truth {want} "
                         f"(raw {sorted(samples)[max(1, math.ceil(p / 100 * len(samples))) - 1]})")
    for k, v in truth["stats"].items():
        if summary["stats"].get(k) != v:
            fail(f"{name}: stats {k} = {summary['stats'].get(k)}, truth {v}")
    parsed = sum(v for k, v in summary["stats"].items() if k.startswith("parse_"))
    if parsed != summary["stats"]["packets"]:
        fail(f"{name}: parse classes add up to {parsed}, packets {summary['stats']['packets']}")


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dump_round_trip(probe, dump, pcap, truth, out):
    """Wire -> JSON must equal --json-out, over every transport."""
    ref = os.path.join(out, "rt-ref.json")
    saved = os.path.join(out, "rt.wire")
    run_probe(probe, pcap, truth, ref, ["--collector", "file:" + saved, "--max-payload", "600"])
    with open(ref) as fp:
        want = fp.read()
    r = subprocess.run([dump, "--read", saved], capture_output=True, text=True)
    if r.stdout != want:
        fail(f"dump --read: output differs from --json-out ({len(r.stdout)} vs {len(want)} bytes)")
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    sock = os.path.join(out, "rt.sock")
    for listen, collector in ((f"udp://127.0.0.1:{udp}", f"udp://127.0.0.1:{udp}"),
                              (f"tcp://127.0.0.1:{tcp}", f"tcp://127.0.0.1:{tcp}"),
                              (f"unix:{sock}", f"unix:{sock}")):
        d = subprocess.Popen([dump, "--listen", listen, "--until-summary", "--timeout-ms", "20000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        got_ref = os.path.join(out, "rt-live.json")
        run_probe(probe, pcap, truth, got_ref, ["--collector", collector])
        try:
            got, err = d.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            d.kill()
            got, err = d.communicate()
        with open(got_ref) as fp:
            want_live = fp.read()
        if got != want_live:
            fail(f"dump --listen {listen}: output differs from --json-out: {err.strip()}")
        else:
            print(f"ok: wire -> JSON over {listen.split(':')[0]} equals --json-out "
                  f"({want_live.count(chr(10))} lines)")


def main():
    probe, dump, gen, out = sys.argv[1:5]
    os.makedirs(out, exist_ok=True)
    r = subprocess.run(["/usr/bin/python3", gen, out], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        return 1
    for name in ("mixed", "dense"):
        with open(os.path.join(out, name + ".truth.json")) as fp:
            truth = json.load(fp)
        lines = run_probe(probe, os.path.join(out, name + ".pcap"), truth,
                          os.path.join(out, name + ".json"))
        before = len(FAILS)
        compare(name, lines, truth)
        if len(FAILS) == before:
            n = sum(len(t["rtt_hs"]) + len(t["rtt_data"]) for t in truth["asns"].values())
            print(f"ok: {name}: {len(truth['asns'])} ASNs, {n} RTT samples, every counter "
                  f"and percentile matches the truth")
    with open(os.path.join(out, "mixed.truth.json")) as fp:
        truth = json.load(fp)
    dump_round_trip(probe, dump, os.path.join(out, "mixed.pcap"), truth, out)
    print(f"{len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
