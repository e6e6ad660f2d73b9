#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""history_e2e.py - the collector's --history (SQLite) against a collector that keeps
everything in memory, fed the same messages.

Collector H keeps little in memory (tiers 100ms:2s,1s:10s,10s:30s) and its history in a
SQLite file; collector M keeps the same steps in memory (1 s for 10 minutes, 10 s for an
hour), no history: its sums are exact to the second, as H's are from its 1 s rows. Both get
the same 150 s of windows from two probes (hostile_send past). Asserts:
- every answer that reaches past H's memory (asns, one ASN, series at 10 s, per probe)
  equals M's, exactly: older buckets come from the file;
- after kill -9 of H and a restart, the same answers again (the roll-ups reloaded);
- with --retain 100ms=1h the 100 ms tier is persisted too: a 100 ms series over 2 minutes
  equals that of collector F (10 minutes at 100 ms in memory), before and after the restart;
- retention (--retain 100ms=1h,1s=1d,10s=1h) deletes, at the restart, the buckets of a batch sent
  two days in the past, and counts the rows;
- a file that is not an SQLite database, an SQLite file of another application, and a
  history of another histogram configuration are refused at start with a message;
- a full file system (a 1 MiB tmpfs the test mounts): write errors counted, nothing
  crashes, the queue bounded by --history-queue (1 MiB; drops counted), and once there is room again
  the writer catches up without a restart; without mount rights this part is skipped.
- a second collector on the same UDP port fails with a clear message (no SO_REUSEADDR).
- a coarser tier added to a history kept without it (the 1 h tier of an upgrade; here 1 min
  over 10 s): answers at its step before its first row are read from the finer rows, and
  the first window it rolls up after the restart is whole (equal to memory's).
- a sum memory answers from its 1 min tier, whose start (or end) cuts a minute its 10 s ring no
  longer holds: that part read from the history's 10 s rows (equal to memory's), again after a
  restart.

With clickhouse (a clickhouse-server the test starts on loopback ports, its own data
directory), the same answers, restart and retention (by dropping day partitions), then the
server stopped mid-run and started again: errors counted, the held batches written once it
is back, served after a restart; a database of another histogram configuration, a server
that is not there and a bad database name are refused at start.

usage: history_e2e.py COLLECTOR HOSTILE_SEND WORKDIR [sqlite | clickhouse CLICKHOUSE_SERVER]
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from eptest import FAILS, OKS, ClickHouse, Collector, fail, free_port, ok  # noqa: E402

collector, send, out = sys.argv[1:4]
SMALL = ["--tiers", "100ms:2s,1s:10s,10s:30s", "--probe-tiers", "1s:10s,10s:30s"]
LARGE = ["--tiers", "100ms:2s,1s:10m,10s:1h", "--probe-tiers", "1s:10m,10s:1h"]
FINE = ["--tiers", "100ms:10m,1s:10s,10s:1h", "--probe-tiers", "1s:10s,10s:1h"]
FINE_Q = "/api/v1/asns/64523/series?range=2m&step=100ms&metric=rtt_data&q=0.5&end={e}"
NOW = time.time_ns()
END0 = NOW - NOW % 1_000_000_000 - 200 * 1_000_000_000  # 200 s ago, on a second
N = 1500  # 100 ms windows: 150 s


def feed(c, probe, epoch):
    r = subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", probe, str(epoch), str(N),
                        str(END0)], capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise SystemExit(f"FAIL: hostile_send: {r.stderr}")


def settle(c, want):
    """Until the collector merged want messages and closed every window (idle close)."""
    for _ in range(200):
        m = sum(p["msgs"] for p in c.get("/api/v1/probes")["probes"])
        if m >= want:
            break
        time.sleep(0.05)
    time.sleep(1.5)  # idle: 4 x grace, then everything is closed and handed to the writer


