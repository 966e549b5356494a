#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, m;
    if (scanf("%d %d", &n, &m) != 2) return 0;
    vector<vector<pair<int, int>>> adj(n + 1);
    for (int i = 0; i < m; i++) {
        int u, v, w;
        scanf("%d %d %d", &u, &v, &w);
        adj[u].push_back({v, w});
        adj[v].push_back({u, w});
    }
    // Dijkstra on states (city, coupon used): state 2 * city + used.
    const long long INF = LLONG_MAX;
    vector<long long> dist(2 * (n + 1), INF);
    priority_queue<pair<long long, int>, vector<pair<long long, int>>, greater<>> pq;
    dist[2 * 1] = 0;
    pq.push({0, 2 * 1});
    while (!pq.empty()) {
        auto [d, s] = pq.top();
        pq.pop();
        if (d > dist[s]) continue;
        int u = s / 2, used = s % 2;
        for (auto [v, w] : adj[u]) {
            int t = 2 * v + used;
            if (d + w < dist[t]) {
                dist[t] = d + w;
                pq.push({d + w, t});
            }
            if (!used && d < dist[2 * v + 1]) {  // ride this road for free
                dist[2 * v + 1] = d;
                pq.push({d, 2 * v + 1});
            }
        }
    }
    long long best = min(dist[2 * n], dist[2 * n + 1]);
    printf("%lld\n", best == INF ? -1LL : best);
    return 0;
}
