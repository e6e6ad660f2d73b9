#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scenario captures with ground truth, for the probes' end-to-end tests.

Writes OUT/<name>.pcap and OUT/<name>.truth.json.  Every flow is built so that
the expected samples are known by construction: each data segment is
acknowledged on its own after the flow's RTT (plus jitter), retransmissions
are injected at chosen places, and malformed frames are sprinkled in with a
known count per class.  Times are whole microseconds, so RTTs are exact.

Usage: gen_scenarios.py OUTDIR [--seed N]
"""
import json
from decimal import Decimal
import os
import random
import sys

from scapy.all import Ether as _Ether, IP, IPv6, TCP, Raw, Dot1Q, PcapWriter  # noqa: E402
from scapy.layers.l2 import Dot1AD
from scapy.layers.inet6 import IPv6ExtHdrHopByHop
from scapy.layers.ppp import PPPoE, PPP
from scapy.contrib.mpls import MPLS



def Ether(*args, **kw):
    """Explicit MACs: otherwise scapy ARP-resolves every destination."""
    if args:
        return _Ether(*args, **kw)
    kw.setdefault("src", "02:00:00:00:00:01")
    kw.setdefault("dst", "02:00:00:00:00:02")
    return _Ether(**kw)


HERE = os.path.dirname(os.path.abspath(__file__))
ASN_FILE = os.path.join(HERE, "asn-test.csv")
# Countries of the same ranges (ip-location-db's asn-country layout): AS64501 is in two
# countries (DE, FR), AS64505 in none; with the M49 regions, four regions and none.
COUNTRY_FILE = os.path.join(HERE, "country-test.csv")
LOCAL_NETS = "192.0.2.0/25,2001:db8:ff::/48"

# name, asn, remote address template, family, encapsulation, rtt ms, timestamps,
# remote side is the client?, flows, data segments per flow, retransmissions per flow
ISPS = [
    ("one", 64501, "198.51.100.{}", 4, "eth", 10, True, True, 12, 8, 0),
    ("two", 64502, "198.51.100.{}", 4, "vlan", 40, False, True, 10, 8, 2),
    ("three", 64503, "203.0.113.{}", 4, "qinq", 80, True, True, 8, 6, 1),
    ("four", 64504, "2001:db8:4::{:x}", 6, "hbh", 25, True, True, 10, 6, 0),
    ("five", 64505, "2001:db8:5::{:x}", 6, "mpls", 60, True, False, 8, 5, 0),
    ("six", 64506, "192.0.2.{}", 4, "pppoe", 120, False, True, 6, 5, 1),
]
HOST_BASE = {"one": 20, "two": 150, "three": 20, "four": 0x20, "five": 0x20, "six": 130}
_UNUSED = [
]
LOCAL4 = "192.0.2.10"
LOCAL6 = "2001:db8:ff::10"


class Capture:
    def __init__(self, path):
        self.w = PcapWriter(path, nano=True, sync=False, linktype=1)
        self.frames = []

    def add(self, t_us, frame):
        self.frames.append((t_us, frame))

    def close(self):
        self.frames.sort(key=lambda f: f[0])
        for t_us, frame in self.frames:
            frame.time = Decimal(t_us) / Decimal(1000000)  # exact: a double loses the ns
            self.w.write(frame)
        self.w.close()


def l2(encap, ip_pkt, family):
    if encap == "vlan":
        return Ether() / Dot1Q(vlan=100) / ip_pkt
    if encap == "qinq":
        return Ether() / Dot1AD(vlan=300) / Dot1Q(vlan=7) / ip_pkt
    if encap == "mpls":
        inner = MPLS(label=100, s=0, ttl=64) / MPLS(label=200, s=1, ttl=64)
        return Ether(type=0x8847) / inner / ip_pkt
    if encap == "pppoe":
        return Ether() / PPPoE(sessionid=0x42) / PPP(proto=0x0021 if family == 4 else 0x0057) / ip_pkt
    return Ether() / ip_pkt


class Flow:
    """One TCP connection between a local and a remote endpoint."""

    def __init__(self, cap, isp, remote, rport, lport, ts):
        self.cap, self.isp, self.ts = cap, isp, ts
        self.family, self.encap = isp["family"], isp["encap"]
        self.remote, self.local = remote, (LOCAL4 if self.family == 4 else LOCAL6)
        self.rport, self.lport = rport, lport
        self.tsval = {"l": random.randrange(1 << 32), "r": random.randrange(1 << 32)}
        self.segs = {"out": 0, "in": 0}
        # In-flow weights (ep_track.h): a sample stands for the remote's new echoes (TSecr,
        # or ACK without timestamps, whose 8-bit hash changed) since the sample before it.
        self.echoes = False  # counting: the handshake is over
        self.tag, self.owed, self.timed = 0, 0, 0
        self.last, self.gated = None, False  # without timestamps: the last sample; a resend

    def inflow_start(self):
        """The first in-flow candidate: the weight starts over."""
        self.owed, self.last, self.gated = 0, None, False

    def sample(self, truth, r):
        """An in-flow sample r (us), answered by the packet just sent."""
        truth["rtt_data"] += [r] * max(self.owed, 1)
        self.owed, self.last, self.gated = 0, r, False
        self.timed += 1

    def resend(self, truth):
        """Without timestamps, a retransmission (Karn): the ACKs since the last sample weigh
        on it (not an RTT measured), and the ACKs until the next sample do not count."""
        if self.owed and self.last is not None:
            truth["rtt_data"] += [self.last] * self.owed
        self.owed, self.gated = 0, True

    def send(self, t_us, frm, flags, seq, ack, payload=0, tsecr=0):
        """frm is 'l' (local side sends, towards the remote: out) or 'r'."""
        src, dst = (self.local, self.remote) if frm == "l" else (self.remote, self.local)
        sp, dp = (self.lport, self.rport) if frm == "l" else (self.rport, self.lport)
        opts = []
        tsv = None
        if "S" in flags:
            opts.append(("MSS", 1460))
        if self.ts:
            self.tsval[frm] = (self.tsval[frm] + 1) & 0xffffffff
            tsv = self.tsval[frm]
            opts.append(("Timestamp", (tsv, tsecr)))
        ip_cls = IP if self.family == 4 else IPv6
        ip = ip_cls(src=src, dst=dst)
        if self.encap == "hbh":
            ip = ip / IPv6ExtHdrHopByHop()
        pkt = ip / TCP(sport=sp, dport=dp, flags=flags, seq=seq & 0xffffffff, ack=ack & 0xffffffff,
                       window=65535, options=opts)
        if payload:
            pkt = pkt / Raw(b"x" * payload)
        self.cap.add(t_us, l2(self.encap, pkt, self.family))
        self.segs["out" if frm == "l" else "in"] += 1
        if frm == "r" and self.echoes and "S" not in flags and not self.gated:
            tag = ((((tsecr if self.ts else ack) & 0xffffffff) * 0x9e3779b1) & 0xffffffff) >> 24
            if tag != self.tag:
                self.tag, self.owed = tag, min(self.owed + 1, 255)
        return tsv


def rtt_us(base_ms):
    return int(base_ms * 1000 * random.uniform(0.9, 1.1))


def remote_client_flow(cap, isp, remote, rport, t, truth):
    """The remote side connects to our server and downloads segs_n segments."""
    f = Flow(cap, isp, remote, rport, 443, isp["ts"])
    c_isn, s_isn = random.randrange(1 << 32), random.randrange(1 << 32)
    tv = f.send(t, "r", "S", c_isn, 0)
    t += 200
    tv_sa = f.send(t, "l", "SA", s_isn, c_isn + 1, tsecr=tv or 0)
    r = rtt_us(isp["rtt"])
    truth["rtt_hs"].append(r)
    t += r
    f.echoes = True  # this ACK closes the handshake sample, then counts as an echo
    tv_c = f.send(t, "r", "A", c_isn + 1, s_isn + 1, tsecr=tv_sa or 0)
    t += 100
    tv_c = f.send(t, "r", "PA", c_isn + 1, s_isn + 1, payload=120, tsecr=tv_sa or 0)
    c_nxt, s_nxt = c_isn + 121, s_isn + 1
    retx_at = set(random.sample(range(isp["segs"]), isp["retx"]))
    data_segs = retx = 0
    t += 300
    f.inflow_start()
    for i in range(isp["segs"]):
        tv_s = f.send(t, "l", "A", s_nxt, c_nxt, payload=1000, tsecr=tv_c or 0)
        data_segs += 1
        timed = True
        if i in retx_at:
            # The original is lost beyond the probe; resent 200 ms later.
            t += 200000
            tv_s = f.send(t, "l", "A", s_nxt, c_nxt, payload=1000, tsecr=tv_c or 0)
            data_segs += 1
            retx += 1
            if not isp["ts"]:
                f.resend(truth)
            timed = isp["ts"]  # the resend's own TSval is echoed; its ACK is ambiguous (Karn)
        r = rtt_us(isp["rtt"])
        s_nxt += 1000
        t += r
        tv_c = f.send(t, "r", "A", c_nxt, s_nxt, tsecr=tv_s or 0)
        if timed:
            f.sample(truth, r)
        t += 50
    # Server closes; the client's FIN/ACK echoes the FIN's TSval (a sample in TS mode).
    tv_s = f.send(t, "l", "FA", s_nxt, c_nxt, tsecr=tv_c or 0)
    r = rtt_us(isp["rtt"])
    t += r
    f.send(t, "r", "FA", c_nxt, s_nxt + 1, tsecr=tv_s or 0)
    if isp["ts"]:
        f.sample(truth, r)
    t += 100
    f.send(t, "l", "A", s_nxt + 1, c_nxt + 1)
    truth["retx_out"] += retx
    truth["retx_ppm"].append(retx * 1000000 // data_segs)
    return f, t


def remote_server_flow(cap, isp, remote, lport, t, truth):
    """Our client connects to a remote server: request/response exchanges."""
    f = Flow(cap, isp, remote, 443, lport, isp["ts"])
    c_isn, s_isn = random.randrange(1 << 32), random.randrange(1 << 32)
    tv = f.send(t, "l", "S", c_isn, 0)
    r = rtt_us(isp["rtt"])
    truth["rtt_hs"].append(r)
    t += r
    tv_r = f.send(t, "r", "SA", s_isn, c_isn + 1, tsecr=tv or 0)
    f.echoes = True
    t += 100
    f.send(t, "l", "A", c_isn + 1, s_isn + 1, tsecr=tv_r or 0)
    c_nxt, s_nxt = c_isn + 1, s_isn + 1
    data_segs = 0
    f.inflow_start()
    for _ in range(isp["segs"]):
        t += 100
        tv = f.send(t, "l", "PA", c_nxt, s_nxt, payload=200, tsecr=tv_r or 0)
        data_segs += 1
        c_nxt += 200
        r = rtt_us(isp["rtt"])
        t += r
        tv_r = f.send(t, "r", "PA", s_nxt, c_nxt, payload=1400, tsecr=tv or 0)
        f.sample(truth, r)
        s_nxt += 1400
        t += 50
        f.send(t, "l", "A", c_nxt, s_nxt, tsecr=tv_r or 0)
    t += 100
    tv = f.send(t, "l", "FA", c_nxt, s_nxt, tsecr=tv_r or 0)
    r = rtt_us(isp["rtt"])
    t += r
    f.send(t, "r", "FA", s_nxt, c_nxt + 1, tsecr=tv or 0)
    if isp["ts"]:
        f.sample(truth, r)
    t += 100
    f.send(t, "l", "A", c_nxt + 1, s_nxt + 1)
    truth["retx_ppm"].append(0)
    return f, t


def malformed(cap, t, stats):
    """Frames of each malformation class, with known counts."""
    good = Ether() / IP(src="198.51.100.250", dst=LOCAL4) / TCP(sport=1, dport=2, flags="A")
    raw = bytes(good)
    # truncated inside the TCP header
    for i in range(3):
        cap.add(t + i, Ether(raw[:14 + 20 + 10]))
    stats["parse_trunc_tcp"] += 3
    # IP header length below 20
    b = bytearray(raw)
    b[14] = 0x44
    cap.add(t + 10, Ether(bytes(b)))
    stats["parse_bad_ip_hlen"] += 1
    # TCP data offset below 5
    b = bytearray(raw)
    b[14 + 20 + 12] = 0x30
    cap.add(t + 11, Ether(bytes(b)))
    stats["parse_bad_tcp_doff"] += 1
    # bad option length
    bad = Ether() / IP(src="198.51.100.250", dst=LOCAL4) / TCP(sport=1, dport=2, flags="A",
                                                              options=[("NOP", None)] * 4)
    b = bytearray(bytes(bad))
    b[14 + 20 + 12] = 0x60
    b[14 + 20 + 20:14 + 20 + 24] = bytes([8, 40, 0, 0])
    b[16:18] = (44).to_bytes(2, "big")
    cap.add(t + 12, Ether(bytes(b)))
    stats["parse_bad_tcp_optlen"] += 1
    # three VLAN tags
    cap.add(t + 13, Ether() / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / good[IP])
    stats["parse_too_many_vlans"] += 1
    # an IPv4 fragment, UDP, ARP
    cap.add(t + 14, Ether() / IP(src="198.51.100.250", dst=LOCAL4, flags="MF") / TCP())
    stats["parse_fragment"] += 1
    cap.add(t + 15, Ether(raw[:12] + b"\x08\x06" + raw[14:]))
    stats["parse_not_ip"] += 1
    b = bytearray(raw)
    b[14 + 9] = 17
    cap.add(t + 16, Ether(bytes(b)))
    stats["parse_not_tcp"] += 1


def scenario(out, name, seed, rate_gap_us=3000):
    random.seed(seed)
    cap = Capture(os.path.join(out, name + ".pcap"))
    truth = {"local_net": LOCAL_NETS, "asn_file": ASN_FILE, "country_file": COUNTRY_FILE,
             "asns": {}, "stats": {}, "flows": []}
    stats = {k: 0 for k in ("parse_trunc_tcp", "parse_bad_ip_hlen", "parse_bad_tcp_doff",
                            "parse_bad_tcp_optlen", "parse_too_many_vlans", "parse_fragment",
                            "parse_not_ip", "parse_not_tcp")}
    t0 = 1700000000 * 1000000  # an aligned start, in microseconds
    segs_total = 0
    for idx, (iname, asn, tmpl, fam, encap, rtt, ts, client, flows, segs, retx) in enumerate(ISPS):
        isp = dict(family=fam, encap=encap, rtt=rtt, ts=ts, segs=segs, retx=retx)
        tr = {"flows_new": flows, "flows_closed": flows, "segs_out": 0, "segs_in": 0,
              "retx_out": 0, "retx_in": 0, "rtt_data_timed": 0, "rtt_hs": [], "rtt_data": [],
              "retx_ppm": []}
        for n in range(flows):
            remote = tmpl.format(HOST_BASE[iname] + n)
            t = t0 + idx * 7000 + n * rate_gap_us
            # Each flow's own truth too (tests that split an ASN by country).
            ft = {"remote": remote, "asn": asn, "flows_new": 1, "flows_closed": 1,
                  "segs_out": 0, "segs_in": 0, "retx_out": 0, "retx_in": 0, "rtt_data_timed": 0,
                  "rtt_hs": [], "rtt_data": [], "retx_ppm": []}
            if client:
                f, _ = remote_client_flow(cap, isp, remote, 40000 + n, t, ft)
            else:
                f, _ = remote_server_flow(cap, isp, remote, 50000 + n, t, ft)
            ft["rtt_data_timed"] = f.timed
            ft["segs_out"] = f.segs["out"]
            ft["segs_in"] = f.segs["in"]
            truth["flows"].append(ft)
            for k in ("segs_out", "segs_in", "retx_out", "rtt_data_timed"):
                tr[k] += ft[k]
            for k in ("rtt_hs", "rtt_data", "retx_ppm"):
                tr[k] += ft[k]
        segs_total += tr["segs_out"] + tr["segs_in"]
        truth["asns"][str(asn)] = tr
    malformed(cap, t0 + 5000, stats)
    cap.close()
    stats["parse_tcp"] = segs_total
    stats["packets"] = segs_total + sum(v for k, v in stats.items() if k != "parse_tcp")
    stats["rtt_data_timed"] = sum(tr["rtt_data_timed"] for tr in truth["asns"].values())
    truth["stats"] = stats
    with open(os.path.join(out, name + ".truth.json"), "w") as fp:
        json.dump(truth, fp, indent=1)


def main():
    out = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    os.makedirs(out, exist_ok=True)
    scenario(out, "mixed", seed)
    # The same traffic, denser in time (flows overlap): windows must not change totals.
    scenario(out, "dense", seed + 1, rate_gap_us=150)


if __name__ == "__main__":
    main()
