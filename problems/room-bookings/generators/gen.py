#!/usr/bin/env python3
"""Generates data/sample and data/secret for room-bookings (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 5 * 10**4
MAXT = 10**8


def solve(bookings):
    periods = []
    for s, e in sorted(bookings):
        if periods and s <= periods[-1][1]:
            periods[-1][1] = max(periods[-1][1], e)
        else:
            periods.append([s, e])
    return periods


def write(folder, name, bookings):
    assert 1 <= len(bookings) <= MAXN
    assert all(0 <= s < e <= MAXT for s, e in bookings)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{len(bookings)}\n" + "".join(f"{s} {e}\n" for s, e in bookings))
    periods = solve(bookings)
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{len(periods)}\n" + "".join(f"{s} {e}\n" for s, e in periods))


def rand_booking(rng, lo, hi, maxlen):
    s = rng.randint(lo, hi - 1)
    return (s, min(hi, s + rng.randint(1, maxlen)))


def main():
    rng = random.Random(1234321)
    write("sample", "1", [(8, 10), (1, 3), (15, 18), (2, 6)])
    write("sample", "2", [(4, 6), (1, 4), (7, 9)])

    s = "secret"
    write(s, "01-single", [(0, MAXT)])
    chain = [(i, i + 1) for i in range(1000)]
    rng.shuffle(chain)
    write(s, "02-touching-chain", chain)
    inner = [rand_booking(rng, 1000, 9000, 50) for _ in range(500)]
    write(s, "03-nested", inner + [(1000, 9000), (9001, 9002), (500, 999)])
    write(s, "04-identical", [(42, 4242)] * 1000)
    write(s, "05-small-random", [rand_booking(rng, 0, 200, 10) for _ in range(100)])
    starts = sorted(rng.sample(range(0, MAXT // 2), MAXN))
    disjoint = [(2 * x, 2 * x + 1) for x in starts]
    rng.shuffle(disjoint)
    write(s, "06-max-disjoint", disjoint)
    write(s, "07-max-random", [rand_booking(rng, 0, MAXT, 4000) for _ in range(MAXN)])
    # A long booking, then a short one inside it, then one that starts after the
    # short one ends but before the long one ends: all three form one period.
    trap = []
    for i in range(1000):
        b = i * 1000
        trap += [(b, b + 500), (b + 10, b + 20), (b + 100, b + 600)]
    rng.shuffle(trap)
    write(s, "08-contained-then-overlap", trap)
    gaps = []
    for i in range(MAXN // 2):
        b = i * 7
        gaps += [(b, b + 3), (b + 3, b + 6)]  # touching pairs, then a gap of 1
    rng.shuffle(gaps)
    write(s, "09-gap-of-one", gaps)
    write(s, "10-nested-max", [(i, MAXT - i) for i in rng.sample(range(MAXN * 10), MAXN)])
    edges = [(0, 1), (MAXT - 1, MAXT)] + [rand_booking(rng, 0, MAXT, 20000) for _ in range(2000)]
    write(s, "11-extreme-times", edges)


if __name__ == "__main__":
    main()
