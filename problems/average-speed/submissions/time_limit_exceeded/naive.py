# Recomputes every window from scratch: O(n * k).
import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + 2 * n:2]))
    t = list(map(int, data[3:3 + 2 * n:2]))
    best = 0.0
    for i in range(n - k + 1):
        ds = 0
        ts = 0
        for j in range(i, i + k):
            ds += d[j]
            ts += t[j]
        best = max(best, ds / ts)
    print(f"{best:.9f}")


main()
