import sys


def main() -> None:
    data = sys.stdin.read().split()
    n = int(data[0])
    piles = []
    for tok in data[1:n + 1]:
        h = int(tok)
        lo, hi = 0, len(piles)
        while lo < hi:
            mid = (lo + hi) // 2
            if piles[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(piles):
            piles.append(h)
        else:
            piles[lo] = h
    print(len(piles))


main()
