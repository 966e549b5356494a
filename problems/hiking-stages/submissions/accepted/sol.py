import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + n]))

    def days_needed(x):
        """Days the greedy walker needs when no day may exceed x (x >= every d_i):
        keep walking while the day's total stays within x."""
        days, cur = 1, 0
        for v in d:
            cur += v
            if cur > x:
                days += 1
                cur = v
        return days

    # The answer is at least the longest segment and the average day. With
    # x = average + longest segment, every finished day walks more than the average,
    # so k days are always enough.
    longest, total = max(d), sum(d)
    lo = max(longest, (total + k - 1) // k)
    hi = lo + longest
    while lo < hi:
        mid = (lo + hi) // 2
        if days_needed(mid) <= k:
            hi = mid
        else:
            lo = mid + 1
    print(lo)


main()
