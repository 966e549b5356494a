"""Longest Climb: the length of the longest strictly increasing subsequence.

Uses the classic O(n log n) patience-sorting approach.
"""
import sys
from bisect import bisect_left
from typing import List


def longest_strictly_increasing(heights: List[int]) -> int:
    """Return the length of the longest strictly increasing subsequence.

    tails[i] holds the smallest possible tail of an increasing subsequence of length i + 1.
    """
    tails: List[int] = []
    for height in heights:
        # bisect_left keeps the subsequence strictly increasing.
        index = bisect_left(tails, height)
        if index == len(tails):
            tails.append(height)
        else:
            tails[index] = height
    return len(tails)


def main() -> None:
    """Parse the input and print the answer."""
    data = sys.stdin.read().split()
    n = int(data[0])
    heights = [int(x) for x in data[1:1 + n]]
    print(longest_strictly_increasing(heights))


if __name__ == "__main__":
    main()
