#!/usr/bin/env python3
"""Input validator for battery-log: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: "n q" with 1 <= n, q <= 5 * 10^4.
Line 2: n integers a_i with -10^5 <= a_i <= 10^5, single spaces.
Then q lines "l r" with 1 <= l <= r <= n. '\n' line ends, nothing else.
"""
import re
import sys

INT = re.compile(rb"0|-?[1-9][0-9]{0,5}")
POS = rb"[1-9][0-9]{0,4}"
PAIR = re.compile(rb"(" + POS + rb") (" + POS + rb")")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    m = PAIR.fullmatch(lines[0])
    if not m:
        fail("first line must be 'n q'")
    n, q = int(m.group(1)), int(m.group(2))
    if not (1 <= n <= 5 * 10**4 and 1 <= q <= 5 * 10**4):
        fail(f"n = {n} or q = {q} out of range")
    if len(lines) != q + 2:
        fail(f"expected {q + 2} lines, got {len(lines)}")
    a = lines[1].split(b" ")
    if len(a) != n:
        fail(f"expected {n} values, got {len(a)}")
    for t in a:
        if not INT.fullmatch(t) or abs(int(t)) > 10**5:
            fail(f"bad value {t[:20]!r}")
    for line in lines[2:]:
        m = PAIR.fullmatch(line)
        if not m:
            fail(f"bad query line {line[:40]!r}")
        l, r = int(m.group(1)), int(m.group(2))
        if not 1 <= l <= r <= n:
            fail(f"need 1 <= l <= r <= n, got {l} {r}")
    sys.exit(42)


main()
