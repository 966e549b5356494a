import sys


def main():
    tokens = sys.stdin.buffer.read().split()
    n, k = int(tokens[0]), int(tokens[1])
    legs = list(map(int, tokens[2:2 + n]))

    def count_days(cap):
        used, walked = 1, 0
        for leg in legs:
            walked += leg
            if walked > cap:
                used += 1
                walked = leg
        return used

    top, total = max(legs), sum(legs)
    lo = max(top, (total + k - 1) // k)
    hi = lo + top
    while lo < hi:
        mid = (lo + hi) // 2
        if count_days(mid) <= k:
            hi = mid
        else:
            lo = mid + 1
    print(lo)


main()
