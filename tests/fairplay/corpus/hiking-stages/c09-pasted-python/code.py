import sys

def main():
    it = iter(map(int, sys.stdin.read().split()))
    n = next(it); k = next(it)
    arr = [next(it) for _ in range(n)]
    def check(x):
        cnt, s = 1, 0
        for a in arr:
            if s + a > x:
                cnt += 1; s = a
            else:
                s += a
        return cnt <= k
    l, r = max(arr), sum(arr)
    while l < r:
        m = (l + r) >> 1
        if check(m): r = m
        else: l = m + 1
    print(l)

main()
