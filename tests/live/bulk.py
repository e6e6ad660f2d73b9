#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bulk.py - bulk TCP downloads for the live RTT tests: a server and a client.

  bulk.py serve ADDR PORT            serve until SIGTERM; prints "ready"
  bulk.py fetch ADDR PORT N BYTES PACE
                                     N parallel downloads of BYTES each; PACE is the
                                     server's SO_MAX_PACING_RATE in bytes/s (0: unpaced)

The client asks with one line "BYTES PACE\\n"; the server sets the pacing rate on
that connection (the kernel's own TCP pacing: no fq qdisc needed), sends BYTES and
closes.  The client checks that every byte arrived and exits non-zero otherwise.
No name is ever resolved (the test namespaces have no DNS).
"""
import os
import signal
import socket
import sys
import threading

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
CHUNK = bytes(os.urandom(1 << 16))


def handle(conn):
    try:
        line = b""
        while not line.endswith(b"\n") and len(line) < 64:
            b = conn.recv(64 - len(line))
            if not b:
                return
            line += b
        size, pace = (int(x) for x in line.split())
        if pace:
            conn.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, pace)
        left = size
        while left:
            n = conn.send(CHUNK[:min(left, len(CHUNK))])
            left -= n
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):
            pass
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def serve(addr, port):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def fetch(addr, port, n, size, pace):
    got = [0] * n

    def one(i):
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.settimeout(120)
        try:
            s.connect((addr, port))
            s.sendall(f"{size} {pace}\n".encode())
            while True:
                b = s.recv(1 << 16)
                if not b:
                    break
                got[i] += len(b)
        except OSError as e:
            print(f"download {i}: {e}", file=sys.stderr)
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    short = [g for g in got if g != size]
    if short:
        print(f"{len(short)} of {n} downloads incomplete: {got}", file=sys.stderr)
        return 1
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 7 and sys.argv[1] == "fetch":
        sys.exit(fetch(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                       int(sys.argv[6])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
