import sys
from collections import Counter
from itertools import accumulate


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    a = map(int, data[2:2 + n])
    # two prefix sums with equal remainders delimit one divisible stretch
    cnt = Counter(p % k for p in accumulate(a, initial=0))
    print(sum(c * (c - 1) // 2 for c in cnt.values()))


main()
