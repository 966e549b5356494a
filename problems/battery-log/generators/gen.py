#!/usr/bin/env python3
"""Generates data/sample and data/secret for battery-log (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random
from itertools import accumulate

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = MAXQ = 5 * 10**4
MAXA = 10**5


def write(folder, name, a, queries):
    n, q = len(a), len(queries)
    assert 1 <= n <= MAXN and 1 <= q <= MAXQ
    assert all(-MAXA <= x <= MAXA for x in a)
    assert all(1 <= l <= r <= n for l, r in queries)
    p = [0] + list(accumulate(a))
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{n} {q}\n{' '.join(map(str, a))}\n")
        f.write("".join(f"{l} {r}\n" for l, r in queries))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write("".join(f"{p[r] - p[l - 1]}\n" for l, r in queries))


def rand_query(rng, n):
    l, r = rng.randint(1, n), rng.randint(1, n)
    return (min(l, r), max(l, r))


def main():
    rng = random.Random(5550123)
    write("sample", "1", [3, -1, 4, -1, 5], [(1, 5), (2, 3), (4, 4)])
    write("sample", "2", [100000, 100000, -100000], [(1, 2), (2, 3), (3, 3)])

    s = "secret"
    write(s, "01-single", [-7], [(1, 1)])
    a = [rng.randint(-20, 20) for _ in range(10)]
    write(s, "02-small", a, [rand_query(rng, 10) for _ in range(30)])
    n = 1000
    write(s, "03-all-negative", [rng.randint(-MAXA, -1) for _ in range(n)],
          [rand_query(rng, n) for _ in range(1000)])
    n = MAXN
    write(s, "04-max-whole-range", [MAXA] * n, [(1, n)] * MAXQ)
    a = [-MAXA] * n
    write(s, "05-max-negative", a, [(1, n) if i % 2 else rand_query(rng, n) for i in range(MAXQ)])
    a = [rng.randint(-MAXA, MAXA) for _ in range(n)]
    write(s, "06-random-max", a, [rand_query(rng, n) for _ in range(MAXQ)])
    write(s, "07-single-minutes", a, [(i, i) for i in (rng.randint(1, n) for _ in range(MAXQ))])
    qs = [(1, rng.randint(1, n)) if rng.random() < 0.5 else (rng.randint(1, n), n)
          for _ in range(MAXQ)]
    write(s, "08-prefixes-and-suffixes", a, qs)
    a = [MAXA if i % 2 == 0 else -MAXA for i in range(n)]
    write(s, "09-alternating", a, [rand_query(rng, n) for _ in range(MAXQ)])
    a = [0] * n
    for i in rng.sample(range(n), 50):
        a[i] = rng.choice([-MAXA, MAXA])
    write(s, "10-mostly-zero", a, [rand_query(rng, n) for _ in range(20000)])


if __name__ == "__main__":
    main()
