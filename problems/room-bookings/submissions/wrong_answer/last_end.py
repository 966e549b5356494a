# Wrong: a booking that overlaps the current period sets its end to the booking's
# end, which shrinks the period when the booking lies inside it.
import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    vals = list(map(int, data[1:1 + 2 * n]))
    periods = []
    for s, e in sorted(zip(vals[0::2], vals[1::2])):
        if periods and s <= periods[-1][1]:
            periods[-1][1] = e
        else:
            periods.append([s, e])
    print(len(periods))
    print("\n".join(f"{s} {e}" for s, e in periods))


main()
