# Crashes: first checks with a recursive flood fill whether any exit is reachable,
# then runs a BFS. The recursion goes as deep as the maze is large, far beyond
# Python's default limit of 1000 frames, so it dies with RecursionError.
import sys
from collections import deque


def main():
    data = sys.stdin.buffer.read().split()
    r, c = int(data[0]), int(data[1])
    g = [row.decode() for row in data[2:2 + r]]
    sr, sc = next((i, j) for i in range(r) for j in range(c) if g[i][j] == "S")
    seen = [[False] * c for _ in range(r)]

    def reach(i, j):
        if i < 0 or j < 0 or i >= r or j >= c or seen[i][j] or g[i][j] == "#":
            return False
        seen[i][j] = True
        if g[i][j] == "E":
            return True
        return reach(i + 1, j) or reach(i - 1, j) or reach(i, j + 1) or reach(i, j - 1)

    if not reach(sr, sc):
        print(-1)
        return
    dist = [[-1] * c for _ in range(r)]
    dist[sr][sc] = 0
    q = deque([(sr, sc)])
    while q:
        i, j = q.popleft()
        if g[i][j] == "E":
            print(dist[i][j])
            return
        for ni, nj in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= ni < r and 0 <= nj < c and g[ni][nj] != "#" and dist[ni][nj] < 0:
                dist[ni][nj] = dist[i][j] + 1
                q.append((ni, nj))


main()
