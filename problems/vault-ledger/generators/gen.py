#!/usr/bin/env python3
"""Generates data/sample and data/secret for vault-ledger (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import heapq
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 10**5
MAXQ = 4 * 10**4
MAXX = 10**6


def solve(n, commands):
    bal = [0] * (n + 1)
    heap = [(0, a) for a in range(1, n + 1)]  # (-balance, account), lazily updated
    out = []

    def changed(a):
        heapq.heappush(heap, (-bal[a], a))

    for c in commands:
        if c[0] == "deposit":
            bal[c[1]] += c[2]
            changed(c[1])
            out.append(str(bal[c[1]]))
        elif c[0] == "withdraw":
            if bal[c[1]] >= c[2]:
                bal[c[1]] -= c[2]
                changed(c[1])
                out.append(str(bal[c[1]]))
            else:
                out.append("DECLINED")
        elif c[0] == "transfer":
            a, b, x = c[1], c[2], c[3]
            if bal[a] >= x:
                bal[a] -= x
                bal[b] += x
                changed(a)
                changed(b)
                out.append("OK")
            else:
                out.append("DECLINED")
        else:
            while -heap[0][0] != bal[heap[0][1]]:
                heapq.heappop(heap)
            out.append(f"{heap[0][1]} {-heap[0][0]}")
    return out


def write(folder, name, n, commands):
    assert 1 <= n <= MAXN and 1 <= len(commands) <= MAXQ
    for c in commands:
        if c[0] in ("deposit", "withdraw"):
            assert 1 <= c[1] <= n and 1 <= c[2] <= MAXX
        elif c[0] == "transfer":
            assert 1 <= c[1] <= n and 1 <= c[2] <= n and c[1] != c[2] and 1 <= c[3] <= MAXX
        else:
            assert c == ("richest",)
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{n} {len(commands)}\n" + "".join(" ".join(map(str, c)) + "\n" for c in commands))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write("".join(line + "\n" for line in solve(n, commands)))


def random_commands(rng, n, q, weights=(4, 3, 3, 2), maxx=MAXX, accounts=None):
    """Random commands; weights for deposit, withdraw, transfer, richest."""
    pick = accounts or (lambda: rng.randint(1, n))
    cmds = []
    for _ in range(q):
        kind = rng.choices(["deposit", "withdraw", "transfer", "richest"], weights)[0]
        if kind == "richest" or (kind == "transfer" and n == 1):
            cmds.append(("richest",))
        elif kind == "transfer":
            a = pick()
            b = pick()
            while b == a:
                b = rng.randint(1, n)
            cmds.append((kind, a, b, rng.randint(1, maxx)))
        else:
            cmds.append((kind, pick(), rng.randint(1, maxx)))
    return cmds


def main():
    rng = random.Random(424242)
    write("sample", "1", 3, [
        ("deposit", 1, 100), ("deposit", 3, 250), ("richest",), ("withdraw", 1, 30),
        ("transfer", 3, 1, 200), ("richest",), ("withdraw", 3, 60), ("transfer", 2, 1, 1),
        ("richest",),
    ])
    write("sample", "2", 4, [
        ("richest",), ("deposit", 4, 5), ("deposit", 2, 5), ("richest",), ("withdraw", 2, 5),
        ("richest",), ("withdraw", 4, 5), ("richest",),
    ])

    s = "secret"
    write(s, "01-one-account", 1, [("richest",), ("withdraw", 1, 1), ("deposit", 1, 7),
                                   ("withdraw", 1, 8), ("withdraw", 1, 7), ("richest",)])
    write(s, "02-small-random", 5, random_commands(rng, 5, 300, maxx=20))
    cmds = []
    for a in range(1, 11):
        x = rng.randint(1, MAXX)
        cmds += [("deposit", a, x), ("withdraw", a, x + 1), ("transfer", a, a % 10 + 1, x + 1),
                 ("richest",), ("transfer", a, a % 10 + 1, x), ("withdraw", a % 10 + 1, x),
                 ("richest",)]
    write(s, "03-exact-balance", 10, cmds)
    n = 1000
    cmds = []
    for a in rng.sample(range(2, n + 1), 200):
        x = rng.randint(1, MAXX)
        cmds += [("deposit", a, x), ("richest",), ("withdraw", a, x), ("richest",)]
    write(s, "04-back-to-zero", n, cmds)
    n = 5000
    cmds = []
    for _ in range(10000):
        a = rng.randint(1, n)
        cmds += [("deposit", a, 1000), ("richest",)]
    write(s, "05-ties", n, cmds[:MAXQ])
    n = MAXN
    cmds = [("deposit", n, MAXX) for _ in range(MAXQ - 3)]
    cmds += [("richest",), ("transfer", n, 1, MAXX), ("richest",)]
    write(s, "06-huge-balance", n, cmds)
    write(s, "07-max-random", n, random_commands(rng, n, MAXQ))
    write(s, "08-max-many-richest", n, random_commands(rng, n, MAXQ, weights=(3, 1, 1, 5)))
    few = list(range(1, 21))
    write(s, "09-busy-accounts", n, random_commands(rng, n, MAXQ, weights=(2, 3, 5, 2),
                                                    accounts=lambda: rng.choice(few)))
    write(s, "10-mostly-declined", n, random_commands(rng, n, MAXQ, weights=(1, 6, 6, 2)))
    edge = [1, 2, n - 1, n]
    write(s, "11-first-and-last", n, random_commands(rng, n, MAXQ, weights=(3, 2, 3, 2),
                                                     accounts=lambda: rng.choice(edge)))


if __name__ == "__main__":
    main()
