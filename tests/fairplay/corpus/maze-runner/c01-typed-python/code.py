import sys
from collections import deque


def main() -> None:
    data = sys.stdin.read().split()
    rows, cols = int(data[0]), int(data[1])
    maze = data[2:2 + rows]
    dist = [[-1] * cols for _ in range(rows)]
    q = deque()
    for r in range(rows):
        c = maze[r].find("S")
        if c >= 0:
            dist[r][c] = 0
            q.append((r, c))
    while q:
        r, c = q.popleft()
        if maze[r][c] == "E":
            print(dist[r][c])
            return
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < rows and 0 <= nc < cols and dist[nr][nc] < 0 and maze[nr][nc] != "#":
                dist[nr][nc] = dist[r][c] + 1
                q.append((nr, nc))
    print(-1)


main()
