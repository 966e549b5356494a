# Wrong: an iterative depth-first search stops at the first exit it finds and
# prints the length of that path, which need not be the shortest one.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    r, c = int(data[0]), int(data[1])
    g = [row.decode() for row in data[2:2 + r]]
    start = next((i, j) for i in range(r) for j in range(c) if g[i][j] == "S")
    depth = {start: 0}
    stack = [start]
    while stack:
        i, j = stack.pop()
        if g[i][j] == "E":
            print(depth[(i, j)])
            return
        for ni, nj in ((i + 1, j), (i, j + 1), (i - 1, j), (i, j - 1)):
            if 0 <= ni < r and 0 <= nj < c and g[ni][nj] != "#" and (ni, nj) not in depth:
                depth[(ni, nj)] = depth[(i, j)] + 1
                stack.append((ni, nj))
    print(-1)


main()
