# Too slow: for every building, walks left and right while the neighbours are at
# least as high. Equal heights make every walk n long: O(n^2).
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    h = list(map(int, data[1:1 + n]))
    best = 0
    for i in range(n):
        x = h[i]
        lo = i
        while lo > 0 and h[lo - 1] >= x:
            lo -= 1
        hi = i
        while hi < n - 1 and h[hi + 1] >= x:
            hi += 1
        best = max(best, x * (hi - lo + 1))
    print(best)


main()
