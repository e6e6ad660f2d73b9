#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""outage.py - a TCP collector that goes away and comes back, a collector restart and a
probe restart, with a live probe (edgeprobe-pcap --realtime: wall-clock windows every
100 ms) sending through a relay that this test owns (the relay is the "network": taking
it down refuses connections and cuts the open one; it also records the sequence number
of every message it forwards, the ground truth of what reached the collector).

Asserts:
- during the outage the probe kept closing windows at full rate (it never blocked),
  queued up to --backlog-kb, then dropped whole windows, counted (windows_dropped),
  and its backlog gauge never exceeded the bound;
- when the relay is back it reconnects (sink_connects), delivers what it kept;
- the collector's lost count (sequence gaps) equals exactly the messages that never
  reached it; the probe's own count accounts for all of them but those cut off in
  flight with the connection (at most a few per cut);
- nothing is double-counted: the collector's per-ASN totals for the probe equal the sum
  of the probe's windows whose messages were forwarded, exactly;
- a collector restart: the probe reconnects to the new one, which accounts the probe
  from its first message on (no loss, no false restart);
- a probe restart (new epoch) is counted once as a restart.

Usage: outage.py COLLECTOR EDGEPROBE_PCAP GEN OUTDIR
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import FAILS, OKS, fail, free_port, ok

collector, pcap_probe, gen, out = sys.argv[1:5]
BACKLOG_KB = 48


class Relay:
    """TCP relay 127.0.0.1:port -> upstream; records the seq of each forwarded message."""

    def __init__(self, upstream):
        self.port = free_port()
        self.upstream = upstream
        self.lock = threading.Lock()
        self.forwarded = []   # (epoch, seq) of every message forwarded whole
        self.socks = []
        self.ls = None
        self.up()

    def up(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(8)
        self.ls = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def down(self):
        """Refuse new connections and cut the open ones."""
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._forward, args=(c, u), daemon=True).start()
            threading.Thread(target=self._drain, args=(u, c), daemon=True).start()

    def _forward(self, a, b):
        """Probe -> collector, frame by frame: a message is forwarded whole or not at all."""
        buf = b""
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                buf += d
                while len(buf) >= 4:
                    (n,) = struct.unpack(">I", buf[:4])
                    if len(buf) < 4 + n:
                        break
                    msg, buf = buf[:4 + n], buf[4 + n:]
                    b.sendall(msg)
                    epoch, seq = struct.unpack(">QQ", msg[4 + 12:4 + 28])
                    with self.lock:
                        self.forwarded.append((epoch, seq))
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _drain(self, a, b):
        try:
            while a.recv(65536):
                pass
        except OSError:
            pass
        try:
            b.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Collector(eptest.Collector):
    """The collector with TCP ingest (on a given port: a restart takes the old one's)."""

    def __init__(self, name, tcp_port=0):
        super().__init__(collector, out, name, [f"tcp://127.0.0.1:{tcp_port}"])
        self.tcp = self.ports[0]


def start_probe(pid, url, js, truth, pcap):
    return subprocess.Popen(
        [pcap_probe, "--read", pcap, "--realtime", "--loop", "0", "--asn-db", truth["asn_file"],
         "--local-net", truth["local_net"], "--probe-id", pid, "--collector", url,
         "--max-payload", "60000", "--backlog-kb", str(BACKLOG_KB), "--json-out", js],
        stderr=open(js + ".log", "w"))


def lines(js):
    out_ = []
    for x in open(js):
        try:
            out_.append(json.loads(x))
        except ValueError:
            pass  # a line being written
    return out_


