#!/usr/bin/env python3
"""Input validator for island-count: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: "R C" with 1 <= R, C <= 500. Then R lines of exactly C characters '#' or '.'.
'\n' line ends, nothing else.
"""
import re
import sys

HEAD = re.compile(rb"([1-9][0-9]{0,2}) ([1-9][0-9]{0,2})")
ROW = re.compile(rb"[#.]+")


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
        fail("first line must be 'R C'")
    r, c = int(m.group(1)), int(m.group(2))
    if not (1 <= r <= 500 and 1 <= c <= 500):
        fail(f"R = {r} or C = {c} out of range")
    if len(lines) != r + 1:
        fail(f"expected {r} rows, got {len(lines) - 1} lines")
    for i, row in enumerate(lines[1:], start=1):
        if len(row) != c or not ROW.fullmatch(row):
            fail(f"row {i} must have exactly {c} characters '#' or '.'")
    sys.exit(42)


main()
