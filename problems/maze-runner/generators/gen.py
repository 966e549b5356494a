#!/usr/bin/env python3
"""Generates data/sample and data/secret for maze-runner (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
from collections import deque

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def solve(g):
    r, c = len(g), len(g[0])
    dist = [[-1] * c for _ in range(r)]
    (sr, sc), = [(i, j) for i in range(r) for j in range(c) if g[i][j] == "S"]
    dist[sr][sc] = 0
    q = deque([(sr, sc)])
    while q:
        i, j = q.popleft()
        if g[i][j] == "E":
            return dist[i][j]
        for ni, nj in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= ni < r and 0 <= nj < c and g[ni][nj] != "#" and dist[ni][nj] < 0:
                dist[ni][nj] = dist[i][j] + 1
                q.append((ni, nj))
    return -1


def write(folder, name, g):
    g = ["".join(row) for row in g]
    r, c = len(g), len(g[0])
    assert 1 <= r <= 1000 and 1 <= c <= 1000 and all(len(x) == c for x in g)
    flat = "".join(g)
    assert flat.count("S") == 1 and flat.count("E") >= 1
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{r} {c}\n" + "\n".join(g) + "\n")
    ans = solve(g)
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{ans}\n")
    return ans


def grid(r, c, ch="."):
    return [[ch] * c for _ in range(r)]


def random_grid(rng, r, c, p_wall):
    return [["#" if rng.random() < p_wall else "." for _ in range(c)] for _ in range(r)]


def place(rng, g, ch, count):
    free = [(i, j) for i in range(len(g)) for j in range(len(g[0])) if g[i][j] == "."]
    for i, j in rng.sample(free, count):
        g[i][j] = ch


def serpentine(r, c):
    g = grid(r, c)
    for i in range(1, r, 2):
        for j in range(c):
            g[i][j] = "#"
        g[i][c - 1 if (i // 2) % 2 == 0 else 0] = "."
    return g


def spiral(n):
    """Walls forming a square spiral; the corridor winds from the border to the centre."""
    g = grid(n, n, "#")
    i, j, di, dj = 0, 0, 0, 1
    g[0][0] = "."
    while True:
        moved = False
        for _ in range(2):
            ni, nj = i + 2 * di, j + 2 * dj
            if 0 <= ni < n and 0 <= nj < n and g[ni][nj] == "#":
                g[i + di][j + dj] = "."
                g[ni][nj] = "."
                i, j = ni, nj
                moved = True
                break
            di, dj = dj, -di
        if not moved:
            break
    return g, (i, j)


def perfect_maze(rng, h, w):
    """Random spanning tree (iterative DFS) on the cells (2a, 2b) of a (2h-1)x(2w-1) grid."""
    g = grid(2 * h - 1, 2 * w - 1, "#")
    seen = [[False] * w for _ in range(h)]
    stack = [(0, 0)]
    seen[0][0] = True
    g[0][0] = "."
    while stack:
        a, b = stack[-1]
        nbrs = [(a + da, b + db) for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= a + da < h and 0 <= b + db < w and not seen[a + da][b + db]]
        if not nbrs:
            stack.pop()
            continue
        na, nb = rng.choice(nbrs)
        seen[na][nb] = True
        g[2 * na][2 * nb] = "."
        g[a + na][b + nb] = "."
        stack.append((na, nb))
    return g


def main():
    rng = random.Random(1000003)
    write("sample", "1", [list(x) for x in [
        "S.#....E",
        ".##.##.#",
        "....#...",
        "#.#.#.#.",
        "E.#...#.",
    ]])
    write("sample", "2", [list(x) for x in [
        "S.#E",
        "..#.",
        "###.",
    ]])

    s = "secret"
    write(s, "01-tiny", [list("SE")])
    write(s, "02-tiny-blocked", [list("S#E")])
    write(s, "03-enclosed", [list(x) for x in ["E.E", ".#.", "#S#", ".#.", "E.E"]])
    g = grid(1, 1000)
    g[0][0], g[0][999] = "S", "E"
    write(s, "04-row", g)
    g = grid(1000, 1)
    g[999][0], g[0][0] = "S", "E"
    write(s, "05-column", g)
    g = grid(400, 400)
    g[0][0], g[399][399] = "S", "E"
    write(s, "06-open", g)
    g = serpentine(1000, 1000)
    g[0][0] = "S"
    g[999][999] = "E"
    write(s, "07-serpentine-max", g)
    g = perfect_maze(rng, 500, 500)
    g[0][0] = "S"
    g[998][998] = "E"
    g[998][0] = "E"
    write(s, "08-perfect-maze-max", g)
    g = random_grid(rng, 1000, 700, 0.3)
    place(rng, g, "S", 1)
    place(rng, g, "E", 6)
    write(s, "09-random-exits", g)
    g, centre = spiral(501)
    g[0][0] = "S"
    g[centre[0]][centre[1]] = "E"
    write(s, "10-spiral", g)
    g = random_grid(rng, 300, 300, 0.25)
    for i in range(140, 161):
        for j in range(140, 161):
            g[i][j] = "#" if max(abs(i - 150), abs(j - 150)) == 10 else "."
    g[150][150] = "E"
    g[0][0] = "S"
    write(s, "11-exit-walled-in", g)
    g = random_grid(rng, 200, 200, 0.2)
    place(rng, g, "E", 5000)
    place(rng, g, "S", 1)
    write(s, "12-many-exits", g)
    g = random_grid(rng, 300, 300, 0.42)
    place(rng, g, "S", 1)
    place(rng, g, "E", 3)
    write(s, "13-dense-walls", g)
    g = grid(2, 1000)
    for j in range(1, 999, 2):
        g[j % 4 == 1][j] = "#"
    g[0][0], g[1][999] = "S", "E"
    write(s, "14-two-rows-zigzag", g)
    g = random_grid(rng, 100, 100, 0.3)
    place(rng, g, "S", 1)
    place(rng, g, "E", 1)
    write(s, "15-random-small", g)
    # the first exit in reading order is far away, a second one is close to S
    g = grid(50, 60)
    g[0][59] = "E"
    g[49][0] = "S"
    g[45][3] = "E"
    write(s, "16-nearest-not-first", g)
    g = grid(3, 3)
    g[1][1] = "S"
    g[1][2] = "E"
    write(s, "17-adjacent", g)


if __name__ == "__main__":
    main()
