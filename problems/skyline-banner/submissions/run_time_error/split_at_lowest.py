# Crashes: divide and conquer. The best banner either uses the lowest building
# across the whole range or lies entirely left or right of it. On a rising
# skyline the lowest building is always the first one, so the recursion is n
# levels deep (RecursionError).
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    h = list(map(int, data[1:1 + n]))

    def best(lo, hi):  # buildings lo .. hi - 1
        if lo >= hi:
            return 0
        m = min(range(lo, hi), key=h.__getitem__)
        return max(h[m] * (hi - lo), best(lo, m), best(m + 1, hi))

    print(best(0, n))


main()