def main():
    os.makedirs(out, exist_ok=True)
    subprocess.run([gen, out], check=True, capture_output=True)
    truth = json.load(open(os.path.join(out, "dense.truth.json")))
    pcap = os.path.join(out, "dense.pcap")
    c = Collector("c1")
    relay = Relay(c.tcp)
    url = f"tcp://127.0.0.1:{relay.port}"
    js = os.path.join(out, "outage.json")
    p = start_probe("outage", url, js, truth, pcap)

    time.sleep(3)
    before = len(lines(js))
    relay.down()
    t0 = time.time()
    time.sleep(12)
    during = len(lines(js)) - before
    relay.up()
    outage_s = time.time() - t0
    # Back: wait until the backlog has drained.
    drained = False
    for _ in range(100):
        time.sleep(0.2)
        w = lines(js)[-1]
        if w["stats"].get("sink_backlog_bytes", 0) == 0 and w["stats"].get("sink_connects", 0) >= 2:
            drained = True
            break
    time.sleep(1.5)
    p.terminate()
    p.wait(timeout=20)
    wins = lines(js)
    windows = [w for w in wins if w["type"] == "window"]
    last = windows[-1]["stats"]
    # 1. Full rate during the outage.
    if during >= 0.9 * outage_s * 10:
        ok(f"during the {outage_s:.1f} s outage the probe closed {during} windows (full rate: "
           f"{outage_s * 10:.0f})")
    else:
        fail(f"during the {outage_s:.1f} s outage the probe closed only {during} windows")
    # 2. Bounded backlog, whole windows dropped and counted, reconnected, drained.
    peak = max(w["stats"].get("sink_backlog_bytes", 0) for w in windows)
    dropped = last.get("windows_dropped", 0)
    if peak <= BACKLOG_KB * 1024 and dropped > 0 and drained and last.get("sink_connects") == 2:
        ok(f"backlog peaked at {peak} bytes (bound {BACKLOG_KB * 1024}), {dropped} whole windows "
           f"dropped and counted, reconnected (sink_connects 2) and drained")
    else:
        fail(f"backlog peak {peak} (bound {BACKLOG_KB * 1024}), windows_dropped {dropped}, "
             f"drained {drained}, sink_connects {last.get('sink_connects')}")
    # 3. The collector's loss count against what the relay forwarded.
    time.sleep(1)
    pr = c.probe("outage")
    epoch = windows[0]["epoch"]
    fwd = {s for e, s in relay.forwarded if e == epoch}
    max_seq = max(fwd)
    missing = set(range(min(fwd), max_seq + 1)) - fwd
    in_flight = len(missing) - dropped
    if pr and pr["lost"] == len(missing) and pr["duplicates"] == 0 and 0 <= in_flight <= 4:
        ok(f"collector: lost {pr['lost']} = the messages that never reached it exactly "
           f"({dropped} dropped by the probe's bound, {in_flight} cut off in flight with the "
           f"connection), no duplicates, {pr['msgs']} accepted")
    else:
        fail(f"collector probe record {pr}; never forwarded {len(missing)}, probe dropped {dropped}")
    # 4. Nothing double-counted: totals equal the forwarded windows' sum.
    want = {}
    for w in windows:
        if w["seq"] in fwd:
            for a in w["asns"]:
                x = want.setdefault(a["asn"], {"flows_new": 0, "segs_out": 0, "segs_in": 0})
                for k in x:
                    x[k] += a[k]
    got = {a["asn"]: a for a in c.get("/api/v1/asns?range=10m&probe=outage&limit=1000")["asns"]}
    bad = [f"AS{asn} {k} {got.get(asn, {}).get(k)} != {v}" for asn, x in want.items()
           for k, v in x.items() if got.get(asn, {}).get(k) != v]
    if not bad and want:
        ok(f"collector totals for {len(want)} ASNs equal the sum of the {len(fwd)} forwarded "
           f"windows exactly (nothing double-counted, nothing else missing)")
    else:
        fail(f"totals differ: {bad[:5]}")

    # 5. Collector restart: a new collector on the same port; the probe reconnects.
    js2 = os.path.join(out, "restart.json")
    p = start_probe("restart", url, js2, truth, pcap)
    time.sleep(2)
    c.stop()
    c2 = Collector("c2", tcp_port=c.tcp)
    time.sleep(3)
    pr2 = c2.probe("restart")
    w2 = lines(js2)[-1]["stats"]
    if pr2 and pr2["msgs"] >= 15 and pr2["lost"] <= 4 and pr2["restarts"] == 0 \
            and w2.get("sink_connects", 0) >= 2:
        ok(f"collector restart: the probe reconnected (sink_connects {w2['sink_connects']}); the "
           f"new collector took {pr2['msgs']} messages from where it joined, lost "
           f"{pr2['lost']} (cut off with the old one's connection), no false restart")
    else:
        fail(f"collector restart: {pr2}, probe stats sink_connects {w2.get('sink_connects')}")
    # 6. Probe restart: a new process with the same id is a new epoch, counted once.
    p.terminate()
    p.wait(timeout=20)
    time.sleep(0.5)
    p = start_probe("restart", url, js2 + ".2", truth, pcap)
    time.sleep(2)
    p.terminate()
    p.wait(timeout=20)
    time.sleep(0.5)
    pr3 = c2.probe("restart")
    if pr3 and pr3["restarts"] == 1 and pr3["duplicates"] == 0 and pr3["stale_epoch"] == 0:
        ok(f"probe restart: counted once (restarts 1), {pr3['msgs']} messages in all")
    else:
        fail(f"probe restart: {pr3}")
    relay.down()
    c2.stop()
    print(f"{len(OKS)} passed, {len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


main()
