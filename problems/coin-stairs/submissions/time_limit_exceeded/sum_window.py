# Too slow: recomputes the sum of the last k values for every step, O(n * k).
import sys

MOD = 10**9 + 7


def main():
    data = sys.stdin.buffer.read().split()
    n, k, m = int(data[0]), int(data[1]), int(data[2])
    blocked = set(int(t) for t in data[3:3 + m])
    ways = [0] * (n + 1)
    ways[0] = 1
    for i in range(1, n + 1):
        if i not in blocked:
            ways[i] = sum(ways[max(0, i - k):i]) % MOD
    print(ways[n])


main()
