# Crashes: p[i] holds a[0] + ... + a[i] (0-based), but the 1-based query bounds
# are used as indices directly, so r = n is past the end (IndexError).
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    a = list(map(int, data[2:2 + n]))
    p = [0] * n
    acc = 0
    for i in range(n):
        acc += a[i]
        p[i] = acc
    out = []
    pos = 2 + n
    for _ in range(q):
        l, r = int(data[pos]), int(data[pos + 1])
        pos += 2
        out.append(p[r] - (p[l - 1] if l > 1 else 0))
    print("\n".join(map(str, out)))


main()
