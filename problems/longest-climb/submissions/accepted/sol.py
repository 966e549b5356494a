import sys
from bisect import bisect_left


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    # tails[i] is the smallest possible last height of a strictly rising selection
    # of i + 1 peaks seen so far; it is strictly increasing, so binary search works.
    tails = []
    for x in map(int, data[1:1 + n]):
        i = bisect_left(tails, x)  # first tail >= x: x cannot extend it (strictly)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    print(len(tails))


main()
