#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""qoe_join.py - players' rebuffering joined with the probes' network numbers, per ISP.

Ten minutes ending five minutes ago: scripts/gen-traffic writes a capture of five ISPs in
which one (popularity rank 1) gets +80 ms and 3 % loss in the second five minutes;
edgeprobe-pcap replays it into the collector.  scripts/gen-qoe sends 900 playback
sessions over the same ten minutes (their own timestamps) in which that ISP's players
stall in the second half (the network), another ISP's players stall as much with nothing
wrong in the network (rank 2: an encoder, CDN or player problem), and the others rarely.
Checked, on the second half against the first:
  - /api/v1/asns/N/explain says "network" for the degraded ISP, "beyond_network" for the
    other, "healthy" for the rest, each with the numbers behind it;
  - /api/v1/correlation ranks the degraded ISP first, with a rank correlation of its
    rebuffering and its RTT p90 over 30 s steps of at least 0.5, and the other ISP's below;
  - edgeprobe-query explain prints the verdict.
Usage: qoe_join.py COLLECTOR PCAP_PROBE QUERY GEN_TRAFFIC GEN_QOE ASN_CSV OUTDIR
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import FAILS, OKS, fail, ok  # noqa: E402

collector, pcap_probe, query, gen_traffic, gen_qoe, asn_csv, out = sys.argv[1:8]


def main():
    os.makedirs(out, exist_ok=True)
    # The test's ASN ranges (documentation addresses) as gen-traffic's ASN directory.
    asn_dir, _ = eptest.doc_asn_dir(out, asn_csv)
    t0 = int(time.time()) // 60 * 60 - 900
    pcap, truth_p = os.path.join(out, "join.pcap"), os.path.join(out, "join.truth.json")
    subprocess.run([sys.executable, gen_traffic, pcap, "--asn-dir", asn_dir, "--asns", "6",
                    "--flows", "20000", "--segs", "20", "--seconds", "600", "--t0", str(t0),
                    "--degrade", "1:300:300:80:0.03", "--truth", truth_p], check=True,
                   capture_output=True)
    isps = {i["rank"]: i["asn"] for i in json.load(open(truth_p))}
    bad, other = isps[1], isps[2]
    c = eptest.Collector(collector, out, "join", ["udp://127.0.0.1:0"],
                         ["--qoe", "--qoe-asn-db", asn_csv, "--qoe-trusted-proxy", "127.0.0.1",
                          "--qoe-rate", "0", "--alert-rules", "none"])
    try:
        r = subprocess.run([pcap_probe, "--read", pcap, "--asn-db", asn_csv, "--local-net",
                            "192.0.2.0/25,2001:db8:ff::/48", "--collector",
                            f"udp://127.0.0.1:{c.ports[0]}", "--quiet"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            fail(f"edgeprobe-pcap: {r.stderr[-300:]}")
        r = subprocess.run([sys.executable, gen_qoe, "--url", c.url("/api/v1/qoe"),
                            "--clients", asn_csv, "--sessions", "900", "--seconds", "540",
                            "--start", str(t0), "--degrade", f"{bad}:300:300",
                            "--nonnet", f"{other}:300:300", "--seed", "3"],
                           capture_output=True, text=True, timeout=240)
        if r.returncode:
            fail(f"gen-qoe: {r.stdout} {r.stderr[-300:]}")
        time.sleep(0.5)
        end = t0 + 600
        want = {a: "healthy" for a in isps.values()}
        want[bad], want[other] = "network", "beyond_network"
        for asn, v in sorted(want.items()):
            j = c.get(f"/api/v1/asns/{asn}/explain?range=5m&baseline=5m&end={end}")
            n, q = j["network"], j["qoe"]
            line = (f"AS{asn}: {j['verdict']} (rebuffering {q['rebuffer_ratio']} vs "
                    f"{q['baseline_rebuffer_ratio']}, p90 {n['rtt_p90_us']} vs "
                    f"{n['baseline_rtt_p90_us']} us, retx {n['retx_rate']} vs "
                    f"{n['baseline_retx_rate']})")
            if j["verdict"] != v:
                fail(f"explain {line}, want {v}: {j['summary']}")
            elif v != "healthy" and not (j["since_ns"] and
                                         (t0 + 300) * 10**9 <= j["since_ns"] < end * 10**9):
                fail(f"explain AS{asn}: since {j['since_ns']} is not in the second half")
            else:
                ok(f"explain {line}: {j['summary']}")
        j = c.get(f"/api/v1/asns/{bad}/series?metric=rebuffer_ratio&step=1m&range=10m&end={end}")
        pts = [p[1] for p in j["points"] if p[1] is not None]
        first, second = pts[:len(pts) // 2], pts[len(pts) // 2:]
        if len(pts) < 8 or max(first) >= min(second):
            fail(f"series rebuffer_ratio of AS{bad} per minute: {pts}")
        else:
            ok(f"series rebuffer_ratio of AS{bad} per minute: first half at most {max(first):.4f}, "
               f"second half at least {min(second):.4f}")
        j = c.get(f"/api/v1/correlation?range=10m&step=30s&end={end}")
        order = [a["asn"] for a in j["asns"]]
        rows = {a["asn"]: a for a in j["asns"]}
        rb, ro = rows.get(bad, {}), rows.get(other, {})
        if not order or order[0] != bad or (rb.get("rho_rtt_p90") or 0) < 0.5 or \
                (ro.get("rho_rtt_p90") or 0) >= 0.5:
            fail(f"correlation: order {order}, AS{bad} {rb}, AS{other} {ro}")
        else:
            ok(f"correlation: AS{bad} first, rho(rebuffering, RTT p90) {rb['rho_rtt_p90']} "
               f"over {rb['points']} steps, rho(rebuffering, retx) {rb['rho_retx_rate']}; "
               f"AS{other} {ro['rho_rtt_p90']}; across ISPs {j['across']}")
        r = subprocess.run([query, "--server", c.url(""), "explain", str(bad), "--range", "5m",
                            "--baseline", "5m", "--end", str(end)],
                           capture_output=True, text=True, timeout=30)
        if r.returncode or "network path" not in r.stdout:
            fail(f"edgeprobe-query explain: rc {r.returncode} {r.stdout!r} {r.stderr!r}")
        else:
            ok("edgeprobe-query explain:\n" + r.stdout)
    finally:
        c.stop()
    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