QUERIES = ["/api/v1/asns?range=5m&end={e}", "/api/v1/asns/64521/histogram?range=5m&end={e}",
           "/api/v1/asns/64523/series?range=5m&step=10s&end={e}",
           "/api/v1/asns?range=5m&probe=pa&end={e}", "/api/v1/asns?range=1m&end={e}"]


def answers(c, end):
    res = []
    for q in QUERIES:
        j = c.get(q.format(e=end))
        res.append(j)
    return res


def strip(j):
    """What must match between the two collectors: the data, not the resolution used."""
    j = dict(j)
    for k in ("resolution_ns", "step_ns"):
        j.pop(k, None)
    return j


def compare(name, h, m, end):
    a, b = answers(h, end), answers(m, end)
    bad = [q for q, x, y in zip(QUERIES, a, b) if strip(x) != strip(y)]
    got = a[0].get("asns", [])
    n = sum(x["rtt_data"]["n"] for x in got)
    if bad or not got or n == 0:
        fail(f"{name}: answers differ from the in-memory collector's: {bad} "
             f"(H {json.dumps(a[0])[:300]} / M {json.dumps(b[0])[:300]})")
    else:
        ok(f"{name}: {len(QUERIES)} answers over 5 min equal the in-memory collector's "
           f"({len(got)} ASNs, {n} in-flow samples)")


def compare_fine(name, h, f, end):
    """A 100 ms series over 2 minutes: H holds 2 s at 100 ms in memory, the rest from its
    history (--retain 100ms=1h); F holds 10 minutes at 100 ms in memory."""
    a, b = h.get(FINE_Q.format(e=end)), f.get(FINE_Q.format(e=end))
    n = sum(p[2] for p in a.get("points", []))
    if strip(a) != strip(b) or n == 0 or a.get("resolution_ns") != 100_000_000:
        fail(f"{name}: 100 ms series differs: {json.dumps(a)[:300]} / {json.dumps(b)[:300]}")
    else:
        ok(f"{name}: a 100 ms series over 2 min ({len(a['points'])} points, {n} samples) "
           f"equals memory's, from the history's 100 ms rows")


def start_fails(args, want):
    r = subprocess.run([collector, "--listen", "udp://127.0.0.1:0", "--http", "off"] + args +
                       ["--run-seconds", "2"], capture_output=True, text=True, timeout=20)
    if r.returncode == 2 and want in r.stderr:
        ok(f"refused at start: {r.stderr.strip()[:160]}")
    else:
        fail(f"{args}: exit {r.returncode}, stderr {r.stderr[-300:]!r} (want '{want}')")


def old_rows(backend, target, ch):
    """Buckets stored that start more than a day before now."""
    cut = time.time_ns() - 86400 * 10**9
    if backend == "sqlite":
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        n = con.execute("SELECT count(*) FROM bucket WHERE start_ns < ?", (cut,)).fetchone()[0] + \
            con.execute("SELECT count(*) FROM asn WHERE start_ns < ?", (cut,)).fetchone()[0]
        m = con.execute("SELECT count(*) FROM bucket WHERE start_ns >= ?", (cut,)).fetchone()[0]
        con.close()
        return n, m
    n = int(ch.query(f"SELECT count() FROM edgeprobe_test.bucket WHERE start < {cut}")) + \
        int(ch.query(f"SELECT count() FROM edgeprobe_test.pair WHERE start < {cut}"))
    m = int(ch.query(f"SELECT count() FROM edgeprobe_test.bucket WHERE start >= {cut}"))
    return n, m


def main():
    backend = sys.argv[4] if len(sys.argv) > 4 else "sqlite"
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    ch = None
    if backend == "clickhouse" and (len(sys.argv) < 6 or not os.path.exists(sys.argv[5])):
        print("skip: clickhouse-server is not installed (scripts/setup installs it)")
        return 77
    if backend == "clickhouse":
        ch = ClickHouse(sys.argv[5], os.path.join(out, "ch"))
        target = f"clickhouse://127.0.0.1:{ch.http}/edgeprobe_test"
    else:
        target = os.path.join(out, "h.db")
    try:
        return run(backend, target, ch)
    finally:
        if ch:
            ch.stop()


