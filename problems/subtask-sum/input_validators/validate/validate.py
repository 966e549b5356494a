#!/usr/bin/env python3
"""Input validator for subtask-sum: exits 42 if stdin is a valid input, 43 otherwise."""
import re
import sys

INT = re.compile(rb"-?(0|[1-9][0-9]*)")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def read_int(tok, lo, hi, what):
    if not INT.fullmatch(tok) or tok == b"-0":
        fail(f"{what}: not an integer: {tok[:20]!r}")
    v = int(tok)
    if not lo <= v <= hi:
        fail(f"{what} = {v} out of range [{lo}, {hi}]")
    return v


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    if len(lines) != 2:
        fail(f"expected exactly 2 lines, got {len(lines)}")
    head = lines[0].split(b" ")
    if len(head) != 2:
        fail("first line must be 'n k'")
    n = read_int(head[0], 1, 10**5, "n")
    read_int(head[1], 1, 10**9, "k")
    toks = lines[1].split(b" ")
    if len(toks) != n:
        fail(f"expected {n} numbers on line 2, got {len(toks)}")
    for i, t in enumerate(toks):
        read_int(t, -(10**9), 10**9, f"a_{i + 1}")
    sys.exit(42)


main()
