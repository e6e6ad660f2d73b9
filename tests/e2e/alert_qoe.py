#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""alert_qoe.py - alert rules on players' rebuffering, with and without the network.

Live for 80 s on the wall clock: edgeprobe-pcap replays (--realtime) a capture of five ISPs
in which one (rank 1) gets +80 ms and 3 % loss from 40 s on, and scripts/gen-qoe --realtime
plays sessions over the same ISPs whose players stall from 40 s on for that ISP (the
network) and for another (rank 2: a problem beyond the network).  The rules: the in-flow
RTT p90 and the retransmission rate against their own previous 30 s, and two rebuffering
rules against theirs, one that `requires` either network rule and one that fires `unless`
one of them is bad.  Checked: the first fires for the degraded ISP only, the second for the
other ISP only, nothing for the healthy ones.
Usage: alert_qoe.py COLLECTOR PCAP_PROBE GEN_TRAFFIC GEN_QOE ASN_CSV OUTDIR
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import FAILS, OKS, fail, ok  # noqa: E402

collector, pcap_probe, gen_traffic, gen_qoe, asn_csv, out = sys.argv[1:7]

RULES = """
[rtt_up]
metric = rtt_data:p90
over = 5s
baseline = 30s
ratio = 1.5
margin = 20ms
min_samples = 20
pending = 1
resolve = 30

[retx_up]
metric = retx_rate
over = 10s
baseline = 30s
ratio = 3
margin = 3%
min_samples = 300
pending = 1
resolve = 30

[rebuffering_network]
metric = rebuffer_ratio
over = 10s
baseline = 30s
ratio = 2
margin = 3%
min_samples = 300
requires = rtt_up, retx_up
pending = 1
resolve = 30

[rebuffering_beyond_network]
metric = rebuffer_ratio
over = 10s
baseline = 30s
ratio = 2
margin = 3%
min_samples = 300
unless = rtt_up, retx_up
pending = 5
resolve = 30
"""


def main():
    os.makedirs(out, exist_ok=True)
    asn_dir, clients = eptest.doc_asn_dir(out, asn_csv)
    pcap, truth_p = os.path.join(out, "live.pcap"), os.path.join(out, "live.truth.json")
    subprocess.run([sys.executable, gen_traffic, pcap, "--asn-dir", asn_dir, "--asns", "6",
                    "--flows", "8000", "--segs", "20", "--seconds", "80",
                    "--degrade", "1:40:40:80:0.03", "--truth", truth_p], check=True,
                   capture_output=True)
    isps = {i["rank"]: i["asn"] for i in json.load(open(truth_p))}
    bad, other = isps[1], isps[2]
    rules = os.path.join(out, "rules.ini")
    open(rules, "w").write(RULES)
    c = eptest.Collector(collector, out, "alert-qoe", ["udp://127.0.0.1:0"],
                         ["--qoe", "--qoe-asn-db", clients, "--qoe-trusted-proxy", "127.0.0.1",
                          "--qoe-rate", "0", "--alert-rules", rules])
    procs = []
    try:
        procs.append(subprocess.Popen(
            [pcap_probe, "--read", pcap, "--realtime", "--asn-db", clients, "--local-net",
             "192.0.2.0/25,2001:db8:ff::/48", "--collector", f"udp://127.0.0.1:{c.ports[0]}",
             "--quiet"]))
        procs.append(subprocess.Popen(
            [sys.executable, gen_qoe, "--url", c.url("/api/v1/qoe"), "--clients", clients,
             "--realtime", "--rate", "8", "--duration", "80", "--degrade", f"{bad}:40:40",
             "--nonnet", f"{other}:40:40", "--seed", "5"], stdout=subprocess.DEVNULL))
        time.sleep(78)
        alerts = c.get("/api/v1/alerts?state=all")["alerts"]
        fired = sorted({(a["rule"], a["asn"]) for a in alerts
                        if a["state"] in ("firing", "resolved")})
        want_net = {("rebuffering_network", bad)}
        want_beyond = {("rebuffering_beyond_network", other)}
        net = {f for f in fired if f[0] == "rebuffering_network"}
        beyond = {f for f in fired if f[0] == "rebuffering_beyond_network"}
        if net != want_net:
            fail(f"rebuffering with the network: fired for {sorted(net)}, want {want_net}")
        else:
            ok(f"rebuffering with the network fired for AS{bad} only")
        if beyond != want_beyond:
            fail(f"rebuffering beyond the network: fired for {sorted(beyond)}, want "
                 f"{want_beyond}")
        else:
            ok(f"rebuffering beyond the network fired for AS{other} only")
        if ("rtt_up", bad) not in fired:
            fail(f"rtt_up did not fire for AS{bad}: {fired}")
        for a in alerts:
            if a["rule"].startswith("rebuffering") and a["state"] in ("firing", "resolved"):
                ok(f"{a['rule']} AS{a['asn']}: value {a['value']:.4f}, baseline "
                   f"{a['baseline']:.4f}, samples {a['samples']}")
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        c.stop()
    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
