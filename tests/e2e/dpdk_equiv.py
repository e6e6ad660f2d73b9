#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK probe == libpcap probe on the scenario captures.

For each scenario capture, edgeprobe reads it through a net_pcap vdev (--no-huge
--no-pci) with one worker, and with two workers over a two-queue port whose queue
files are the capture split by the symmetric flow hash; every window and the
summary must equal edgeprobe-pcap --read on the same file: per-ASN counters,
histograms (byte-identical encodings) and every probe counter.  Equal
flows_created also shows that both directions of each flow met on one worker.

A third capture from scripts/gen-traffic (real ASN data, 300 windows: far more
than the hand-off slots) checks that a fast replay loses and splits no window.

The probe also writes the wire protocol to a file, and edgeprobe-dump must
turn it back into the same JSON lines (per-port and per-worker counters
included); for the 312-window capture with two workers it also sends to a
live UDP listener, which must receive every window (a replay loses nothing).

Usage: dpdk_equiv.py EDGEPROBE EDGEPROBE_PCAP PCAP_SPLIT GEN GEN_TRAFFIC DUMP OUTDIR
"""
import json
import os
import socket
import subprocess
import sys
import time

probe, pcap_probe, split, gen, gen_traffic, dump, out = sys.argv[1:8]
os.makedirs(out, exist_ok=True)
subprocess.run(["/usr/bin/python3", gen, out], check=True, capture_output=True)
subprocess.run(["python3", gen_traffic, f"{out}/traffic.pcap", "--flows", "3000", "--seconds", "30",
                "--seed", "21", "--asn-subset", f"{out}/traffic-asn.csv"], check=True,
               capture_output=True)
json.dump({"asn_file": f"{out}/traffic-asn.csv", "local_net": "192.0.2.0/24,2001:db8:ff::/48"},
          open(f"{out}/traffic.truth.json", "w"))
fails = 0


def strip(w):
    return [(a["asn"], a["org"], a["flows_new"], a["flows_closed"], a["segs_out"], a["segs_in"],
             a["retx_out"], a["retx_in"], a["rtt_hs"]["hdr"], a["rtt_data"]["hdr"],
             a["retx_ppm"]["hdr"]) for a in w["asns"]]


def run(cmd, js):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr[-2000:]}")
    return [json.loads(l) for l in open(js)]


for name in ("mixed", "dense", "traffic"):
    truth = json.load(open(f"{out}/{name}.truth.json"))
    common = ["--asn-db", truth["asn_file"], "--local-net", truth["local_net"], "--probe-id", "eq"]
    pcap = f"{out}/{name}.pcap"
    ref = run([pcap_probe, "--read", pcap, "--json-out", f"{out}/{name}.ref.json", "--quiet"] + common,
              f"{out}/{name}.ref.json")
    subprocess.run([split, pcap, "2", f"{out}/{name}.q"], check=True)
    cases = {
        "1 worker": ["-l", "0,1", f"--vdev=net_pcap0,rx_pcap={pcap}"],
        "2 workers": ["--lcores", "0@0,1@1,2@1",
                      f"--vdev=net_pcap0,rx_pcap={out}/{name}.q0.pcap,rx_pcap={out}/{name}.q1.pcap"],
    }
    for case, eal in cases.items():
        js, wire = f"{out}/{name}.dpdk.json", f"{out}/{name}.dpdk.wire"
        udp_cmd, listener = [], None
        if name == "traffic" and case == "2 workers":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            listener = subprocess.Popen([dump, "--listen", f"udp://127.0.0.1:{port}",
                                         "--until-summary", "--timeout-ms", "30000"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
            udp_cmd = ["--collector", f"udp://127.0.0.1:{port}"]
        got = run([probe] + eal + ["--no-huge", "--no-pci", "-m", "256", f"--file-prefix=eq{os.getpid()}", "--",
                                   "--stop-after-idle", "300", "--stats-interval", "0", "--quiet",
                                   "--json-out", js, "--collector", "file:" + wire] + udp_cmd + common, js)
        dumped = subprocess.run([dump, "--read", wire], capture_output=True, text=True).stdout
        if listener:
            try:
                live, _ = listener.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                listener.kill()
                live, _ = listener.communicate()
            if live != open(js).read():
                problems_udp = f"UDP collector received {live.count(chr(10))} of {len(got)} lines"
            else:
                problems_udp = None
                print(f"ok: {name}, {case}: a live UDP collector received all {len(got)} lines")
        gw = [(w["start_ns"], w["end_ns"], strip(w)) for w in got if w["type"] == "window"]
        rw = [(w["start_ns"], w["end_ns"], strip(w)) for w in ref if w["type"] == "window"]
        # Every cumulative counter must match, except two: flows_active, a gauge of
        # table occupancy at each worker's last flush (ended flows wait there for
        # removal), which with several workers depends on when each worker's clock
        # stopped; and msgs_sent, which counts this run's own output messages (only
        # the DPDK run here also writes the wire protocol).
        skip = ("flows_active", "msgs_sent")
        stats_diff = {k: (got[-1]["stats"][k], ref[-1]["stats"][k]) for k in ref[-1]["stats"]
                      if got[-1]["stats"].get(k) != ref[-1]["stats"][k] and k not in skip}
        problems = []
        if got[-1]["type"] != "summary" or strip(got[-1]) != strip(ref[-1]):
            problems.append("summary differs")
        if gw != rw:
            problems.append(f"windows differ ({len(gw)} vs {len(rw)})")
        if stats_diff:
            problems.append(f"counters differ: {stats_diff}")
        # Per-source counters: every packet was received by the port and by one worker.
        summ = got[-1]
        nworkers = 2 if case == "2 workers" else 1
        if (len(summ.get("workers", [])) != nworkers or
                sum(w["packets"] for w in summ["workers"]) != summ["stats"]["packets"] or
                sum(p["rx_packets"] for p in summ.get("ports", [])) != summ["stats"]["packets"]):
            problems.append(f"per-source counters do not add up: {summ.get('ports')} "
                            f"{summ.get('workers')}")
        if dumped != open(js).read():
            problems.append("edgeprobe-dump of the wire output differs from --json-out")
        if listener and problems_udp:
            problems.append(problems_udp)
        if problems:
            fails += 1
            print(f"FAIL: {name}, {case}: " + "; ".join(problems))
        else:
            print(f"ok: {name}, {case}: {len(gw)} windows, {len(ref[-1]['asns'])} ASNs, "
                  f"{ref[-1]['stats']['packets']} packets identical to edgeprobe-pcap")
sys.exit(1 if fails else 0)
