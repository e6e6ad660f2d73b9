#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""delay_bridge.py - a userspace delay and loss bridge between two TAP devices.

netem is not available on the test kernel, so the live tests add path delay here:
the script creates TAP devices A and B (the caller moves them into network
namespaces and configures them), then forwards every Ethernet frame from one to
the other after DELAY_MS (one way), dropping a random LOSS share of frames that
carry TCP payload (so handshakes stay deterministic and data is retransmitted).
With RATE_MBIT each direction is also a bottleneck of that rate: frames are
serialised one after another, and a frame that would wait more than QUEUE_MS
(default 50) behind the others is dropped at the tail, as a router's buffer does;
senders faster than the rate build a real queue (and its delay).

It prints "ready" once the devices exist, and at exit (SIGTERM) one line of
statistics: frames forwarded and dropped per direction and the measured
scheduling lateness (how much later than due frames left: the bridge's own jitter).

Usage: delay_bridge.py TAP_A TAP_B DELAY_MS [LOSS] [SEED] [RATE_MBIT] [QUEUE_MS]
"""
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def tcp_payload(frame):
    """True for an IPv4/IPv6 TCP frame with payload (after an optional VLAN tag)."""
    off, et = 14, int.from_bytes(frame[12:14], "big")
    if et == 0x8100 and len(frame) >= 18:
        off, et = 18, int.from_bytes(frame[16:18], "big")
    if et == 0x0800 and len(frame) >= off + 20 and frame[off + 9] == 6:
        ihl = (frame[off] & 15) * 4
        tot = int.from_bytes(frame[off + 2:off + 4], "big")
        if len(frame) >= off + ihl + 13:
            return tot - ihl - (frame[off + ihl + 12] >> 4) * 4 > 0
    if et == 0x86DD and len(frame) >= off + 40 + 13 and frame[off + 6] == 6:
        plen = int.from_bytes(frame[off + 4:off + 6], "big")
        return plen - (frame[off + 40 + 12] >> 4) * 4 > 0
    return False


def main():
    a_name, b_name, delay_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    loss = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    rate = float(sys.argv[6]) * 1e6 / 8 if len(sys.argv) > 6 else 0.0  # bytes/s
    qlimit = (float(sys.argv[7]) if len(sys.argv) > 7 else 50.0) / 1000.0
    busy = {"ab": 0.0, "ba": 0.0}  # when the bottleneck has sent what it holds
    fds = {open_tap(a_name): None, open_tap(b_name): None}
    fa, fb = list(fds)
    peer = {fa: fb, fb: fa}
    delay = delay_ms / 1000.0
    queue, seq = [], 0
    stats = {"ab": 0, "ba": 0, "drop_ab": 0, "drop_ba": 0, "q_ab": 0, "q_ba": 0}
    late = []
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    print("ready", flush=True)
    while running[0]:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 0.05
        try:
            readable, _, _ = select.select([fa, fb], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in readable:
            for _ in range(64):
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                d = "ab" if fd == fa else "ba"
                if loss and tcp_payload(frame) and rng.random() < loss:
                    stats["drop_" + d] += 1
                    continue
                due = now + delay
                if rate:
                    start = max(now, busy[d])
                    if start - now > qlimit:
                        stats["q_" + d] += 1
                        continue
                    busy[d] = start + len(frame) / rate
                    due = busy[d] + delay
                heapq.heappush(queue, (due, seq, peer[fd], frame))
                seq += 1
                stats[d] += 1
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            due, _, fd, frame = heapq.heappop(queue)
            late.append(now - due)
            try:
                os.write(fd, frame)
            except OSError:
                pass
    late.sort()
    p50 = late[len(late) // 2] * 1e6 if late else 0
    p99 = late[int(len(late) * 0.99)] * 1e6 if late else 0
    print(f"bridge: forwarded a->b {stats['ab']} b->a {stats['ba']}, dropped a->b {stats['drop_ab']} "
          f"b->a {stats['drop_ba']}, lateness p50 {p50:.0f} us p99 {p99:.0f} us, "
          f"queue drops a->b {stats['q_ab']} b->a {stats['q_ba']}", flush=True)


if __name__ == "__main__":
    main()
