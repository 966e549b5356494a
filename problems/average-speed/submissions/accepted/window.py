import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + 2 * n:2]))
    t = list(map(int, data[3:3 + 2 * n:2]))
    ds = sum(d[:k])
    ts = sum(t[:k])
    best_d, best_t = ds, ts
    for i in range(k, n):
        ds += d[i] - d[i - k]
        ts += t[i] - t[i - k]
        if ds * best_t > best_d * ts:  # exact comparison of ds/ts and best_d/best_t
            best_d, best_t = ds, ts
    print(f"{best_d / best_t:.9f}")


main()
