import sys


def main() -> None:
    data = sys.stdin.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + n]))

    def days_needed(limit):
        days = 1
        cur = 0
        for v in d:
            if cur + v > limit:
                days += 1
                cur = v
            else:
                cur += v
        return days

    lo, hi = max(d), sum(d)
    while lo < hi:
        mid = (lo + hi) // 2
        if days_needed(mid) <= k:
            hi = mid
        else:
            lo = mid + 1
    print(lo)


main()