def run(backend, target, ch):
    hargs = SMALL + ["--history", target, "--retain", "100ms=1h,1s=1d,10s=1h"]
    h = Collector(collector, out, "h", ["udp://127.0.0.1:0"], hargs)
    m = Collector(collector, out, "m", ["udp://127.0.0.1:0"], LARGE)
    f = Collector(collector, out, "f", ["udp://127.0.0.1:0"], FINE)
    feed(f, "pa,pb", 2)
    old_end = END0 - 2 * 86400 * 10**9  # two days before: for retention
    for c in (h, m):
        subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", "pa,pb", "1", "30",
                        str(old_end)], capture_output=True, timeout=60, check=True)
        feed(c, "pa,pb", 2)  # two probes, window by window, as live probes send
    for c in (h, m):
        settle(c, 2 * N + 60)
    end = END0 + (N + 50) * 100_000_000
    compare(f"{backend}: history + memory", h, m, end)
    settle(f, 2 * N)
    compare_fine(f"{backend}: history + memory", h, f, end)

    hm = h.history()
    written = hm.get("edgeprobe_collector_history_buckets_written_total", 0)
    if written < 2 * (150 + 15):
        fail(f"{backend}: only {written} buckets written")
    else:
        ok(f"{backend}: {written:.0f} buckets written, "
           f"{hm.get('edgeprobe_collector_history_rows_written_total', 0):.0f} rows")
    before_old, _ = old_rows(backend, target, ch)
    parts = ch.query("SELECT table, partition, sum(rows) FROM system.parts WHERE database = "
                     "'edgeprobe_test' AND active GROUP BY table, partition FORMAT TSV") if ch else ""

    # kill -9, restart on the same history: the same answers (memory refilled, older from
    # the history), and retention applied at start (the buckets of two days ago).
    h.p.send_signal(signal.SIGKILL)
    h.p.wait()
    h = Collector(collector, out, "h2", ["udp://127.0.0.1:0"], hargs)
    log = open(os.path.join(out, "h2.log")).read()
    compare(f"{backend}: after kill -9 and restart", h, m, end)
    compare_fine(f"{backend}: after kill -9 and restart", h, f, end)
    f.stop()
    if "reloaded" not in log:
        fail(f"{backend}: restart: no reload in the log: {log[-300:]}")
    pa = h.probe("pa")
    if not pa or pa["age_s"] is not None:
        fail(f"{backend}: restart: probe pa not restored as a silent probe: {pa}")
    else:
        ok(f"{backend}: restart: probe pa restored from the history, never heard since (age_s null)")
    after_old, kept = old_rows(backend, target, ch)
    expired = h.history().get("edgeprobe_collector_history_rows_expired_total", 0)
    if before_old > 0 and after_old == 0 and expired > 0 and kept > 0:
        ok(f"{backend}: retention (--retain 100ms=1h,1s=1d,10s=1h): {before_old} rows of two days ago "
           f"deleted at start ({expired:.0f} ASN rows), {kept} recent kept")
    else:
        fail(f"{backend}: retention: old buckets {before_old} -> {after_old}, expired {expired}, "
             f"kept {kept}; parts before the restart {parts!r}; {h.history()}")

    # New data after the restart merges with what was reloaded.
    for c in (h, m):
        subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", "pc", "3", "100",
                        str(END0 + N * 100_000_000)], capture_output=True, timeout=60, check=True)
    settle(h, 100)
    settle(m, 2 * N + 160)
    end += 100 * 100_000_000
    compare(f"{backend}: after new data on the restarted collector", h, m, end)

    if ch:
        # The database goes away mid-run and comes back: errors counted, the batches kept
        # (within --history-queue) and written once it is back, without a restart.
        ch.stop()
        for c in (h, m):
            subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", "pd", "4", "100",
                            str(END0 + (N + 100) * 100_000_000)], capture_output=True, timeout=60,
                           check=True)
        settle(h, 200)
        settle(m, 2 * N + 260)
        time.sleep(2)
        hm = h.history()
        errs = hm.get("edgeprobe_collector_history_write_errors_total", 0)
        queued = hm.get("edgeprobe_collector_history_queue_bytes", 0)
        ch.start()
        deadline = time.time() + 20
        while time.time() < deadline and h.history().get(
                "edgeprobe_collector_history_queue_bytes", 1) > 0:
            time.sleep(0.3)
        left = h.history().get("edgeprobe_collector_history_queue_bytes", 1)
        if errs > 0 and queued > 0 and left == 0:
            ok(f"clickhouse: down mid-run: {errs:.0f} write errors, {queued:.0f} bytes held, "
               "all written once it was back, without a restart")
        else:
            fail(f"clickhouse: down mid-run: errors {errs}, queued {queued}, left {left}")
        end += 100 * 100_000_000
        # What was held is in the database: a restarted collector serves it.
        h.stop()
        h = Collector(collector, out, "h3", ["udp://127.0.0.1:0"], hargs)
        compare("clickhouse: after the outage and a restart", h, m, end)
        version3_rows(ch, m, end, [x.replace("/edgeprobe_test", "/edgeprobe_v3") for x in hargs])
        # Rows that may be stored twice (late data rewrote a bucket; a write retried after the
        # outage) are marked, and only ranges holding one are read with FINAL: the answers
        # above cover both kinds.
        d = ch.query("SELECT dup, count() FROM edgeprobe_test.bucket GROUP BY dup ORDER BY dup "
                     "FORMAT TSV").split()
        if len(d) == 4 and int(d[1]) > 0 and int(d[3]) > 0:
            ok(f"clickhouse: {d[3]} buckets marked as possibly stored twice (read with FINAL), "
               f"{d[1]} not (read without)")
        else:
            fail(f"clickhouse: dup marks {d}")
        h.stop()
        slow_database(ch, m, end)
        h = None
    if h:
        h.stop()
    m.stop()
    upgrade(backend, ch)
    edges(backend, ch)

    if backend == "sqlite":
        sqlite_faults(target)
    else:
        ch.query("CREATE DATABASE IF NOT EXISTS edgeprobe_other")
        ch.query("CREATE TABLE edgeprobe_other.meta (k String, v String) ENGINE = TinyLog")
        ch.query("INSERT INTO edgeprobe_other.meta VALUES ('format', 'schema 1, hist 1 60000000 3')")
        start_fails(["--history", f"clickhouse://127.0.0.1:{ch.http}/edgeprobe_other"],
                    "this collector uses")
        start_fails(["--history", f"clickhouse://127.0.0.1:{free_port()}/x"], "--history")
        start_fails(["--history", f"clickhouse://127.0.0.1:{ch.http}/bad;name"], "expected")

    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


