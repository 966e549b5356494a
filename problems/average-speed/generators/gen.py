#!/usr/bin/env python3
"""Generates data/secret (and the sample answers) for average-speed.

Deterministic: run `python3 generators/gen.py`. Answers are computed exactly with
integers (the best window maximises D/T) and printed rounded to 9 decimals.
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
MAXN = 10**5
MAXV = 1000


def best(k, segs):
    """Exact maximum of (sum d)/(sum t) over windows of k consecutive segments."""
    d_sum = sum(d for d, _ in segs[:k])
    t_sum = sum(t for _, t in segs[:k])
    bd, bt = d_sum, t_sum
    for i in range(k, len(segs)):
        d_sum += segs[i][0] - segs[i - k][0]
        t_sum += segs[i][1] - segs[i - k][1]
        if d_sum * bt > bd * t_sum:
            bd, bt = d_sum, t_sum
    return bd, bt


def fmt(num, den):
    scaled = (num * 10**9 * 2 + den) // (2 * den)  # round half up
    return f"{scaled // 10**9}.{scaled % 10**9:09d}"


def write(base, k, segs):
    n = len(segs)
    assert 1 <= k <= n <= MAXN
    assert all(1 <= d <= MAXV and 1 <= t <= MAXV for d, t in segs)
    lines = [f"{n} {k}"] + [f"{d} {t}" for d, t in segs]
    with open(base + ".in", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(base + ".ans", "w") as f:
        f.write(fmt(*best(k, segs)) + "\n")


def rand_segs(rng, n, lo=1, hi=MAXV):
    return [(rng.randint(lo, hi), rng.randint(lo, hi)) for _ in range(n)]


def main() -> None:
    rng = random.Random(7151)
    cases = []
    cases.append(("single", 1, [(1000, 7)]))
    cases.append(("single-slow", 1, [(1, 1000)]))
    cases.append(("whole-route", 6, rand_segs(rng, 6)))
    cases.append(("k1-small", 1, rand_segs(rng, 10)))
    cases.append(("all-equal", 4, [(360, 40)] * 12))
    # mean of speeds differs a lot from the true average: fast short bits, slow long bits
    trap = []
    for i in range(20):
        trap.append((1000, 1000) if i % 2 else (1000, 1))
    cases.append(("mean-trap", 2, trap))
    cases.append(("random-small-1", 3, rand_segs(rng, 15)))
    cases.append(("random-small-2", 7, rand_segs(rng, 40)))
    cases.append(("random-mid", 250, rand_segs(rng, 1000)))
    # the best window is the very last one
    tail = rand_segs(rng, 2000, 1, 500) + [(1000, 1)] * 5
    cases.append(("best-at-end", 5, tail))
    # the best window is the very first one
    head = [(1000, 1)] * 5 + rand_segs(rng, 2000, 1, 500)
    cases.append(("best-at-start", 5, head))
    # long route, tiny values (small file)
    cases.append(("max-n-tiny-values", 31415, rand_segs(rng, MAXN, 1, 9)))
    # long routes, full range, naive O(n*k) is hopeless
    cases.append(("max-n-half-window", MAXN // 2, rand_segs(rng, MAXN)))
    cases.append(("max-n-k1", 1, rand_segs(rng, MAXN)))
    cases.append(("max-n-whole", MAXN, [(rng.randint(990, 1000), rng.randint(1, 3)) for _ in range(MAXN)]))
    # answers with many significant digits: sums just below/above round numbers
    cases.append(("precision", 3, [(999, 1000), (1000, 999), (997, 991), (1, 1000), (1000, 997)]))
    # every speed is tiny
    cases.append(("slowest", 2, [(1, 1000)] * 9 + [(2, 1000)]))

    secret = os.path.join(DATA, "secret")
    os.makedirs(secret, exist_ok=True)
    for idx, (name, k, segs) in enumerate(cases, 1):
        write(os.path.join(secret, f"{idx:02d}-{name}"), k, segs)

    sample = os.path.join(DATA, "sample")
    os.makedirs(sample, exist_ok=True)
    write(os.path.join(sample, "1"), 2, [(100, 20), (300, 30), (200, 50), (240, 12), (60, 30)])
    write(os.path.join(sample, "2"), 3, [(10, 3), (5, 4), (7, 2)])


if __name__ == "__main__":
    main()
