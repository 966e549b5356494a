import sys
from bisect import bisect_left


def main() -> None:
    data = sys.stdin.read().split()
    n = int(data[0])
    tails = []
    for h in map(int, data[1:1 + n]):
        pos = bisect_left(tails, h)
        if pos == len(tails):
            tails.append(h)
        else:
            tails[pos] = h
    print(len(tails))


main()
