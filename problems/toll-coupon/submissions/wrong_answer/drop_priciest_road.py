# Wrong: finds the cheapest route without the coupon and then uses the coupon on
# its most expensive road. A route that is worse without the coupon can be much
# cheaper with it (sample 1).
import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = int(data[2 + 3 * i]), int(data[3 + 3 * i]), int(data[4 + 3 * i])
        adj[u].append((v, w))
        adj[v].append((u, w))
    inf = float("inf")
    dist = [inf] * (n + 1)
    priciest = [0] * (n + 1)  # the most expensive road on the route found to each city
    dist[1] = 0
    heap = [(0, 1)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            if d + w < dist[v]:
                dist[v] = d + w
                priciest[v] = max(priciest[u], w)
                heapq.heappush(heap, (d + w, v))
    print(-1 if dist[n] == inf else dist[n] - priciest[n])


main()
