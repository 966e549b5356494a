#!/usr/bin/env python3
"""Generates data/sample and data/secret for toll-coupon (deterministic, stdlib only).

Run from anywhere:  python3 generators/gen.py
"""
import heapq
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
MAXN = 10**4
MAXM = 3 * 10**4
MAXW = 10**6


def solve(n, roads):
    """Dijkstra on (city, coupon used?) states."""
    adj = [[] for _ in range(n + 1)]
    for u, v, w in roads:
        adj[u].append((v, w))
        adj[v].append((u, w))
    inf = float("inf")
    dist = [[inf, inf] for _ in range(n + 1)]
    dist[1][0] = 0
    heap = [(0, 1, 0)]
    while heap:
        d, u, used = heapq.heappop(heap)
        if d > dist[u][used]:
            continue
        for v, w in adj[u]:
            if d + w < dist[v][used]:
                dist[v][used] = d + w
                heapq.heappush(heap, (d + w, v, used))
            if not used and d < dist[v][1]:
                dist[v][1] = d
                heapq.heappush(heap, (d, v, 1))
    best = min(dist[n])
    return -1 if best == inf else best


def brute(n, roads):
    """Makes every road free in turn and runs a plain Dijkstra (small inputs only)."""
    def dijkstra(free):
        adj = [[] for _ in range(n + 1)]
        for i, (u, v, w) in enumerate(roads):
            c = 0 if i == free else w
            adj[u].append((v, c))
            adj[v].append((u, c))
        dist = [float("inf")] * (n + 1)
        dist[1] = 0
        heap = [(0, 1)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, c in adj[u]:
                if d + c < dist[v]:
                    dist[v] = d + c
                    heapq.heappush(heap, (d + c, v))
        return dist[n]

    best = min(dijkstra(i) for i in range(len(roads)))
    return -1 if best == float("inf") else best


def write(folder, name, n, roads):
    assert 2 <= n <= MAXN and 1 <= len(roads) <= MAXM
    assert all(1 <= u <= n and 1 <= v <= n and u != v and 1 <= w <= MAXW for u, v, w in roads)
    ans = solve(n, roads)
    if len(roads) <= 300:
        assert ans == brute(n, roads), name
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "w") as f:
        f.write(f"{n} {len(roads)}\n" + "".join(f"{u} {v} {w}\n" for u, v, w in roads))
    with open(os.path.join(d, name + ".ans"), "w") as f:
        f.write(f"{ans}\n")


def random_pair(rng, n):
    """Two different cities, never the pair {1, n}: a direct road from 1 to n
    would make every answer 0."""
    while True:
        u = rng.randint(1, n)
        v = rng.randint(1, n - 1)
        v = v if v < u else v + 1
        if {u, v} != {1, n}:
            return u, v


def random_graph(rng, n, m, wlo=1, whi=MAXW, connected=True):
    """A random spanning tree (if connected) plus random extra roads, shuffled."""
    roads = []
    if connected:
        order = list(range(2, n + 1))
        rng.shuffle(order)
        if order[0] == n and n > 2:
            order[0], order[1] = order[1], order[0]  # n must not hang directly off 1
        placed = [1]
        for v in order:
            u = rng.choice(placed)
            while {u, v} == {1, n}:
                u = rng.choice(placed)
            roads.append((u, v, rng.randint(wlo, whi)))
            placed.append(v)
    while len(roads) < m:
        u, v = random_pair(rng, n)
        roads.append((u, v, rng.randint(wlo, whi)))
    rng.shuffle(roads)
    return [(v, u, w) if rng.random() < 0.5 else (u, v, w) for u, v, w in roads]


def trap_layers(rng, layers, width):
    """Each layer offers a route of cheap roads and a shortcut with one huge toll.
    The cheapest route without the coupon never takes a shortcut, but with the
    coupon the best plan uses the shortcut with the largest toll."""
    n = 2 + layers * width
    roads = []
    prev = [1]
    city = 2
    for _ in range(layers):
        cur = list(range(city, city + width))
        city += width
        for v in cur:
            for u in rng.sample(prev, min(len(prev), 3)):
                roads.append((u, v, rng.randint(100, 200)))
        prev = cur
    for u in prev:
        roads.append((u, n, rng.randint(100, 200)))
    # Shortcuts straight from city 1 to deep cities with large tolls.
    for _ in range(min(200, MAXM - len(roads))):
        v = rng.randint(2, n - 1)
        roads.append((1, v, rng.randint(MAXW // 2, MAXW)))
    rng.shuffle(roads)
    return n, roads[:MAXM]


def main():
    rng = random.Random(1000003)
    write("sample", "1", 4, [(1, 2, 5), (2, 4, 100), (1, 3, 30), (3, 4, 30)])
    write("sample", "2", 3, [(1, 2, 7)])

    s = "secret"
    write(s, "01-direct-road", 2, [(2, 1, MAXW)])
    write(s, "02-unreachable-small", 5, [(1, 2, 3), (2, 3, 4), (4, 5, 1)])
    write(s, "03-small-random", 8, random_graph(rng, 8, 14, 1, 50))
    write(s, "04-parallel-roads", 4, [(1, 2, 10), (1, 2, 3), (2, 3, 8), (3, 2, 2), (3, 4, 9), (1, 3, 40), (3, 1, 25)])
    path = [(i, i + 1, rng.randint(1, MAXW)) for i in range(1, MAXN)]
    rng.shuffle(path)
    write(s, "05-path-max", MAXN, path)
    write(s, "06-random-max", MAXN, random_graph(rng, MAXN, MAXM))
    write(s, "07-random-max-narrow-tolls", MAXN, random_graph(rng, MAXN, MAXM, 999000, MAXW))
    roads = [r for r in random_graph(rng, MAXN, MAXM) if (r[0] <= MAXN // 2) == (r[1] <= MAXN // 2)]
    write(s, "08-unreachable-max", MAXN, roads)
    write(s, "09-dense-few-cities", 300, random_graph(rng, 300, MAXM))
    grid = []
    side = 100
    for y in range(side):
        for x in range(side):
            v = y * side + x + 1
            if x + 1 < side:
                grid.append((v, v + 1, rng.randint(1, MAXW)))
            if y + 1 < side:
                grid.append((v, v + side, rng.randint(1, MAXW)))
    rng.shuffle(grid)
    write(s, "10-grid", side * side, grid)
    n, roads = trap_layers(rng, 40, 200)
    write(s, "11-shortcut-traps", n, roads)
    write(s, "12-small-traps", *trap_layers(rng, 4, 5))


if __name__ == "__main__":
    main()
