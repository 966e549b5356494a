import sys
from collections import deque


def main() -> None:
    data = sys.stdin.read().split()
    rows, cols = int(data[0]), int(data[1])
    land = [[ch == "#" for ch in data[2 + i]] for i in range(rows)]
    islands = 0
    best = 0
    for sr in range(rows):
        for sc in range(cols):
            if not land[sr][sc]:
                continue
            islands += 1
            land[sr][sc] = False
            queue = deque([(sr, sc)])
            area = 0
            while queue:
                r, c = queue.popleft()
                area += 1
                if r > 0 and land[r - 1][c]:
                    land[r - 1][c] = False
                    queue.append((r - 1, c))
                if r + 1 < rows and land[r + 1][c]:
                    land[r + 1][c] = False
                    queue.append((r + 1, c))
                if c > 0 and land[r][c - 1]:
                    land[r][c - 1] = False
                    queue.append((r, c - 1))
                if c + 1 < cols and land[r][c + 1]:
                    land[r][c + 1] = False
                    queue.append((r, c + 1))
            best = max(best, area)
    print(islands, best)


main()
