#!/usr/bin/env python3
"""Input validator for bracket-depth: exits 42 if stdin is a valid input, 43 otherwise."""
import re
import sys

LINE = re.compile(rb"[()\[\]{}<>]{1,1000000}\n")


def main():
    data = sys.stdin.buffer.read()
    if not LINE.fullmatch(data):
        print("expected one line of 1..10^6 bracket characters", file=sys.stderr)
        sys.exit(43)
    sys.exit(42)


main()