class SlowProxy:
    """A TCP proxy in front of the database that holds every answer back for delay s."""

    def __init__(self, port, delay):
        import socket
        import threading
        self.port, self.delay = port, delay
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.listen = self.ls.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import socket
        import threading
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.port))
            state = {"asked": False}  # a request went up: hold its answer back
            threading.Thread(target=self.pipe, args=(c, u, state, False), daemon=True).start()
            threading.Thread(target=self.pipe, args=(u, c, state, True), daemon=True).start()

    def pipe(self, a, b, state, answers):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if answers and state["asked"]:
                    state["asked"] = False
                    time.sleep(self.delay)
                elif not answers:
                    state["asked"] = True
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(2)
            except OSError:
                pass


def slow_database(ch, m, end):
    """A query that reaches the history through a database answering 3 s late: it waits,
    ingest does not (no message lost or held back by a full backlog meanwhile)."""
    proxy = SlowProxy(ch.http, 0.0)  # quick while the collector starts (and reloads)
    h = Collector(collector, out, "slow", ["udp://127.0.0.1:0"],
                  SMALL + ["--history", f"clickhouse://127.0.0.1:{proxy.listen}/edgeprobe_test"])
    proxy.delay = 3.0
    live = subprocess.Popen([send, f"127.0.0.1:{h.ports[0]}", "honest", "live", "8"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    before = (h.probe("live") or {}).get("msgs", 0)
    import urllib.request
    t0 = time.monotonic()
    with urllib.request.urlopen(h.url(QUERIES[0].format(e=end)), timeout=60) as r:
        a = json.loads(r.read())
    took = time.monotonic() - t0
    during = (h.probe("live") or {}).get("msgs", 0) - before
    b = m.get(QUERIES[0].format(e=end))
    live.wait(timeout=30)
    time.sleep(1)
    p = h.probe("live") or {}
    waited = h.get("/api/v1/probes")
    with urllib.request.urlopen(h.url("/metrics"), timeout=10) as r:
        text = r.read().decode()
    iw = [x for x in text.splitlines() if x.startswith("edgeprobe_collector_ingest_waited_total ")]
    iwait = float(iw[0].split()[1]) if iw else -1
    if strip(a) == strip(b) and took >= 2.5 and during >= 10 and p.get("lost", 1) == 0 and \
            iwait == 0:
        ok(f"clickhouse: answers 3 s late: the query took {took:.1f} s and is still exact; "
           f"ingest merged {during} messages meanwhile, lost 0, never waited")
    else:
        fail(f"clickhouse slow: took {took:.1f} s, equal {strip(a) == strip(b)}, merged meanwhile "
             f"{during}, lost {p.get('lost')}, ingest_waited {iwait}; probes "
             f"{[(x['id'], x['msgs']) for x in waited['probes']]}; sent {live.stdout.read()}; "
             f"slow {json.dumps(strip(a))[:700]} / memory {json.dumps(strip(b))[:700]}")
    h.stop()


UQ = ["/api/v1/asns?range=10m&end={e}", "/api/v1/asns/64521/histogram?range=10m&end={e}",
      "/api/v1/asns/64523/series?range=10m&step=1m&end={e}"]
MIN = 60_000_000_000


def no_timed(j):
    """An answer without the per-ASN rtt_data_timed counts (wire version 3 had none)."""
    if isinstance(j, dict):
        return {k: no_timed(v) for k, v in j.items() if k not in ("rtt_data_timed",
                                                                  "resolution_ns", "step_ns")}
    if isinstance(j, list):
        return [no_timed(v) for v in j]
    return j


def version3_rows(ch, m, end, hargs):
    """Rows a collector of wire version 3 wrote (7 counters: no rtt_data_timed) read as 0, and
    every other number as before: a copy of the database with its rows cut to 7 counters, read
    by a collector started on it (hargs)."""
    ch.query("CREATE DATABASE edgeprobe_v3")
    for t in ("meta", "bucket", "org", "pair"):
        ch.query(f"CREATE TABLE edgeprobe_v3.{t} AS edgeprobe_test.{t}")
    for t in ("meta", "bucket", "org"):
        ch.query(f"INSERT INTO edgeprobe_v3.{t} SELECT * FROM edgeprobe_test.{t}")
    ch.query("INSERT INTO edgeprobe_v3.pair SELECT step, collector, probe, start, asn, cc, written,"
             " arraySlice(c, 1, 7), hs_i, hs_n, hd_i, hd_n, hr_i, hr_n FROM edgeprobe_test.pair")
    lens = ch.query("SELECT DISTINCT length(c) FROM edgeprobe_v3.pair FORMAT TSV").split()
    h = Collector(collector, out, "h4", ["udp://127.0.0.1:0"], hargs)
    a, b = answers(h, end), answers(m, end)
    got = sum(x.get("rtt_data_timed", -1) for x in a[0].get("asns", []))
    want = sum(x.get("rtt_data_timed", 0) for x in b[0].get("asns", []))
    if lens == ["7"] and no_timed(a) == no_timed(b) and got == 0 and want > 0 and a[0]["asns"]:
        ok(f"clickhouse: rows of wire version 3 (7 counters) read with rtt_data_timed 0 "
           f"(memory: {want}), every other answer equal")
    else:
        fail(f"clickhouse: version-3 rows: counter lengths {lens}, rtt_data_timed {got} "
             f"(memory {want}), other answers equal: {no_timed(a) == no_timed(b)}")
    h.stop()


def minute_rows(backend, target, ch):
    if backend == "sqlite":
        con = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        n = con.execute("SELECT count(*) FROM bucket WHERE step_ns = ? AND probe = ''",
                        (MIN,)).fetchone()[0]
        con.close()
        return n
    return int(ch.query(f"SELECT count() FROM edgeprobe_upgrade.bucket WHERE step = {MIN} "
                        "AND probe = ''"))


def compare_min(name, h, m, end, queries, what):
    """queries at end: H's answers (read at 1 min) equal M's."""
    a = [h.get(q.format(e=end)) for q in queries]
    b = [m.get(q.format(e=end)) for q in queries]
    bad = [q for q, x, y in zip(queries, a, b) if strip(x) != strip(y)]
    n = sum(x["rtt_data"]["n"] for x in a[0].get("asns", []))
    if bad or n == 0 or a[0].get("resolution_ns") != MIN:
        fail(f"{name}: differs from the in-memory collector's: {bad} (resolution "
             f"{a[0].get('resolution_ns')}; windows {a[0].get('windows')} / {b[0].get('windows')}; "
             f"H {json.dumps(a[-1])[:300]} / M {json.dumps(b[-1])[:300]})")
    else:
        ok(f"{name}: {len(queries)} {what} equal the in-memory collector's ({n} in-flow samples, "
           f"{a[0].get('windows')} windows)")


def compare_upgrade(name, h, m, end):
    compare_min(name, h, m, end, UQ, "answers over 10 min at 1 min")


def store(backend, ch, name):
    """The --history of a scenario of its own: an SQLite file, or a ClickHouse database."""
    if backend == "sqlite":
        return os.path.join(out, f"{name}.db")
    return f"clickhouse://127.0.0.1:{ch.http}/edgeprobe_{name}"


def upgrade(backend, ch):
    """A coarser tier added to a history kept without it (as the 1 h tier in an upgrade):
    answers before its first row read the finer rows; the first window it rolls up after the
    restart is whole, though memory reloaded only part of the finer tier's ring."""
    target = store(backend, ch, "upgrade")
    old = ["--tiers", "100ms:2s,1s:10s,10s:1m", "--probe-tiers", "1s:10s,10s:30s",
           "--history", target, "--retain", "1s=1d,10s=1h"]
    new = ["--tiers", "100ms:2s,1s:10s,10s:1m,1m:2m", "--probe-tiers", "1s:10s,10s:30s",
           "--history", target, "--retain", "1s=1d,10s=1h,1m=1d"]
    # The windows run 150 s from 10 s before a minute on; the reloaded minute of 10 s buckets
    # would start 20 s into their third minute.
    end_u = END0 - END0 % MIN - MIN + 50_000_000_000
    h = Collector(collector, out, "u1", ["udp://127.0.0.1:0"], old)
    m = Collector(collector, out, "um", ["udp://127.0.0.1:0"], LARGE)
    for c in (h, m):
        subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", "pa,pb", "7", str(N),
                        str(end_u)], capture_output=True, timeout=60, check=True)
    for c in (h, m):
        settle(c, 2 * N)
    h.stop()
    h = Collector(collector, out, "u2", ["udp://127.0.0.1:0"], new)
    rows = minute_rows(backend, target, ch)
    e1 = end_u - end_u % MIN + MIN
    compare_upgrade(f"{backend}: 1 min tier added to a history without it ({rows} rows of it "
                    "since)", h, m, e1)
    # The next minute of windows closes the reloaded minutes: the collector writes their 1 min
    # rows; after a restart those are read, the finer rows only before them.
    for c in (h, m):
        subprocess.run([send, f"127.0.0.1:{c.ports[0]}", "past", "pc", "8", "600",
                        str(end_u + N * 100_000_000)], capture_output=True, timeout=60,
                       check=True)
    settle(h, 600)
    settle(m, 2 * N + 600)
    h.stop()
    h = Collector(collector, out, "u3", ["udp://127.0.0.1:0"], new)
    rows = minute_rows(backend, target, ch)
    if rows < 2:
        fail(f"{backend}: upgrade: {rows} 1 min rows written after the restart (want >= 2)")
    compare_upgrade(f"{backend}: after {rows} 1 min rows were written and a restart", h, m,
                    e1 + 4 * MIN)
    h.stop()
    m.stop()


