#!/usr/bin/env python3
"""Input validator for hiking-stages: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: "n k" with 1 <= k <= n <= 5 * 10^4. Line 2: n integers d_i with
1 <= d_i <= 10^6, single spaces. '\n' line ends, nothing else.
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
    head = lines[0].split(b" ")
    if len(head) != 2 or not all(NUM.fullmatch(t) for t in head):
        fail("first line must be 'n k'")
    n, k = int(head[0]), int(head[1])
    if not 1 <= k <= n <= 5 * 10**4:
        fail(f"need 1 <= k <= n <= 5 * 10^4, got n = {n}, k = {k}")
    d = lines[1].split(b" ")
    if len(d) != n:
        fail(f"expected {n} segment lengths, got {len(d)}")
    for t in d:
        if not NUM.fullmatch(t) or int(t) > 10**6:
            fail(f"bad segment length {t[:20]!r}")
    sys.exit(42)


main()
