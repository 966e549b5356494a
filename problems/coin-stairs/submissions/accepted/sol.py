import sys

MOD = 10**9 + 7


def main():
    data = sys.stdin.buffer.read().split()
    n, k, m = int(data[0]), int(data[1]), int(data[2])
    blocked = bytearray(n + 1)
    for t in data[3:3 + m]:
        blocked[int(t)] = 1
    ways = [0] * (n + 1)
    ways[0] = 1
    window = 1  # ways[max(0, i - k)] + ... + ways[i - 1], modulo MOD
    for i in range(1, n + 1):
        w = 0 if blocked[i] else window
        ways[i] = w
        window += w
        if i >= k:
            window -= ways[i - k]
        window %= MOD
    print(ways[n])


main()
