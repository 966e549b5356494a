#!/usr/bin/env python3
"""Generates data/sample and data/secret for island-count (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAX = 500


def solve(rows):
    r, c = len(rows), len(rows[0])
    seen = [[False] * c for _ in range(r)]
    islands = largest = 0
    for i in range(r):
        for j in range(c):
            if rows[i][j] == "#" and not seen[i][j]:
                islands += 1
                seen[i][j] = True
                stack = [(i, j)]
                area = 0
                while stack:
                    y, x = stack.pop()
                    area += 1
                    for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                        if 0 <= ny < r and 0 <= nx < c and rows[ny][nx] == "#" and not seen[ny][nx]:
                            seen[ny][nx] = True
                            stack.append((ny, nx))
                largest = max(largest, area)
    return f"{islands} {largest}"


def write(folder, name, rows):
    r, c = len(rows), len(rows[0])
    assert 1 <= r <= MAX and 1 <= c <= MAX
    assert all(len(row) == c and set(row) <= set("#.") for row in rows)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{r} {c}\n" + "".join(row + "\n" for row in rows))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(solve(rows) + "\n")


def random_grid(rng, r, c, p):
    return ["".join("#" if rng.random() < p else "." for _ in range(c)) for _ in range(r)]


def serpentine(r, c):
    """One long snake of land: full rows joined at alternating ends."""
    rows = []
    for i in range(r):
        if i % 2 == 0:
            rows.append("#" * c)
        elif i % 4 == 1:
            rows.append("." * (c - 1) + "#")
        else:
            rows.append("#" + "." * (c - 1))
    return rows


def rings(n):
    """Concentric square rings of land and water."""
    rows = []
    for i in range(n):
        row = []
        for j in range(n):
            depth = min(i, j, n - 1 - i, n - 1 - j)
            row.append("#" if depth % 2 == 0 else ".")
        rows.append("".join(row))
    return rows


def main():
    rng = random.Random(77007)
    write("sample", "1", ["##..#", "#...#", "..#..", "....#"])
    write("sample", "2", [".#.", "#.#", ".#."])

    s = "secret"
    write(s, "01-single-water", ["."])
    write(s, "02-single-land", ["#"])
    write(s, "03-diagonals", ["#.#.#.", ".#.#.#", "#.#.#.", "######"])
    write(s, "04-small-random", random_grid(rng, 20, 30, 0.45))
    write(s, "05-full-land-max", ["#" * MAX] * MAX)
    write(s, "06-all-water-max", ["." * MAX] * MAX)
    write(s, "07-checkerboard-max",
          ["".join("#" if (i + j) % 2 == 0 else "." for j in range(MAX)) for i in range(MAX)])
    write(s, "08-random-max", random_grid(rng, MAX, MAX, 0.55))
    write(s, "09-serpentine-max", serpentine(MAX, MAX))
    write(s, "10-one-row", ["".join(rng.choice("##.") for _ in range(MAX))])
    write(s, "11-one-column", [rng.choice("#.#") for _ in range(MAX)])
    write(s, "12-rings-max", rings(MAX))


if __name__ == "__main__":
    main()
