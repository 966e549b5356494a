// Too slow: makes each road free in turn and runs a full Dijkstra every time,
// m Dijkstras in total.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, m;
    scanf("%d %d", &n, &m);
    vector<vector<array<int, 3>>> adj(n + 1);  // (neighbour, toll, road id)
    for (int i = 0; i < m; i++) {
        int u, v, w;
        scanf("%d %d %d", &u, &v, &w);
        adj[u].push_back({v, w, i});
        adj[v].push_back({u, w, i});
    }
    const long long INF = LLONG_MAX;
    long long best = INF;
    vector<long long> dist(n + 1);
    for (int free_road = 0; free_road < m; free_road++) {
        fill(dist.begin(), dist.end(), INF);
        priority_queue<pair<long long, int>, vector<pair<long long, int>>, greater<>> pq;
        dist[1] = 0;
        pq.push({0, 1});
        while (!pq.empty()) {
            auto [d, u] = pq.top();
            pq.pop();
            if (d > dist[u]) continue;
            for (auto [v, w, id] : adj[u]) {
                long long nd = d + (id == free_road ? 0 : w);
                if (nd < dist[v]) {
                    dist[v] = nd;
                    pq.push({nd, v});
                }
            }
        }
        best = min(best, dist[n]);
    }
    printf("%lld\n", best == INF ? -1LL : best);
    return 0;
}
