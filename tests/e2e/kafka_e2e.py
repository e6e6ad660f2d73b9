#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kafka output: the collector produces every closed 1 s window, one message per
(ASN, country) keyed by the ASN, to librdkafka's built-in mock cluster (the only Kafka
broker this machine can run); kcat consumes them back.  Per ASN, the messages'
counters and samples add up to the scenario's truth, every key is the ASN,
every histogram decodes, and the collector's delivery counters agree.

Usage: kafka_e2e.py COLLECTOR PCAP_PROBE HDR_DECODE GEN OUTDIR
Exit 77 when kcat is not installed or the collector was built without librdkafka.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import FAILS, fail, free_port, spawn_collector  # noqa: E402

collector, probe, hdr_decode, gen, out = sys.argv[1:6]
kcat = shutil.which("kcat") or shutil.which("kafkacat")
if not kcat:
    print("SKIP: kcat is not installed (scripts/setup installs it)")
    sys.exit(77)
def main():
    os.makedirs(out, exist_ok=True)
    subprocess.run([gen, out], check=True, capture_output=True)
    truth = json.load(open(os.path.join(out, "mixed.truth.json")))
    log = os.path.join(out, "collector.log")
    try:
        c, (udp,), http = spawn_collector(collector, out, "collector", ["udp://127.0.0.1:0"],
                                          ["--grace-ms", "200", "--kafka-mock", "1",
                                           "--kafka-topic", "edgeprobe-test"])
    except SystemExit:
        if "built without librdkafka" in open(log).read():
            print("SKIP: the collector was built without librdkafka")
            return 77
        raise
    boot = None
    for _ in range(100):
        m = re.search(r"kafka: producing to topic edgeprobe-test at (\S+)", open(log).read())
        if m:
            boot = m.group(1)
            break
        if c.poll() is not None:
            break
        time.sleep(0.05)
    if not boot:
        text = open(log).read()
        c.kill()
        if "built without librdkafka" in text:
            print("SKIP: the collector was built without librdkafka")
            return 77
        fail(f"no mock cluster address in the collector's log: {text}")
        return 1
    try:
        # With the countries: AS64501 is in DE and FR.
        subprocess.run([probe, "--read", os.path.join(out, "mixed.pcap"), "--asn-db",
                        truth["asn_file"] + "," + truth["country_file"],
                        "--local-net", truth["local_net"], "--probe-id", "k", "--collector",
                        f"udp://127.0.0.1:{udp}", "--quiet"], check=True)
        # Windows close 4 x grace after the last message; delivery follows within linger.ms.
        deadline = time.time() + 20
        col = {}
        while time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/probes") as r:
                col = json.loads(r.read())["collector"]
            if col["kafka_produced"] and col["kafka_delivered"] == col["kafka_produced"] \
                    and col["windows_closed"] >= 2:
                break
            time.sleep(0.2)
        r = subprocess.run([kcat, "-C", "-b", boot, "-t", "edgeprobe-test", "-o", "beginning", "-e",
                            "-q", "-J"], capture_output=True, text=True, timeout=60)
        msgs = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        if r.returncode or not msgs:
            fail(f"kcat: exit {r.returncode}, {len(msgs)} messages: {r.stderr[-500:]}")
            return 1
        if len(msgs) != col["kafka_produced"] or col["kafka_failed"] or col["kafka_queue_full"]:
            fail(f"{len(msgs)} consumed, collector produced {col['kafka_produced']}, "
                 f"delivered {col['kafka_delivered']}, failed {col['kafka_failed']}")
        tot = {}
        hdrs = []
        countries = set()
        addrs = {f["remote"] for f in truth["flows"]}
        leaks = [a for a in addrs if any(a in m["payload"] for m in msgs)]
        if leaks:
            fail(f"capture addresses in Kafka messages: {leaks[:5]}")
        for m in msgs:
            v = json.loads(m["payload"])
            a = v["asn"]
            countries.add((a["asn"], a["country"]))
            if m["key"] != str(a["asn"]):
                fail(f"message key {m['key']} for AS{a['asn']}")
            t = tot.setdefault(str(a["asn"]), {"segs_out": 0, "retx_out": 0, "flows_new": 0, "rtt_data": 0,
                                               "rtt_hs": 0})
            for k in ("segs_out", "retx_out", "flows_new"):
                t[k] += a[k]
            for k in ("rtt_data", "rtt_hs"):
                t[k] += a[k]["n"]
                if a[k]["n"]:
                    hdrs.append((a[k]["hdr"], a[k]["n"]))
            if v["end_ns"] - v["start_ns"] != 1000000000:
                fail(f"window {v['start_ns']}..{v['end_ns']} is not 1 s")
        want = {asn: {"segs_out": x["segs_out"], "retx_out": x["retx_out"], "flows_new": x["flows_new"],
                      "rtt_data": len(x["rtt_data"]), "rtt_hs": len(x["rtt_hs"])}
                for asn, x in truth["asns"].items()}
        if tot != want:
            fail(f"Kafka totals {tot} != truth {want}")
        if (64501, "DE") not in countries or (64501, "FR") not in countries:
            fail(f"Kafka messages are not per (ASN, country): {sorted(countries, key=str)}")
        dec = subprocess.run([hdr_decode], input="".join(h + "\n" for h, _ in hdrs), capture_output=True,
                             text=True).stdout.splitlines()
        if [int(d.split()[0]) for d in dec] != [n for _, n in hdrs]:
            fail("a Kafka message's histogram does not decode to its n")
        if not FAILS:
            print(f"ok: {len(msgs)} Kafka messages (1 s windows x (ASN, country), keyed by ASN) "
                  f"consumed with kcat from the librdkafka mock cluster; totals equal the truth for "
                  f"{len(want)} ASNs; {len(hdrs)} histograms decode; {len(countries)} (ASN, country) "
                  f"keys; none of the {len(addrs)} capture addresses in them")
    finally:
        c.terminate()
        c.wait(timeout=15)
    # A broker that is down never blocks ingest: the API has everything, the
    # undeliverable messages are counted as failed once they time out.
    dead = free_port()  # nothing listens there: a broker that is down
    c, (udp,), http = spawn_collector(collector, out, "collector-nobroker", ["udp://127.0.0.1:0"],
                                      ["--grace-ms", "200", "--kafka-brokers", f"127.0.0.1:{dead}",
                                       "--kafka-topic", "t", "--kafka-timeout-ms", "1500",
                                       "--quiet"])
    try:
        time.sleep(0.3)
        t0 = time.time()
        subprocess.run([probe, "--read", os.path.join(out, "mixed.pcap"), "--asn-db", truth["asn_file"],
                        "--local-net", truth["local_net"], "--probe-id", "k", "--collector",
                        f"udp://127.0.0.1:{udp}", "--quiet"], check=True)
        elapsed = time.time() - t0
        deadline = time.time() + 20
        while time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/probes") as r:
                j = json.loads(r.read())
            col = j["collector"]
            if col["kafka_produced"] and col["kafka_failed"] == col["kafka_produced"]:
                break
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/api/v1/asns?range=1d") as r:
            segs = {str(a["asn"]): a["segs_out"] for a in json.loads(r.read())["asns"]}
        if segs != {a: x["segs_out"] for a, x in truth["asns"].items()} or col["msgs_rejected"]:
            fail(f"with Kafka down, ingest lost data: {segs}")
        elif not col["kafka_produced"] or col["kafka_failed"] != col["kafka_produced"] or col["kafka_delivered"]:
            fail(f"Kafka down: produced {col['kafka_produced']}, failed {col['kafka_failed']}")
        else:
            print(f"ok: Kafka down: replay ingested in {elapsed:.2f} s, API complete, "
                  f"{col['kafka_failed']} undeliverable messages counted")
        # librdkafka's own lines come through the collector's log (its format, its --quiet).
        text = open(os.path.join(out, "collector-nobroker.log")).read()
        raw = [l for l in text.splitlines() if re.match(r"%\d\|", l)]
        ours = [l for l in text.splitlines() if re.search(r"Z error: kafka: \w+: ", l)]
        info = [l for l in text.splitlines() if " info: " in l]
        if raw or not ours or info:
            fail(f"librdkafka's lines bypass the log: {len(raw)} raw, {len(ours)} routed, "
                 f"{len(info)} info lines despite --quiet: {(raw or info or [''])[0]!r}")
        else:
            print(f"ok: Kafka down: {len(ours)} librdkafka lines routed through the log as "
                  f"errors (e.g. {ours[0][25:110]!r}), none raw, no info under --quiet")
    finally:
        c.terminate()
        c.wait(timeout=15)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
