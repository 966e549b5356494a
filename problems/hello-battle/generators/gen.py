#!/usr/bin/env python3
"""Generates data/secret for hello-battle. Deterministic: run `python3 generators/gen.py`."""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "secret")
L = 10**18


def main() -> None:
    rng = random.Random(20240601)
    cases = [
        ("max-max", L, L),
        ("min-min", -L, -L),
        ("max-min", L, -L),
        ("zeros", 0, 0),
        ("int32-overflow", 2147483647, 1),
        ("int32-underflow", -2147483648, -1),
        ("both-int32-max", 2147483647, 2147483647),
        ("billion-billion", 1000000000, 1000000000),
        ("cancel", 123456789012345678, -123456789012345678),
        ("zero-plus-big", 0, 999999999999999999),
        ("big-plus-zero", -999999999999999999, 0),
        ("small", 1, 2),
    ]
    for i in range(6):
        a = rng.randint(-L, L)
        b = rng.randint(-L, L)
        cases.append((f"random-{i + 1}", a, b))
    for i in range(2):
        a = rng.randint(-(10**9), 10**9)
        b = rng.randint(-(10**12), 10**12)
        cases.append((f"mid-{i + 1}", a, b))
    os.makedirs(OUT, exist_ok=True)
    for idx, (name, a, b) in enumerate(cases, 1):
        base = os.path.join(OUT, f"{idx:02d}-{name}")
        with open(base + ".in", "w") as f:
            f.write(f"{a} {b}\n")
        with open(base + ".ans", "w") as f:
            f.write(f"{a + b}\n")


if __name__ == "__main__":
    main()
