#!/usr/bin/env python3
"""Input validator for maze-runner: exits 42 if stdin is a valid input, 43 otherwise."""
import re
import sys

NUM = re.compile(rb"[1-9][0-9]*")
ROW = re.compile(rb"[.#SE]*")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(43)


def main():
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        fail("input must end with a newline")
    lines = data[:-1].split(b"\n")
    head = lines[0].split(b" ")
    if len(head) != 2 or not all(NUM.fullmatch(t) for t in head):
        fail("first line must be 'R C'")
    r, c = map(int, head)
    if not (1 <= r <= 1000 and 1 <= c <= 1000):
        fail(f"R = {r}, C = {c} out of range")
    if len(lines) != r + 1:
        fail(f"expected {r} grid lines, got {len(lines) - 1}")
    starts = exits = 0
    for i, row in enumerate(lines[1:]):
        if len(row) != c or not ROW.fullmatch(row):
            fail(f"grid line {i + 1} must have exactly {c} characters from '.#SE'")
        starts += row.count(b"S")
        exits += row.count(b"E")
    if starts != 1:
        fail(f"expected exactly one S, got {starts}")
    if exits < 1:
        fail("expected at least one E")
    sys.exit(42)


main()
