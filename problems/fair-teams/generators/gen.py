#!/usr/bin/env python3
"""Generates data/sample and data/secret for fair-teams (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 100
MAXS = 1000


def solve(skills):
    total = sum(skills)
    reachable = {0}
    for s in skills:
        reachable |= {r + s for r in reachable}
    best = max(r for r in reachable if 2 * r <= total)
    return total - 2 * best


def write(folder, name, skills):
    assert 2 <= len(skills) <= MAXN and all(1 <= s <= MAXS for s in skills)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(skills)}\n{' '.join(map(str, skills))}\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{solve(skills)}\n")


def main():
    rng = random.Random(271828)
    write("sample", "1", [3, 1, 4, 2, 2])
    write("sample", "2", [10, 1, 2])

    s = "secret"
    write(s, "01-two-equal", [5, 5])
    write(s, "02-two-different", [1, 1000])
    write(s, "03-greedy-trap", [3, 3, 2, 2, 2])
    write(s, "04-one-giant", [1000] + [1] * 99)
    write(s, "05-all-ones-odd", [1] * 99)
    write(s, "06-small-random", [rng.randint(1, 50) for _ in range(10)])
    write(s, "07-max-random", [rng.randint(1, MAXS) for _ in range(MAXN)])
    write(s, "08-max-all-equal", [MAXS] * MAXN)
    write(s, "09-max-odd-values", [rng.randrange(1, MAXS, 2) for _ in range(MAXN - 1)])
    write(s, "10-powers-of-two", [2**k for k in range(10)] + [rng.randint(900, MAXS) for _ in range(40)])
    # Large, distinct-ish values where a greedy "give it to the weaker team" fails.
    trap = []
    for _ in range(MAXN // 5):
        a = rng.randint(300, 330)
        trap += [3 * a, 3 * a, 2 * a, 2 * a, 2 * a]
    rng.shuffle(trap)
    write(s, "11-max-greedy-traps", trap)
    write(s, "12-max-big-values", [rng.randint(950, MAXS) for _ in range(MAXN - 1)] + [1])


if __name__ == "__main__":
    main()
