#!/usr/bin/env python3
"""Input validator for fair-teams: exits 42 if stdin is a valid input, 43 otherwise.

Line 1: n with 2 <= n <= 100. Line 2: n integers s_i with 1 <= s_i <= 1000, single
spaces. '\n' line ends, nothing else.
"""
import re
import sys

NUM = re.compile(rb"[1-9][0-9]{0,3}")


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
    if not NUM.fullmatch(lines[0]) or not 2 <= int(lines[0]) <= 100:
        fail("first line must be n with 2 <= n <= 100")
    n = int(lines[0])
    skills = lines[1].split(b" ")
    if len(skills) != n:
        fail(f"expected {n} skills, got {len(skills)}")
    for t in skills:
        if not NUM.fullmatch(t) or not 1 <= int(t) <= 1000:
            fail(f"bad skill {t[:20]!r}")
    sys.exit(42)


main()
