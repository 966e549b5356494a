# Crashes: the recurrence ways(n) = ways(n-1) + ways(n-2) with memoization
# recurses n levels deep; any large n exceeds Python's recursion limit.
import sys
from functools import lru_cache

MOD = 10**9 + 7


@lru_cache(maxsize=None)
def ways(n):
    if n <= 1:
        return 1
    return (ways(n - 1) + ways(n - 2)) % MOD


def main():
    data = sys.stdin.read().split()
    t = int(data[0])
    print("\n".join(str(ways(int(x))) for x in data[1:1 + t]))


main()
