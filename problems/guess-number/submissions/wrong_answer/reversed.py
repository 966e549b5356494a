# Reads "<" as "the hidden number is larger" (backwards), so it searches the wrong half
# and finally claims a wrong number.
import sys


def main() -> None:
    n, k = map(int, sys.stdin.readline().split())
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        print("?", mid, flush=True)
        reply = sys.stdin.readline().strip()
        if reply == "=":
            lo = hi = mid
        elif reply == "<":
            lo = mid + 1
        else:
            hi = mid - 1
    print("!", lo, flush=True)


main()
