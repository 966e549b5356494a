# Wrong: the binary search starts at 1 and the greedy check never notices a
# segment that is longer than the daily limit on its own; it just starts a new
# day with it. Such limits look feasible, so the answer comes out too small.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + n]))

    def days_needed(x):
        days, cur = 1, 0
        for v in d:
            if cur + v > x:
                days += 1
                cur = v
            else:
                cur += v
        return days

    lo, hi = 1, sum(d)
    while lo < hi:
        mid = (lo + hi) // 2
        if days_needed(mid) <= k:
            hi = mid
        else:
            lo = mid + 1
    print(lo)


main()
