#!/usr/bin/env python3
"""Input validator for hello-battle: one line "A B", -10^18 <= A, B <= 10^18."""
import re
import sys

LIMIT = 10**18
LINE = re.compile(rb"(0|-?[1-9][0-9]{0,18}) (0|-?[1-9][0-9]{0,18})\n")


def main() -> None:
    data = sys.stdin.buffer.read()
    m = LINE.fullmatch(data)
    if not m:
        sys.exit(43)
    a, b = int(m.group(1)), int(m.group(2))
    if not (-LIMIT <= a <= LIMIT and -LIMIT <= b <= LIMIT):
        sys.exit(43)
    sys.exit(42)


if __name__ == "__main__":
    main()
