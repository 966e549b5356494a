# Crashes: a memoised recursion from the top step down. For n above ~1000 the
# recursion exceeds Python's default depth limit (RecursionError).
import sys
from functools import lru_cache

MOD = 10**9 + 7


def main():
    data = sys.stdin.buffer.read().split()
    n, k, m = int(data[0]), int(data[1]), int(data[2])
    blocked = set(int(t) for t in data[3:3 + m])

    @lru_cache(maxsize=None)
    def ways(i):
        if i == 0:
            return 1
        if i in blocked:
            return 0
        return sum(ways(j) for j in range(i - 1, max(0, i - k) - 1, -1)) % MOD

    print(ways(n))


main()
