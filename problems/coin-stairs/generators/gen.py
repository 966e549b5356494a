#!/usr/bin/env python3
"""Generates data/sample and data/secret for coin-stairs (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MOD = 10**9 + 7
MAXN = 10**6


def solve(n, k, coins):
    blocked = bytearray(n + 1)
    for p in coins:
        blocked[p] = 1
    ways = [0] * (n + 1)
    ways[0] = 1
    window = 1  # ways[max(0, i-k)] + ... + ways[i-1]
    for i in range(1, n + 1):
        w = 0 if blocked[i] else window
        ways[i] = w
        window += w
        if i >= k:
            window -= ways[i - k]
        window %= MOD
    return ways[n]


def write(folder, name, n, k, coins):
    coins = sorted(set(coins))
    assert 1 <= k <= n <= MAXN and len(coins) <= 2 * 10**5
    assert all(1 <= p <= n for p in coins)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{n} {k} {len(coins)}\n{' '.join(map(str, coins))}\n")
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{solve(n, k, coins)}\n")


def random_coins(rng, n, m, avoid_top=True):
    hi = n - 1 if avoid_top else n
    return rng.sample(range(1, hi + 1), m)


def main():
    rng = random.Random(31415926)
    write("sample", "1", 5, 2, [3])
    write("sample", "2", 6, 3, [])
    write("sample", "3", 4, 1, [2])

    s = "secret"
    write(s, "01-one-step", 1, 1, [])
    write(s, "02-one-step-coin", 1, 1, [1])
    write(s, "03-fib-small", 5, 2, [])
    write(s, "04-k1-max", MAXN, 1, [])
    write(s, "05-k2-max", MAXN, 2, [])
    write(s, "06-kn-max", MAXN, MAXN, [])
    write(s, "07-k10-many-coins", MAXN, 10, random_coins(rng, MAXN, 100000))
    write(s, "08-k1000", MAXN, 1000, random_coins(rng, MAXN, 50000))
    write(s, "09-k-half", MAXN, 500000, random_coins(rng, MAXN, 1000))
    write(s, "10-coin-on-top", MAXN, 37, random_coins(rng, MAXN - 1, 1000) + [MAXN])
    write(s, "11-wall-of-k", MAXN, 100, list(range(500000, 500100)))
    write(s, "12-wall-of-k-minus-1", MAXN, 100, list(range(500000, 500099)))
    write(s, "13-first-step-coin", 999999, 999999, [1])
    write(s, "14-every-tenth", 500000, 9, list(range(10, 500000, 10)))
    write(s, "15-odd-only", 59999, 2, list(range(2, 59999, 2)))
    write(s, "16-small-random", 1000, 1000, random_coins(rng, 1000, 300))
    write(s, "17-small-k3", 30, 3, [4, 5, 11, 20, 21, 28])
    write(s, "18-dense-coins", 100000, 50, random_coins(rng, 100000, 75000))
    write(s, "19-k-max-minus-1", MAXN, MAXN - 1, random_coins(rng, MAXN, 20))


if __name__ == "__main__":
    main()
