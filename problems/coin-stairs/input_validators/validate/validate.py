#!/usr/bin/env python3
"""Input validator for coin-stairs: exits 42 if stdin is a valid input, 43 otherwise."""
import re
import sys

NUM = re.compile(rb"0|[1-9][0-9]*")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def ints(line, what):
    toks = line.split(b" ") if line else []
    for t in toks:
        if not NUM.fullmatch(t):
            fail(f"{what}: not a non-negative integer: {t[:20]!r}")
    return [int(t) for t in toks]


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if len(lines) != 2:
        fail(f"expected exactly 2 lines, got {len(lines)}")
    head = ints(lines[0], "first line")
    if len(head) != 3:
        fail("first line must be 'n k m'")
    n, k, m = head
    if not 1 <= k <= n <= 10**6:
        fail(f"need 1 <= k <= n <= 10^6, got n = {n}, k = {k}")
    if not 0 <= m <= min(n, 2 * 10**5):
        fail(f"m = {m} out of range")
    p = ints(lines[1], "second line")
    if len(p) != m:
        fail(f"expected {m} coin positions, got {len(p)}")
    prev = 0
    for x in p:
        if not prev < x <= n:
            fail(f"coin positions must be strictly increasing within [1, n], got {x} after {prev}")
        prev = x
    sys.exit(42)


main()
