#!/usr/bin/env python3
"""Input validator for longest-climb: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: n with 1 <= n <= 10^5. Line 2: n integers h_i with 1 <= h_i <= 10^6,
single spaces. '\n' line ends, nothing else.
"""
import re
import sys

NUM = re.compile(rb"[1-9][0-9]{0,6}")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if len(lines) != 2:
        fail(f"expected 2 lines, got {len(lines)}")
    if not NUM.fullmatch(lines[0]) or not 1 <= int(lines[0]) <= 10**5:
        fail("first line must be n with 1 <= n <= 10^5")
    n = int(lines[0])
    h = lines[1].split(b" ")
    if len(h) != n:
        fail(f"expected {n} heights, got {len(h)}")
    for t in h:
        if not NUM.fullmatch(t) or int(t) > 10**6:
            fail(f"bad height {t[:20]!r}")
    sys.exit(42)


main()
