#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bulk_rtt_check.py - the checks of bulk_rtt.sh: edgeprobe's in-flow RTT per ISP against
references computed from the capture of the wire with tshark's dissection and none of
edgeprobe's code.

References, per client address (one ASN each), from RUN/fields.csv:
  timestamps on   the first echo of each TSval: a data or FIN segment from the server
                  registers its TSval the first time it is seen; the first packet from the
                  client whose TSecr equals it is the sample (pping's passive-ping rule)
  timestamps off  tshark's tcp.analysis.ack_rtt (an ACK's time since the segment whose end
                  it equals), less every sample whose ACK may answer a retransmission (a
                  resend below the ACK between the segment and the ACK: Karn's rule)
and the kernel's smoothed RTT (ss -ti srtt, polled) is printed beside them.

Printed for the benchmark (scripts/bench, docs/performance.md), not checked: in-flow
samples per second per flow; beside them, with timestamps, what pping keeps (every first
echo: the reference itself) and what ePPing's default rate limit keeps (at most one
sample per flow per 100 ms) and its p50/p90 against the reference; the BPF programs'
run time per packet from the kernel's statistics (kernel.bpf_stats_enabled), when the
run recorded them (RUN/bpf_stats.txt), beside the floor program's (tests/live/floor.bpf.c,
the cheapest classifier on the same hooks in the same run) and, when bulk_rtt.sh attached
it (EP_BOUND_OBJ), the bound program's (tests/live/bound.bpf.c: the least work per packet
any tracker does, after or in front of ours on each hook).

An in-flow sample stands for the remote's new echoes since the flow's sample before it
(ep_track.h), so a histogram's count is the echoes it weighs, not the RTTs measured: those
are each probe's per-ASN counter rtt_data_timed (their sum must equal the probe counter of
the same name).

Per run and ASN, for edgeprobe-bpf (live) and edgeprobe-pcap (on the capture):
  p50 and p90 within 5 % (timestamps on) / 10 % (off) of the reference's, plus the
  histogram's 1 % bucket width -- or, where the reference is sparse around that quantile
  (a queue that is either full or empty makes it bimodal, and the value at p50 then jumps
  between the modes for a shift of a few samples), close to it in rank: the share of the
  reference's samples at or below edgeprobe's p50 (p90) within 5 percentage points of 50 %
  (90 %), or within 3 standard errors of a q-quantile of a sample of edgeprobe's size n,
  100 * sqrt(q (1 - q) / n) points (the reference is the population, edgeprobe's histogram
  a sample of it: an unbiased sampler fails this 0.3 % of the time), n the RTTs the probe
  measured for the ASN.  At least 5 % of the reference's sample count measured.
Per run: retransmissions towards the clients (summed over the ASNs) equal to the server
namespace's TcpRetransSegs delta, for both probes; edgeprobe-bpf's RTTs measured within 2 %
of edgeprobe-pcap's (the same rules on the same traffic).

Usage: bulk_rtt_check.py WORKDIR RUN...   (exit 1 on any failure)
"""
import json
import math
import statistics
import sys

PREFIXES = ((64511, "192.0.2.11"), (64512, "192.0.2.12"), (64513, "192.0.2.13"))
SERVER = ("192.0.2.1", "9000")


def pct(values, q):
    """The value at rank ceil(q/100 * n), as HdrHistogram reports percentiles."""
    v = sorted(values)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)] if v else 0


def load_rows(path):
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split(",")
        if len(f) < 15 or not f[8]:
            continue
        rows.append({"frame": int(f[0]), "t": float(f[1]), "src": f[2], "sport": f[3],
                     "dst": f[4], "dport": f[5], "syn": f[6] in ("1", "True"),
                     "fin": f[7] in ("1", "True"), "seq": int(f[8]), "ack": int(f[9] or 0),
                     "len": int(f[10] or 0), "tsval": f[11], "tsecr": f[12],
                     "ack_rtt": f[13], "acks_frame": f[14]})
    return rows


def references(rows):
    """Per client address: first-echo samples and Karn-filtered ack_rtt samples (us); the
    first echoes also as (client, echo time, us) for the rate-limited view; and per client
    address the flows' active seconds."""
    first_seen, echoed, echo_s, ack_s, echoes = {}, {}, {}, {}, []
    max_end, resends, frame_t, span = {}, {}, {}, {}
    for r in rows:
        frame_t[r["frame"]] = r["t"]
        to_client = (r["src"], r["sport"]) == SERVER
        client = (r["dst"], r["dport"]) if to_client else (r["src"], r["sport"])
        lo, hi = span.get(client, (r["t"], r["t"]))
        span[client] = (min(lo, r["t"]), max(hi, r["t"]))
        if to_client:
            if (r["len"] or r["fin"]) and r["tsval"]:
                first_seen.setdefault(client, {}).setdefault(int(r["tsval"]), r["t"])
            if r["len"] and not r["syn"]:
                end = (r["seq"] + r["len"]) % 2**32
                hi = max_end.get(client)
                if hi is not None and (r["seq"] - hi) % 2**32 > 2**31:
                    resends.setdefault(client, []).append((r["t"], r["seq"]))
                if hi is None or (end - hi) % 2**32 < 2**31:
                    max_end[client] = end
            continue
        if r["tsecr"]:
            v = int(r["tsecr"])
            sent = first_seen.get(client, {}).get(v)
            if sent is not None and v not in echoed.setdefault(client, set()):
                echoed[client].add(v)
                echo_s.setdefault(client[0], []).append((r["t"] - sent) * 1e6)
                echoes.append((client, r["t"], (r["t"] - sent) * 1e6))
        if r["ack_rtt"] and r["acks_frame"]:
            t_seg = frame_t.get(int(r["acks_frame"]), 0)
            ambiguous = any(t_seg <= t < r["t"] and (r["ack"] - s) % 2**32 < 2**31
                            for t, s in resends.get(client, ()))
            if not ambiguous:
                ack_s.setdefault(client[0], []).append(float(r["ack_rtt"]) * 1e6)
    secs = {}
    for (addr, _), (lo, hi) in span.items():
        secs[addr] = secs.get(addr, 0.0) + (hi - lo)
    return echo_s, ack_s, echoes, secs


