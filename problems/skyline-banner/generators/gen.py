#!/usr/bin/env python3
"""Generates data/sample and data/secret for skyline-banner (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 10**5
MAXH = 10**6


def solve(h):
    """For every building, the widest range where it is the lowest: nearest lower
    building on each side, found with a monotonic stack."""
    n = len(h)
    left = [0] * n
    stack = []
    for i in range(n):
        while stack and h[stack[-1]] >= h[i]:
            stack.pop()
        left[i] = stack[-1] + 1 if stack else 0
        stack.append(i)
    right = [0] * n
    stack = []
    for i in range(n - 1, -1, -1):
        while stack and h[stack[-1]] >= h[i]:
            stack.pop()
        right[i] = stack[-1] - 1 if stack else n - 1
        stack.append(i)
    return max(h[i] * (right[i] - left[i] + 1) for i in range(n))


def brute(h):
    best = 0
    for i in range(len(h)):
        low = h[i]
        for j in range(i, len(h)):
            low = min(low, h[j])
            best = max(best, low * (j - i + 1))
    return best


def write(folder, name, h):
    assert 1 <= len(h) <= MAXN and all(1 <= x <= MAXH for x in h)
    ans = solve(h)
    if len(h) <= 3000:
        assert ans == brute(h), name
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(h)}\n{' '.join(map(str, h))}\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{ans}\n")


def main():
    rng = random.Random(6021023)
    write("sample", "1", [2, 1, 4, 5, 1, 3, 3])
    write("sample", "2", [6, 2, 5, 4, 5, 1])

    s = "secret"
    write(s, "01-single", [MAXH])
    write(s, "02-two", [3, 5])
    # A rising skyline early on: splitting at the lowest building recurses n deep.
    write(s, "03-increasing-small", list(range(1, 3001)))
    write(s, "04-all-equal-max", [MAXH] * MAXN)
    write(s, "05-decreasing-max", [MAXH - 5 * i for i in range(MAXN)])
    write(s, "06-random-max", [rng.randint(1, MAXH) for _ in range(MAXN)])
    write(s, "07-random-low-max", [rng.randint(1, 10) for _ in range(MAXN)])
    half = MAXN // 2
    write(s, "08-valley", [MAXH - 19 * i for i in range(half)] + [MAXH - 19 * (half - 1 - i) for i in range(half)])
    write(s, "09-pyramid", [10 * (i + 1) for i in range(half)] + [10 * (half - i) for i in range(half)])
    write(s, "10-sawtooth", [(i % 1000) * 1000 + 1 for i in range(MAXN)])
    spike = [1] * MAXN
    spike[rng.randrange(MAXN)] = MAXH
    write(s, "11-one-spike", spike)
    write(s, "12-small-random", [rng.randint(20, 100) for _ in range(2000)])


if __name__ == "__main__":
    main()
