"""Maze Runner: shortest path from S to any exit E using breadth-first search."""
from collections import deque
import sys
from typing import List, Optional, Tuple


def find_start(maze: List[str]) -> Tuple[int, int]:
    """Return the (row, column) of the unique start cell."""
    for r, row in enumerate(maze):
        c = row.find("S")
        if c != -1:
            return r, c
    raise ValueError("no start cell")


def shortest_escape(maze: List[str]) -> Optional[int]:
    """Return the minimum number of moves to reach an exit, or None if impossible."""
    rows, cols = len(maze), len(maze[0])
    start = find_start(maze)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        if maze[r][c] == "E":
            return distance[(r, c)]
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            # Stay inside the grid, avoid walls and already visited cells.
            if 0 <= nr < rows and 0 <= nc < cols and maze[nr][nc] != "#" and (nr, nc) not in distance:
                distance[(nr, nc)] = distance[(r, c)] + 1
                queue.append((nr, nc))
    return None


def main() -> None:
    data = sys.stdin.read().split()
    rows = int(data[0])
    maze = data[2:2 + rows]
    answer = shortest_escape(maze)
    print(answer if answer is not None else -1)


if __name__ == "__main__":
    main()
