#!/usr/bin/env python3
"""Input validator for any-pair.

Line 1: "n T" with 2 <= n <= 3*10^5 and 2 <= T <= 2*10^9.
Line 2: n integers a_i with 1 <= a_i <= 10^9, separated by single spaces.
"""
import re
import sys

NUM = re.compile(rb"[1-9][0-9]{0,9}")
HEAD = re.compile(rb"([1-9][0-9]{0,9}) ([1-9][0-9]{0,9})")


def main() -> None:
    data = sys.stdin.buffer.read()
    lines = data.split(b"\n")
    # exactly two lines, each terminated by '\n'
    if len(lines) != 3 or lines[2] != b"":
        sys.exit(43)
    m = HEAD.fullmatch(lines[0])
    if not m:
        sys.exit(43)
    n, t = int(m.group(1)), int(m.group(2))
    if not (2 <= n <= 3 * 10**5 and 2 <= t <= 2 * 10**9):
        sys.exit(43)
    parts = lines[1].split(b" ")
    if len(parts) != n:
        sys.exit(43)
    for p in parts:
        if not NUM.fullmatch(p) or int(p) > 10**9:
            sys.exit(43)
    sys.exit(42)


if __name__ == "__main__":
    main()
