#!/usr/bin/env python3
"""Generates data/sample and data/secret for hiking-stages (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 5 * 10**4
MAXD = 10**6


def days_needed(d, x):
    days, cur = 1, 0
    for v in d:
        if cur + v > x:
            days += 1
            cur = v
        else:
            cur += v
    return days


def solve(d, k):
    lo, hi = max(d), sum(d)
    while lo < hi:
        mid = (lo + hi) // 2
        if days_needed(d, mid) <= k:
            hi = mid
        else:
            lo = mid + 1
    return lo


def brute(d, k):
    """Exact DP for small inputs: best[j][i] = min max-day over the first i segments in j days."""
    n = len(d)
    pre = [0]
    for v in d:
        pre.append(pre[-1] + v)
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0
    for j in range(1, k + 1):
        for i in range(1, n + 1):
            best[j][i] = min(max(best[j - 1][t], pre[i] - pre[t]) for t in range(i))
    return best[k][n]


def write(folder, name, d, k):
    n = len(d)
    assert 1 <= k <= n <= MAXN and all(1 <= v <= MAXD for v in d)
    ans = solve(d, k)
    if n <= 60:
        assert ans == brute(d, k), name
    dd = os.path.join(ROOT, folder)
    os.makedirs(dd, exist_ok=True)
    with open(os.path.join(dd, name + ".in"), "w") as f:
        f.write(f"{n} {k}\n{' '.join(map(str, d))}\n")
    with open(os.path.join(dd, name + ".ans"), "w") as f:
        f.write(f"{ans}\n")


def rand_list(rng, n, lo=1, hi=MAXD):
    return [rng.randint(lo, hi) for _ in range(n)]


def main():
    rng = random.Random(9001)
    write("sample", "1", [7, 2, 5, 10, 8], 2)
    write("sample", "2", [4, 4, 4, 4, 4, 4], 3)

    s = "secret"
    write(s, "01-single-segment", [MAXD], 1)
    write(s, "02-one-segment-a-day", rand_list(rng, 50), 50)
    write(s, "03-one-day", rand_list(rng, 100), 1)
    write(s, "04-small-random", rand_list(rng, 40, 1, 30), 6)
    write(s, "05-long-first-segment", [MAXD] + rand_list(rng, 59, 1, 1000), 30)
    write(s, "06-max-all-equal", [MAXD] * MAXN, 7)
    write(s, "07-max-two-days", rand_list(rng, MAXN), 2)
    write(s, "08-max-k1000", rand_list(rng, MAXN), 1000)
    write(s, "09-max-k-n-minus-1", rand_list(rng, MAXN), MAXN - 1)
    write(s, "10-max-k-half", rand_list(rng, MAXN, 1, 100), MAXN // 2)
    write(s, "11-max-increasing", sorted(rand_list(rng, MAXN)), 123)
    write(s, "12-max-spiky", [MAXD if i % 1000 == 0 else rng.randint(1, 10) for i in range(MAXN)], 40)


if __name__ == "__main__":
    main()
