#!/usr/bin/env python3
"""Input validator for guess-number (the file is read by the interactor only).

Line 1: "N K" with 1 <= N <= 10^9 and ceil(log2(N + 1)) <= K <= 60.
Line 2: the hidden number S with 1 <= S <= N.
"""
import re
import sys

NUM = rb"([1-9][0-9]{0,9})"
FORMAT = re.compile(NUM + rb" " + NUM + rb"\n" + NUM + rb"\n")


def main() -> None:
    m = FORMAT.fullmatch(sys.stdin.buffer.read())
    if not m:
        sys.exit(43)
    n, k, s = (int(g) for g in m.groups())
    if not 1 <= n <= 10**9:
        sys.exit(43)
    # ceil(log2(n + 1)) == n.bit_length(): plain binary search never needs more queries
    if not n.bit_length() <= k <= 60:
        sys.exit(43)
    if not 1 <= s <= n:
        sys.exit(43)
    sys.exit(42)


if __name__ == "__main__":
    main()
