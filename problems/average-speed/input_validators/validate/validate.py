#!/usr/bin/env python3
"""Input validator for average-speed.

Line 1: "n k" with 1 <= k <= n <= 10^5.
Then n lines "d t" with 1 <= d, t <= 1000. Single spaces, '\n' line ends, nothing else.
"""
import re
import sys

NUM = rb"[1-9][0-9]{0,6}"
PAIR = re.compile(rb"(" + NUM + rb") (" + NUM + rb")")


def main() -> None:
    data = sys.stdin.buffer.read()
    if not data.endswith(b"\n"):
        sys.exit(43)
    lines = data[:-1].split(b"\n")
    m = PAIR.fullmatch(lines[0])
    if not m:
        sys.exit(43)
    n, k = int(m.group(1)), int(m.group(2))
    if not (1 <= k <= n <= 10**5):
        sys.exit(43)
    if len(lines) != n + 1:
        sys.exit(43)
    for line in lines[1:]:
        m = PAIR.fullmatch(line)
        if not m:
            sys.exit(43)
        d, t = int(m.group(1)), int(m.group(2))
        if not (1 <= d <= 1000 and 1 <= t <= 1000):
            sys.exit(43)
    sys.exit(42)


if __name__ == "__main__":
    main()