EQ = ["/api/v1/asns?range=100s&end={e}", "/api/v1/asns/64521/histogram?range=100s&end={e}",
      "/api/v1/asns?range=70s&end={e}"]


def compare_edges(name, h, m, end):
    compare_min(name, h, m, end, EQ, "sums read at 1 min")


def edges(backend, ch):
    """A sum that memory answers from its coarsest tier (1 min), whose start cuts a minute the
    finer tier (10 s, a ring of 1 min) no longer holds: that part is read from the history's
    10 s rows, not taken whole from the minute (the answer equals memory's). The store is
    one a second collector could share, so the all-probes answer is the shared kind."""
    target = store(backend, ch, "edges")
    args = ["--tiers", "100ms:2s,1s:10s,10s:1m,1m:10m", "--probe-tiers", "1s:10s,10s:30s",
            "--history", target, "--retain", "1s=1d,10s=1h,1m=1d"]
    h = Collector(collector, out, "e1", ["udp://127.0.0.1:0"], args)
    m = Collector(collector, out, "em", ["udp://127.0.0.1:0"], LARGE)
    for c in (h, m):
        feed(c, "pa,pb", 9)
    for c in (h, m):
        settle(c, 2 * N)
    # The windows run [END0, END0 + 150 s). An end on 10 s, neither start (100 s and 70 s
    # before) on a minute, both older than the 10 s ring's reach (50 s before its newest).
    e = END0 + N * 100_000_000
    e -= e % 10_000_000_000
    while (e - 100 * 10**9) % MIN == 0 or (e - 70 * 10**9) % MIN == 0:
        e -= 10_000_000_000
    # 20 s before it, the range's end cuts a minute that the 10 s ring no longer holds too.
    for x in (e, e - 20_000_000_000):
        compare_edges(f"{backend}: edges, end {(x - END0) // 10**9} s into the windows", h, m, x)
    h.p.send_signal(signal.SIGKILL)
    h.p.wait()
    h = Collector(collector, out, "e2", ["udp://127.0.0.1:0"], args)
    for x in (e, e - 20_000_000_000):
        compare_edges(f"{backend}: edges after kill -9 and restart, end {(x - END0) // 10**9} s "
                      "into the windows", h, m, x)
    h.stop()
    m.stop()


