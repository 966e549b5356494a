#!/usr/bin/env python3
"""Generates data/secret (and the sample answers) for any-pair.

Deterministic: run `python3 generators/gen.py`. Each .ans holds one valid pair
(the one with the smallest j, then the smallest i) or -1.
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
MAXN = 3 * 10**5
MAXA = 10**9
MAXT = 2 * 10**9


def reference(t, a):
    first = {}
    for j, x in enumerate(a):
        i = first.get(t - x)
        if i is not None:
            return f"{i + 1} {j + 1}"
        if x not in first:
            first[x] = j
    return "-1"


def no_pair(rng, n, t, lo, hi):
    """n values in [lo, hi] such that no two of them sum to t."""
    present = set()
    out = []
    while len(out) < n:
        x = rng.randint(lo, hi)
        if t - x in present:
            continue
        present.add(x)
        out.append(x)
    return out


def write(base, t, a):
    n = len(a)
    assert 2 <= n <= MAXN and 2 <= t <= MAXT
    assert all(1 <= x <= MAXA for x in a)
    with open(base + ".in", "w") as f:
        f.write(f"{n} {t}\n")
        f.write(" ".join(map(str, a)) + "\n")
    with open(base + ".ans", "w") as f:
        f.write(reference(t, a) + "\n")


def main() -> None:
    rng = random.Random(90210)
    cases = []
    cases.append(("two-yes", 2, [1, 1]))
    cases.append(("two-no", 3, [1, 1]))
    # T/2 appears once: it must not be paired with itself
    cases.append(("half-once-no", 100, [50, 1, 2, 3, 60, 70, 45]))
    cases.append(("half-once-other-pair", 100, [50, 30, 12, 99, 70, 8]))
    cases.append(("half-twice", 100, [50, 1, 2, 50]))
    # values that overflow a 32-bit int
    cases.append(("big-equal", MAXT, [MAXA, MAXA]))
    cases.append(("big-sum", 1999999999, [5, 1000000000, 17, 999999999, 3]))
    cases.append(("big-no", MAXT, [MAXA, MAXA - 1, MAXA - 2, 1]))
    cases.append(("value-equals-t", 10, [10, 10, 10, 3]))
    cases.append(("all-equal-yes", 14, [7] * 1000))
    cases.append(("all-equal-no", 15, [7] * 1000))
    cases.append(("random-small-many", 50, [rng.randint(1, 49) for _ in range(30)]))
    cases.append(("random-small-no", 1000, no_pair(rng, 300, 1000, 1, 999)))
    # larger values than T are useless and must be ignored
    cases.append(("mostly-too-big", 1000, [rng.randint(1001, MAXA) for _ in range(998)] + [400, 600]))
    mid = no_pair(rng, 50000, 1234567890, 1, MAXA)
    pos = rng.sample(range(50000), 2)
    mid[min(pos)] = 234567890
    mid[max(pos)] = 1000000000
    cases.append(("mid-planted", 1234567890, mid))
    # pair only at the very end, large values (a quadratic search scans almost everything)
    t = 1500000001
    tail = no_pair(rng, 10**5 - 2, t, 1, MAXA)
    used = set(tail)
    x = 700000000
    while x in used or t - x in used or (t - x) == x:
        x += 1
    cases.append(("max-values-pair-at-end", t, tail + [x, t - x]))
    # maximum n, no pair: all values even, T odd (small values keep the file small)
    cases.append(("max-n-no-pair", 999, [2 * rng.randint(1, 499) for _ in range(MAXN)]))
    # many duplicates, pairs everywhere
    cases.append(("many-dups", 10000, [rng.randint(1, 9999) for _ in range(50000)]))

    secret = os.path.join(DATA, "secret")
    os.makedirs(secret, exist_ok=True)
    for idx, (name, t, a) in enumerate(cases, 1):
        write(os.path.join(secret, f"{idx:02d}-{name}"), t, a)

    sample = os.path.join(DATA, "sample")
    os.makedirs(sample, exist_ok=True)
    write(os.path.join(sample, "1"), 10, [3, 8, 5, 2, 7])
    write(os.path.join(sample, "2"), 10, [5, 4, 7])


if __name__ == "__main__":
    main()
