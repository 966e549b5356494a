# Too slow: no sorting; every booking is compared with every period found so far
# and merged into the ones it overlaps or touches. Quadratic for disjoint bookings.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    periods = []
    for i in range(n):
        s, e = int(data[1 + 2 * i]), int(data[2 + 2 * i])
        keep = []
        for ps, pe in periods:
            if pe < s or e < ps:
                keep.append((ps, pe))
            else:
                s, e = min(s, ps), max(e, pe)
        keep.append((s, e))
        periods = keep
    periods.sort()
    print(len(periods))
    print("\n".join(f"{s} {e}" for s, e in periods))


main()