def sqlite_faults(db):
    # Refused files.
    junk = os.path.join(out, "junk.db")
    with open(junk, "wb") as f:
        f.write(os.urandom(8192))
    start_fails(["--history", junk], "--history")
    other = os.path.join(out, "other.db")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE customers(id INTEGER)")
    con.commit()
    con.close()
    start_fails(["--history", other], "not an edgeprobe history")
    other_cfg = os.path.join(out, "other-cfg.db")
    shutil.copy(db, other_cfg)
    con = sqlite3.connect(other_cfg)
    con.execute("UPDATE meta SET v = replace(v, ' 2', ' 3') WHERE k = 'format'")
    con.commit()
    con.close()
    start_fails(["--history", other_cfg], "this collector uses")
    start_fails(["--history", os.path.join(out, "no", "such", "dir", "h.db")], "--history")
    start_fails(["--history", os.path.join(out, "r.db"), "--retain", "250ms=1h"],
                "not a step of --tiers")
    for bad in ("1s=1ms", "0s=1d", "1x=1d", "10=1d", "1s=99999d"):
        start_fails(["--history", os.path.join(out, "r.db"), "--retain", bad], "--retain")

    # A second collector on the same UDP port fails clearly.
    a = Collector(collector, out, "port-a", ["udp://127.0.0.1:0"])
    r = subprocess.run([collector, "--listen", f"udp://127.0.0.1:{a.ports[0]}", "--http", "off",
                        "--run-seconds", "2"], capture_output=True, text=True, timeout=20)
    a.stop()
    said = [x for x in r.stderr.splitlines() if "in use" in x]
    if r.returncode == 2 and said:
        ok(f"a second collector on the same UDP port: {said[0][:120]}")
    else:
        fail(f"a second collector on UDP {a.ports[0]}: exit {r.returncode} {r.stderr[-200:]!r}")

    # A full file system, then room again.
    mnt = os.path.join(out, "small")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                      capture_output=True).returncode:
        print("skip: cannot mount a tmpfs here: the full-disk case is not run")
    else:
        try:
            full_disk(mnt)
        finally:
            subprocess.run(["umount", "-l", mnt])


