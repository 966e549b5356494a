# Brute force over all stretches: O(n^2). Fast enough for group 1 (n <= 1000),
# far too slow for group 2, so it scores 30 points.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    a = list(map(int, data[2:2 + n]))
    ans = 0
    for l in range(n):
        s = 0
        for r in range(l, n):
            s += a[r]
            if s % k == 0:
                ans += 1
    print(ans)


main()
