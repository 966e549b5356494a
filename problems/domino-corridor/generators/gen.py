#!/usr/bin/env python3
"""Generates data/sample and data/secret for domino-corridor (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MOD = 10**9 + 7
MAXT = 1000
MAXN = 10**18


def mat_mul(x, y):
    return [[(x[0][0] * y[0][0] + x[0][1] * y[1][0]) % MOD, (x[0][0] * y[0][1] + x[0][1] * y[1][1]) % MOD],
            [(x[1][0] * y[0][0] + x[1][1] * y[1][0]) % MOD, (x[1][0] * y[0][1] + x[1][1] * y[1][1]) % MOD]]


def tilings(n):
    """ways(n) = ways(n-1) + ways(n-2), ways(0) = ways(1) = 1; by 2x2 matrix powers
    (a different method from the reference solutions, which use fast doubling)."""
    result = [[1, 0], [0, 1]]
    base = [[1, 1], [1, 0]]
    e = n
    while e:
        if e & 1:
            result = mat_mul(result, base)
        base = mat_mul(base, base)
        e >>= 1
    # [[1,1],[1,0]]^n = [[F(n+1), F(n)], [F(n), F(n-1)]] and ways(n) = F(n+1).
    return result[0][0]


def write(folder, name, ns):
    assert 1 <= len(ns) <= MAXT and all(1 <= n <= MAXN for n in ns)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(ns)}\n" + "".join(f"{n}\n" for n in ns))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write("".join(f"{tilings(n)}\n" for n in ns))


def main():
    # Check the matrix method against the plain recurrence.
    ways = [1, 1]
    for i in range(2, 200):
        ways.append((ways[-1] + ways[-2]) % MOD)
    assert all(tilings(n) == ways[n] for n in range(1, 200))

    rng = random.Random(16180339)
    write("sample", "1", [1, 2, 4])
    write("sample", "2", [10, 100])

    s = "secret"
    write(s, "01-small-all", list(range(1, 61)))
    write(s, "02-powers-of-two", [2**k for k in range(60)])
    write(s, "03-max-values", [MAXN - i for i in range(MAXT)])
    write(s, "04-random-large", [rng.randint(1, MAXN) for _ in range(MAXT)])
    write(s, "05-random-magnitudes", [rng.randint(1, 10 ** rng.randint(1, 18)) for _ in range(MAXT)])
    around = []
    for k in (1, 2, 3, 1000, 10**8):
        for delta in (-2, -1, 0, 1, 2):
            around.append(k * MOD + delta)
            around.append(k * 2 * (MOD + 1) + delta)
    write(s, "06-around-modulus", around)
    write(s, "07-single-max", [MAXN])
    write(s, "08-repeated", [rng.randint(1, MAXN)] * MAXT)
    write(s, "09-medium-values", [rng.randint(10**5, 10**6) for _ in range(MAXT)])


if __name__ == "__main__":
    main()
