# Too slow: tries the daily limits max(d), max(d) + 1, ... one by one until the
# greedy walk fits into k days. The answer can be about 10^10 above max(d).
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    d = list(map(int, data[2:2 + n]))
    x = max(d)
    while True:
        days, cur = 1, 0
        for v in d:
            if cur + v > x:
                days += 1
                cur = v
            else:
                cur += v
        if days <= k:
            break
        x += 1
    print(x)


main()
