#!/usr/bin/env python3
"""Generates data/secret for guess-number. Deterministic: run `python3 generators/gen.py`.

Each .in holds "N K" and the hidden number S; K is usually the tight bound
ceil(log2(N + 1)) = N.bit_length(). The .ans files only hold "0".
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "secret")
MAXN = 10**9


def main() -> None:
    rng = random.Random(4242)
    cases = [
        ("n1", 1, 1, 1),
        ("n2-low", 2, 2, 1),
        ("n2-high", 2, 2, 2),
        ("n3-high", 3, 2, 3),
        ("n7-each-end", 7, 3, 1),
        ("n1000-top", 1000, 10, 1000),
        ("max-low", MAXN, 30, 1),
        ("max-high", MAXN, 30, MAXN),
        ("max-middle", MAXN, 30, 500000000),
        ("max-middle-plus-one", MAXN, 30, 500000001),
        ("pow2-minus-1", 2**29 - 1, 29, 2**29 - 1),
        ("pow2", 2**29, 30, 2**29),
        ("generous-k", 100, 60, 37),
    ]
    for i in range(4):
        cases.append((f"max-random-{i + 1}", MAXN, 30, rng.randint(1, MAXN)))
    for i in range(3):
        n = rng.randint(2, MAXN)
        cases.append((f"random-n-{i + 1}", n, n.bit_length(), rng.randint(1, n)))
    os.makedirs(OUT, exist_ok=True)
    for idx, (name, n, k, s) in enumerate(cases, 1):
        assert 1 <= s <= n <= MAXN and n.bit_length() <= k <= 60
        base = os.path.join(OUT, f"{idx:02d}-{name}")
        with open(base + ".in", "w") as f:
            f.write(f"{n} {k}\n{s}\n")
        with open(base + ".ans", "w") as f:
            f.write("0\n")


if __name__ == "__main__":
    main()
