#!/usr/bin/env python3
"""Generates data/sample and data/secret for subtask-sum (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
from collections import Counter
from itertools import accumulate

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXV = 10**9


def solve(k, a):
    cnt = Counter(p % k for p in accumulate(a, initial=0))
    return sum(c * (c - 1) // 2 for c in cnt.values())


def write(folder, name, k, a):
    assert 1 <= len(a) <= (1000 if folder.endswith("group1") else 10**5) and 1 <= k <= MAXV
    assert all(-MAXV <= x <= MAXV for x in a)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(a)} {k}\n{' '.join(map(str, a))}\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{solve(k, a)}\n")


def rand_arr(rng, n, lo, hi):
    return [rng.randint(lo, hi) for _ in range(n)]


def colliding(rng, n, k, zero_prob):
    """Values that are 0 or +-multiples of k (many equal prefix sums) or random."""
    a = []
    for _ in range(n):
        r = rng.random()
        if r < zero_prob:
            a.append(0)
        elif r < zero_prob + 0.3:
            a.append(rng.choice([-1, 1]) * k * rng.randint(0, MAXV // k))
        else:
            a.append(rng.randint(-MAXV, MAXV))
    return a


def main():
    rng = random.Random(20240601)
    # samples (also shown in the statement)
    write("sample", "1", 3, [1, 2, 3, -3, 4])
    write("sample", "2", 10, [-7, 7, -10, 3])

    g1 = "secret/group1"
    write(g1, "01-single-yes", 7, [-14])
    write(g1, "02-single-no", 1000000000, [999999999])
    write(g1, "03-k1", 1, rand_arr(rng, 1000, -MAXV, MAXV))
    write(g1, "04-zeros", 1000000000, [0] * 1000)
    write(g1, "05-small-k-neg", 3, rand_arr(rng, 1000, -10, 10))
    write(g1, "06-random-k7", 7, rand_arr(rng, 1000, -MAXV, MAXV))
    write(g1, "07-maxabs", 999999999, [rng.choice([-MAXV, MAXV]) for _ in range(1000)])
    write(g1, "08-collide", 999983, colliding(rng, 1000, 999983, 0.2))
    write(g1, "09-neg-only", 13, rand_arr(rng, 997, -MAXV, -1))
    write(g1, "10-k-big-small-vals", 123456789, rand_arr(rng, 1000, 0, 3))

    g2 = "secret/group2"
    n = 100000
    write(g2, "01-k1-max", 1, rand_arr(rng, n, -99, 99))
    write(g2, "02-zeros-max", 1000000000, [0] * n)
    write(g2, "03-k2-max", 2, rand_arr(rng, n, -9, 9))
    write(g2, "04-k7-neg", 7, rand_arr(rng, n, -99, 99))
    write(g2, "05-k-prime-collide", 999999937, colliding(rng, 40000, 999999937, 0.5))
    write(g2, "06-k-big-random", 1000000000, rand_arr(rng, 30000, -MAXV, MAXV))
    write(g2, "07-k-mid", 19997, rand_arr(rng, 20000, -MAXV, MAXV))
    write(g2, "08-neg-small", 3, rand_arr(rng, n, -5, -1))
    write(g2, "09-maxabs-walk", 999999999, [rng.choice([-MAXV, MAXV]) for _ in range(20000)])
    write(g2, "10-alternating", 10, [5 if i % 2 == 0 else -5 for i in range(n)])
    write(g2, "11-mid-n", 1000, rand_arr(rng, 4321, -MAXV, MAXV))
    write(g2, "12-n1001", 5, rand_arr(rng, 1001, -MAXV, MAXV))

if __name__ == "__main__":
    main()
