# SPDX-License-Identifier: BSD-3-Clause
"""eptest.py - what the Python end-to-end tests share: pass/fail bookkeeping, free
loopback ports, HdrHistogram's answers for true samples (lowest 1, 2 significant
digits), and reading the wire protocol's length-prefixed files."""
import math
import socket
import struct

FAILS = []
OKS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL:", msg, flush=True)


def ok(msg):
    OKS.append(msg)
    print("ok:", msg, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _bucket(v):
    return max(0, (v | 255).bit_length() - 1 - 7)


def hdr_lowest(v):
    """Lowest value of v's HDR bucket."""
    b = _bucket(v)
    return (v >> b) << b


def hdr_top(v):
    """Highest value of v's HDR bucket (what HdrHistogram reports for it)."""
    b = _bucket(v)
    return ((v >> b) << b) + (1 << b) - 1


def hdr_pct(samples, p):
    """HdrHistogram's value at percentile p (0..100) of the true samples."""
    s = sorted(samples)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return hdr_top(s[rank - 1])


def hdr_min(samples):
    return hdr_lowest(min(samples))


def frames(path):
    """The messages of a file: sink (u32 big-endian length, then the message)."""
    data = open(path, "rb").read()
    out, off = [], 0
    while off < len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        out.append(bytearray(data[off + 4:off + 4 + n]))
        off += 4 + n
    return out
