# Correct window, but prints only two digits after the decimal point.
import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + 2 * n:2]))
    t = list(map(int, data[3:3 + 2 * n:2]))
    ds = sum(d[:k])
    ts = sum(t[:k])
    best = ds / ts
    for i in range(k, n):
        ds += d[i] - d[i - k]
        ts += t[i] - t[i - k]
        best = max(best, ds / ts)
    print(f"{best:.2f}")


main()
