import sys


def main() -> None:
    n, k = map(int, sys.stdin.readline().split())
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
