#!/usr/bin/env python3
"""Generates data/sample and data/secret for longest-climb (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
from bisect import bisect_left

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 10**5
MAXH = 10**6


def solve(h):
    tails = []  # tails[i] = smallest last height of a strictly rising run of length i + 1
    for x in h:
        i = bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


def brute(h):
    best = [1] * len(h)
    for i in range(len(h)):
        for j in range(i):
            if h[j] < h[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best)


def write(folder, name, h):
    assert 1 <= len(h) <= MAXN and all(1 <= x <= MAXH for x in h)
    ans = solve(h)
    if len(h) <= 2000:
        assert ans == brute(h), name
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(h)}\n{' '.join(map(str, h))}\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{ans}\n")


def main():
    rng = random.Random(314159)
    write("sample", "1", [3, 1, 4, 1, 5, 9, 2, 6])
    write("sample", "2", [5, 4, 3, 2, 1])

    s = "secret"
    # Keep the strictly increasing case early: it makes a deep memoized recursion
    # fail fast (see submissions/run_time_error).
    write(s, "01-single", [MAXH])
    write(s, "02-increasing-max", sorted(rng.sample(range(1, MAXH + 1), MAXN)))
    write(s, "03-all-equal-max", [777] * MAXN)
    write(s, "04-decreasing-max", sorted(rng.sample(range(1, MAXH + 1), MAXN), reverse=True))
    write(s, "05-small-duplicates", [rng.randint(1, 5) for _ in range(300)])
    write(s, "06-random-max", [rng.randint(1, MAXH) for _ in range(MAXN)])
    write(s, "07-random-small-values", [rng.randint(1, 1000) for _ in range(MAXN)])
    write(s, "08-doubled-staircase", [i // 2 + 1 for i in range(MAXN)])
    # Decreasing blocks, each block increasing: the best run stays inside one block
    # or picks at most one height per block.
    blocks = []
    for b in range(316):
        base = (316 - b) * 3000
        blocks += [base + 7 * j + 1 for j in range(316)]
    write(s, "09-blocks", blocks[:MAXN])
    evens = [2 * i + 2 for i in range(MAXN // 2)]
    odds = [MAXH - 2 * i - 1 for i in range(MAXN // 2)]
    zig = [x for pair in zip(evens, odds) for x in pair]
    write(s, "10-zigzag", zig)
    near = list(range(1, MAXN + 1))
    for _ in range(2000):
        i, j = rng.randrange(MAXN), rng.randrange(MAXN)
        near[i], near[j] = near[j], near[i]
    write(s, "11-nearly-sorted", near)
    write(s, "12-small-random", [rng.randint(1, 50) for _ in range(1500)])


if __name__ == "__main__":
    main()
