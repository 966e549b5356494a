#!/usr/bin/env python3
"""Input validator for vault-ledger: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: "n q" with 1 <= n <= 10^5, 1 <= q <= 4 * 10^4. Then q command lines:
"deposit a x", "withdraw a x", "transfer a b x" (a != b) or "richest", with
1 <= a, b <= n and 1 <= x <= 10^6. Single spaces, '\n' line ends, nothing else.
"""
import re
import sys

NUM = rb"([1-9][0-9]{0,6})"
HEAD = re.compile(NUM + rb" " + NUM)
ONE = re.compile(rb"(deposit|withdraw) " + NUM + rb" " + NUM)
TWO = re.compile(rb"transfer " + NUM + rb" " + NUM + rb" " + NUM)


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
        fail("first line must be 'n q'")
    n, q = int(m.group(1)), int(m.group(2))
    if not (1 <= n <= 10**5 and 1 <= q <= 4 * 10**4):
        fail(f"n = {n} or q = {q} out of range")
    if len(lines) != q + 1:
        fail(f"expected {q} commands, got {len(lines) - 1} lines")
    for i, line in enumerate(lines[1:], start=1):
        if line == b"richest":
            continue
        m = ONE.fullmatch(line)
        if m:
            a, x = int(m.group(2)), int(m.group(3))
            if not (a <= n and x <= 10**6):
                fail(f"command {i}: value out of range")
            continue
        m = TWO.fullmatch(line)
        if m:
            a, b, x = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if not (a <= n and b <= n and a != b and x <= 10**6):
                fail(f"command {i}: bad transfer")
            continue
        fail(f"command {i}: cannot parse {line[:40]!r}")
    sys.exit(42)


main()
