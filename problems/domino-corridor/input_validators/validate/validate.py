#!/usr/bin/env python3
"""Input validator for domino-corridor: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: T with 1 <= T <= 1000. Then T lines, each an integer n with 1 <= n <= 10^18.
'\n' line ends, nothing else.
"""
import re
import sys

NUM = re.compile(rb"[1-9][0-9]{0,18}")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if not NUM.fullmatch(lines[0]) or not 1 <= int(lines[0]) <= 1000:
        fail("first line must be T with 1 <= T <= 1000")
    t = int(lines[0])
    if len(lines) != t + 1:
        fail(f"expected {t} queries, got {len(lines) - 1} lines")
    for line in lines[1:]:
        if not NUM.fullmatch(line) or int(line) > 10**18:
            fail(f"bad corridor length {line[:30]!r}")
    sys.exit(42)


main()