def full_disk(mnt):
    db = os.path.join(mnt, "h.db")
    h = Collector(collector, out, "full", ["udp://127.0.0.1:0"],
                  SMALL + ["--history", db, "--history-queue", "1M"])
    # A filler takes what the database has not: it cannot grow.
    filler = os.path.join(mnt, "filler")
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    feed(h, "pf,pg", 7)
    settle(h, 2 * N)
    deadline = time.time() + 10
    while time.time() < deadline:
        hm = h.history()
        if hm.get("edgeprobe_collector_history_write_errors_total", 0) > 0:
            break
        time.sleep(0.2)
    errs = hm.get("edgeprobe_collector_history_write_errors_total", 0)
    queued = hm.get("edgeprobe_collector_history_queue_bytes", 0)
    dropped = hm.get("edgeprobe_collector_history_buckets_dropped_total", 0)
    if errs > 0 and queued <= 1 << 20 and dropped > 0 and h.p.poll() is None:
        ok(f"full disk: {errs:.0f} write errors counted, {queued:.0f} bytes queued (bound 1 MiB), "
           f"{dropped:.0f} buckets dropped, still serving")
    else:
        fail(f"full disk: errors {errs}, queued {queued}, dropped {dropped}, alive {h.p.poll()}")
    os.unlink(filler)
    subprocess.run(["mount", "-o", "remount,size=64m", mnt], capture_output=True)
    deadline = time.time() + 15
    while time.time() < deadline:
        hm = h.history()
        if hm.get("edgeprobe_collector_history_queue_bytes", 1) == 0:
            break
        time.sleep(0.3)
    before = hm.get("edgeprobe_collector_history_buckets_written_total", 0)
    if hm.get("edgeprobe_collector_history_queue_bytes", 1) == 0 and before > 0:
        ok(f"full disk: room again, the writer caught up without a restart "
           f"({before:.0f} buckets written)")
    else:
        fail(f"full disk: no recovery: {hm}")
    h.stop()


if __name__ == "__main__":
    sys.exit(main())
