# Crashes: a recursive flood fill. A big island needs a recursion depth far beyond
# Python's default limit of 1000 (RecursionError).
import sys


def main():
    data = sys.stdin.read().split()
    r, c = int(data[0]), int(data[1])
    g = [list(row) for row in data[2:2 + r]]

    def fill(y, x):
        if y < 0 or y >= r or x < 0 or x >= c or g[y][x] != "#":
            return 0
        g[y][x] = "."
        return 1 + fill(y - 1, x) + fill(y + 1, x) + fill(y, x - 1) + fill(y, x + 1)

    islands = largest = 0
    for i in range(r):
        for j in range(c):
            if g[i][j] == "#":
                islands += 1
                largest = max(largest, fill(i, j))
    print(islands, largest)


main()
