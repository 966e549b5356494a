#!/usr/bin/env python3
"""Input validator for mirror-names: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: T with 1 <= T <= 10^5. Then T lines, each a non-empty word of 'a'-'z'.
The total length of the words is at most 5 * 10^5. '\n' line ends, nothing else.
"""
import re
import sys

WORD = re.compile(rb"[a-z]+")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if not re.fullmatch(rb"[1-9][0-9]{0,5}", lines[0]):
        fail("first line must be the integer T")
    t = int(lines[0])
    if not 1 <= t <= 10**5:
        fail(f"T = {t} out of range")
    if len(lines) != t + 1:
        fail(f"expected {t} names, got {len(lines) - 1} lines")
    total = 0
    for i, w in enumerate(lines[1:], start=1):
        if not WORD.fullmatch(w):
            fail(f"name {i} is not a non-empty string of lowercase letters")
        total += len(w)
    if total > 5 * 10**5:
        fail(f"total length {total} exceeds 5 * 10^5")
    sys.exit(42)


main()
