import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n + 1)]
    vals = list(map(int, data[2:2 + 3 * m]))
    us, vs, ws = vals[0::3], vals[1::3], vals[2::3]
    for u, v, w in zip(us, vs, ws):
        adj[u].append((v, w))
        adj[v].append((u, w))

    def dijkstra(src):
        inf = float("inf")
        dist = [inf] * (n + 1)
        dist[src] = 0
        heap = [(0, src)]
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            d, u = pop(heap)
            if d > dist[u]:
                continue
            for v, w in adj[u]:
                nd = d + w
                if nd < dist[v]:
                    dist[v] = nd
                    push(heap, (nd, v))
        return dist

    # With the coupon on road (u, v): pay the cheapest way from 1 to u, nothing on
    # the road, then the cheapest way from v to n (either direction of the road).
    # Tolls are positive, so using the coupon never hurts.
    from_start = dijkstra(1)
    to_end = dijkstra(n)
    best = min(min(from_start[u] + to_end[v], from_start[v] + to_end[u])
               for u, v in zip(us, vs))
    print(-1 if best == float("inf") else best)


main()
