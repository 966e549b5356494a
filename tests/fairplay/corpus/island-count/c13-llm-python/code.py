"""Island Count: count 4-connected islands of land and the area of the largest one."""
from __future__ import annotations

import sys
from collections import deque
from typing import List, Tuple


def read_grid() -> Tuple[int, int, List[str]]:
    """Read the grid dimensions and rows from standard input."""
    rows, cols = map(int, sys.stdin.readline().split())
    grid = [sys.stdin.readline().strip() for _ in range(rows)]
    return rows, cols, grid


def explore(grid: List[str], visited: List[List[bool]], start: Tuple[int, int]) -> int:
    """Breadth-first search from `start`, marking cells as visited; returns the island area."""
    rows, cols = len(grid), len(grid[0])
    queue: deque[Tuple[int, int]] = deque([start])
    visited[start[0]][start[1]] = True
    area = 0
    while queue:
        r, c = queue.popleft()
        area += 1
        # Explore the four orthogonal neighbours.
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and not visited[nr][nc] and grid[nr][nc] == "#":
                visited[nr][nc] = True
                queue.append((nr, nc))
    return area


def solve() -> None:
    """Count the islands and print the count together with the largest area."""
    rows, cols, grid = read_grid()
    visited = [[False] * cols for _ in range(rows)]
    island_count = 0
    largest_area = 0
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] == "#" and not visited[r][c]:
                island_count += 1
                largest_area = max(largest_area, explore(grid, visited, (r, c)))
    print(island_count, largest_area)


if __name__ == "__main__":
    solve()
