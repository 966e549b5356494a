import sys
from bisect import bisect_left


def main() -> None:
    data = sys.stdin.read().split()
    n, k = int(data[0]), int(data[1])
    legs = [int(x) for x in data[2:2 + n]]

    def ok(cap: int) -> bool:
        groups, load = 1, 0
        for leg in legs:
            if load + leg <= cap:
                load += leg
            else:
                groups += 1
                load = leg
        return groups <= k

    low = max(legs)
    answers = range(low, sum(legs) + 1)
    print(low + bisect_left(answers, True, key=ok))


main()
