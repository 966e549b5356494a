# Crashes: the adjacency lists are indexed 0 .. n - 1, but the cities are numbered
# from 1, so a road to city n is out of range (IndexError).
import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n)]
    for i in range(m):
        u, v, w = int(data[2 + 3 * i]), int(data[3 + 3 * i]), int(data[4 + 3 * i])
        adj[u].append((v, w))
        adj[v].append((u, w))
    inf = float("inf")
    dist = [[inf, inf] for _ in range(n)]
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
    best = min(dist[n - 1])
    print(-1 if best == inf else best)


main()
