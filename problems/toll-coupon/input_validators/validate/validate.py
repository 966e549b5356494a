#!/usr/bin/env python3
"""Input validator for toll-coupon: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: "n m" with 2 <= n <= 10^4, 1 <= m <= 3 * 10^4.
Then m lines "u v w" with 1 <= u, v <= n, u != v, 1 <= w <= 10^6.
Single spaces, '\n' line ends, nothing else.
"""
import re
import sys

NUM = rb"([1-9][0-9]{0,6})"
HEAD = re.compile(NUM + rb" " + NUM)
ROAD = re.compile(NUM + rb" " + NUM + rb" " + NUM)


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    m = HEAD.fullmatch(lines[0])
    if not m:
        fail("first line must be 'n m'")
    n, roads = int(m.group(1)), int(m.group(2))
    if not (2 <= n <= 10**4 and 1 <= roads <= 3 * 10**4):
        fail(f"n = {n} or m = {roads} out of range")
    if len(lines) != roads + 1:
        fail(f"expected {roads} roads, got {len(lines) - 1} lines")
    for i, line in enumerate(lines[1:], start=1):
        m = ROAD.fullmatch(line)
        if not m:
            fail(f"road {i}: cannot parse {line[:40]!r}")
        u, v, w = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not (u <= n and v <= n and u != v and w <= 10**6):
            fail(f"road {i}: bad values {u} {v} {w}")
    sys.exit(42)


main()
