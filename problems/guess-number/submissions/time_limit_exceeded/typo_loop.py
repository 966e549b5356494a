# Typo: "q + 1" instead of "q += 1", so this loop never ends (for N > 1) and no
# query is ever sent.
import sys


def main() -> None:
    n, k = map(int, sys.stdin.readline().split())
    q = 0
    while (1 << q) < n:
        q + 1
    lo, hi = 1, n
    while True:
        mid = (lo + hi) // 2
        print("?", mid, flush=True)
        reply = sys.stdin.readline().strip()
        if reply == "=":
            print("!", mid, flush=True)
            return
        if reply == "<":
            hi = mid - 1
        else:
            lo = mid + 1


main()
