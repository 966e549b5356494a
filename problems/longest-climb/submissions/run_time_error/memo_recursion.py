# Crashes: "the longest climb starting at peak i" by memoized recursion. On a long
# rising sequence the recursion goes n levels deep (RecursionError).
import sys
from functools import lru_cache


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    h = list(map(int, data[1:1 + n]))

    @lru_cache(maxsize=None)
    def climb(i):
        best = 1
        for j in range(i + 1, n):
            if h[j] > h[i]:
                best = max(best, 1 + climb(j))
        return best

    print(max(climb(i) for i in range(n)))


main()