def rate_limited(echoes, limit_s=0.1):
    """Per client address, the first echoes ePPing's default keeps: at most one per flow
    per limit_s."""
    kept, last = {}, {}
    for client, t, us in echoes:
        if t - last.get(client, -1e9) >= limit_s:
            last[client] = t
            kept.setdefault(client[0], []).append(us)
    return kept


def rank(values, v):
    """The share of values at or below v, in percent."""
    return 100.0 * sum(1 for x in values if x <= v) / len(values)


def quantile_ok(ref, q, got, tol, n):
    """got (the q-th percentile of a probe's n samples) within tol of the reference's, in
    value, or in rank within 5 points or 3 standard errors of a sample quantile."""
    want = pct(ref, q)
    se = 100.0 * math.sqrt(q / 100 * (1 - q / 100) / max(n, 1))
    return abs(got - want) <= (tol + 0.01) * want or abs(rank(ref, got) - q) <= max(5.0, 3 * se)


def summary(path):
    lines = [json.loads(l) for l in open(path)]
    s = lines[-1]
    return s, {a["asn"]: a for a in s["asns"]}


def main():
    out, runs = sys.argv[1], sys.argv[2:]
    fails = []
    for run in runs:
        d = f"{out}/{run}"
        ts = run.endswith("-ts")
        tol = 0.05 if ts else 0.10
        echo_s, ack_s, echoes, flow_s = references(load_rows(f"{d}/fields.csv"))
        epp = rate_limited(echoes)
        ref_all = echo_s if ts else ack_s
        srtt = {}
        for line in open(f"{d}/ss.txt"):
            p = line.split()
            if len(p) == 2:
                srtt.setdefault(p[0].rsplit(":", 1)[0], []).append(float(p[1]) * 1000)
        retrans = int(open(f"{d}/retrans_segs.txt").read())
        probes = {"edgeprobe-bpf": summary(f"{d}/bpf.json"),
                  "edgeprobe-pcap": summary(f"{d}/pcap.json")}
        t_all = {who: s["stats"].get("rtt_data_timed", 0) for who, (s, _) in probes.items()}
        for who, (s, per) in probes.items():
            per_asn = sum(a.get("rtt_data_timed", 0) for a in per.values())
            if per_asn != t_all[who]:
                fails.append(f"{run} {who}: RTTs measured per ASN add up to {per_asn}, "
                             f"the probe counter {t_all[who]}")
        if abs(t_all["edgeprobe-bpf"] - t_all["edgeprobe-pcap"]) > 0.02 * t_all["edgeprobe-pcap"]:
            fails.append(f"{run}: edgeprobe-bpf measured {t_all['edgeprobe-bpf']} RTTs, "
                         f"edgeprobe-pcap {t_all['edgeprobe-pcap']}")
        print(f"== {run}: reference {'first echo of each TSval' if ts else 'tshark ack_rtt (Karn)'}"
              f", tolerance {tol:.0%}; kernel TcpRetransSegs {retrans}")
        for asn, addr in PREFIXES:
            ref = ref_all.get(addr, [])
            k = srtt.get(addr, [])
            if len(ref) < 20:
                fails.append(f"{run} AS{asn}: only {len(ref)} reference samples")
                continue
            r50, r90 = pct(ref, 50), pct(ref, 90)
            print(f"  AS{asn} {addr}: reference n {len(ref)} p50 {r50:.0f} p90 {r90:.0f} us; "
                  f"kernel srtt median {statistics.median(k) if k else 0:.0f} us")
            for who, (_, per) in probes.items():
                a = per.get(asn, {}).get("rtt_data", {"n": 0, "p50_us": 0, "p90_us": 0})
                w, p50, p90 = a["n"], a["p50_us"], a["p90_us"]
                n = per.get(asn, {}).get("rtt_data_timed", 0)
                e50, e90 = (p50 - r50) / r50, (p90 - r90) / r90
                print(f"    {who:15s} n {n:6d} ({n / len(ref):6.1%}) weighing {w:6d} "
                      f"({w / len(ref):4.0%}) p50 {p50:7d} ({e50:+6.1%}, rank "
                      f"{rank(ref, p50) - 50:+5.1f}) p90 {p90:7d} ({e90:+6.1%}, rank "
                      f"{rank(ref, p90) - 90:+5.1f})")
                if not quantile_ok(ref, 50, p50, tol, n):
                    fails.append(f"{run} AS{asn} {who}: p50 {p50} us vs reference {r50:.0f} us")
                if not quantile_ok(ref, 90, p90, tol, n):
                    fails.append(f"{run} AS{asn} {who}: p90 {p90} us vs reference {r90:.0f} us")
                if n < 0.05 * len(ref):
                    fails.append(f"{run} AS{asn} {who}: {n} RTTs measured, under 5% of {len(ref)}")
            n = probes["edgeprobe-pcap"][1].get(asn, {}).get("rtt_data_timed", 0)
            secs = flow_s.get(addr, 0) or 1
            line = (f"    per flow-second: edgeprobe {n / secs:.1f} samples, "
                    f"{'pping' if ts else 'tshark ack_rtt'} {len(ref) / secs:.1f}")
            e = epp.get(addr, [])
            if ts and e:
                line += (f", ePPing (100 ms limit) {len(e) / secs:.1f} (p50 "
                         f"{(pct(e, 50) - r50) / r50:+.1%}, p90 {(pct(e, 90) - r90) / r90:+.1%})")
            print(line)
        try:
            bs = dict(l.split() for l in open(f"{d}/bpf_stats.txt") if len(l.split()) == 2)
            try: # the floor and bound programs live across runs: this run's share
                for l in open(f"{d}/bpf_stats0.txt"):
                    k, v = (l.split() + ["", ""])[:2]
                    if k.startswith(("ep_floor", "ep_bound")) and k in bs:
                        bs[k] = str(int(bs[k]) - int(v))
            except OSError:
                pass
            # The floor programs (one per hook, in front of ours) sum to the floor per skb.
            fc = sum(int(v) for k, v in bs.items() if k.startswith("ep_floor") and k.endswith(".run_cnt"))
            fns = sum(int(v) for k, v in bs.items() if k.startswith("ep_floor") and k.endswith(".run_time_ns"))
            floor = fns / fc if fc else None
            for prog in ("ep_tc_egress", "ep_tc_ingress"):
                cnt, ns = int(bs.get(prog + ".run_cnt", 0)), int(bs.get(prog + ".run_time_ns", 0))
                if cnt:
                    line = f"  {prog}: {cnt} runs, {ns / cnt:.0f} ns per skb (kernel BPF statistics)"
                    if floor is not None:
                        line += (f"; floor program {floor:.0f} ns, edgeprobe's own "
                                 f"{ns / cnt - floor:.0f} ns above it")
                    print(line)
                # The least a tracker does (tests/live/bound.bpf.c), on the same hook.
                hook = prog.replace("ep_tc_", "ep_bound_")
                bc, bns = int(bs.get(hook + ".run_cnt", 0)), int(bs.get(hook + ".run_time_ns", 0))
                if bc and cnt:
                    print(f"  {hook}: {bc} runs, {bns / bc:.0f} ns per skb, "
                          f"{bns / bc / (ns / cnt):.2f} of edgeprobe's (the least a tracker does)")
        except OSError:
            pass
        for who, (s, per) in probes.items():
            retx = sum(per.get(asn, {}).get("retx_out", 0) for asn, _ in PREFIXES)
            st = s["stats"]
            print(f"  {who}: retransmissions {retx} (kernel {retrans}); measured "
                  f"{st.get('rtt_data_timed', 0)}; rtt_pend_full "
                  f"{st.get('rtt_pend_full', 0)} retired {st.get('rtt_pend_retired', 0)} "
                  f"karn {st.get('rtt_karn_discard', 0)} expired {st.get('rtt_pend_expired', 0)} "
                  f"gso_split {st.get('gso_split', 0)} karn_credit {st.get('rtt_karn_credit', 0)}")
            if retx != retrans:
                fails.append(f"{run} {who}: {retx} retransmissions, kernel TcpRetransSegs {retrans}")
            # A resend credits the ACKs before it once, and only without timestamps.
            credit = st.get("rtt_karn_credit", 0)
            if credit > retx or (ts and credit) or (not ts and retx >= 10 and not credit):
                fails.append(f"{run} {who}: rtt_karn_credit {credit} with {retx} "
                             f"retransmissions, timestamps {'on' if ts else 'off'}")
    for f in fails:
        print("FAIL:", f)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
