import sys


def main():
    vals = list(map(int, sys.stdin.read().split()))
    n, hs = vals[0], vals[1:]
    rank = {v: i + 1 for i, v in enumerate(sorted(set(hs)))}
    m = len(rank)
    bit = [0] * (m + 1)
    top = 0
    for h in hs[:n]:
        r = rank[h] - 1
        got = 0
        while r:
            got = max(got, bit[r])
            r &= r - 1
        got += 1
        top = max(top, got)
        r = rank[h]
        while r <= m:
            if bit[r] < got:
                bit[r] = got
            r += r & -r
    print(top)


main()
