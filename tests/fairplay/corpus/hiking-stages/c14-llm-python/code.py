"""Hiking Stages: minimise the longest day when splitting the trail into exactly k days."""
import sys
from typing import List


def can_complete(segments: List[int], days: int, limit: int) -> bool:
    """Check whether the segments fit into at most `days` days with no day above `limit`.

    Using fewer days is fine: any day with several segments can be split further,
    so exactly `days` days are then also possible.
    """
    used_days = 1
    current = 0
    for length in segments:
        if current + length > limit:
            used_days += 1
            current = length
        else:
            current += length
    return used_days <= days


def solve() -> None:
    """Read the input and print the smallest possible longest day."""
    data = sys.stdin.read().split()
    n, k = int(data[0]), int(data[1])
    segments = [int(value) for value in data[2:2 + n]]

    # Binary search over the answer space [max(segments), sum(segments)].
    low, high = max(segments), sum(segments)
    while low < high:
        mid = (low + high) // 2
        if can_complete(segments, k, mid):
            high = mid
        else:
            low = mid + 1
    print(low)


if __name__ == "__main__":
    solve()
