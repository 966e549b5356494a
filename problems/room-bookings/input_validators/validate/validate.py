#!/usr/bin/env python3
"""Input validator for room-bookings: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: n with 1 <= n <= 5 * 10^4. Then n lines "s e" with 0 <= s < e <= 10^8.
Single spaces, '\n' line ends, nothing else.
"""
import re
import sys

NUM = rb"(0|[1-9][0-9]{0,8})"
PAIR = re.compile(NUM + rb" " + NUM)


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if not re.fullmatch(rb"[1-9][0-9]{0,4}", lines[0]):
        fail("first line must be the integer n")
    n = int(lines[0])
    if not 1 <= n <= 5 * 10**4:
        fail(f"n = {n} out of range")
    if len(lines) != n + 1:
        fail(f"expected {n} bookings, got {len(lines) - 1} lines")
    for line in lines[1:]:
        m = PAIR.fullmatch(line)
        if not m:
            fail(f"bad booking line {line[:40]!r}")
        s, e = int(m.group(1)), int(m.group(2))
        if not 0 <= s < e <= 10**8:
            fail(f"need 0 <= s < e <= 10^8, got {s} {e}")
    sys.exit(42)


main()
