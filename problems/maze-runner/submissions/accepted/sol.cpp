#include <bits/stdc++.h>
using namespace std;

int main() {
    int r, c;
    if (scanf("%d %d", &r, &c) != 2) return 0;
    vector<string> g(r);
    static char buf[1024];
    for (int i = 0; i < r; i++) {
        scanf("%1000s", buf);
        g[i] = buf;
    }
    vector<int> dist(r * c, -1);
    deque<int> q;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            if (g[i][j] == 'S') {
                dist[i * c + j] = 0;
                q.push_back(i * c + j);
            }
    const int di[4] = {1, -1, 0, 0}, dj[4] = {0, 0, 1, -1};
    while (!q.empty()) {
        int cur = q.front();
        q.pop_front();
        int i = cur / c, j = cur % c;
        if (g[i][j] == 'E') {
            printf("%d\n", dist[cur]);
            return 0;
        }
        for (int d = 0; d < 4; d++) {
            int ni = i + di[d], nj = j + dj[d];
            if (ni < 0 || nj < 0 || ni >= r || nj >= c || g[ni][nj] == '#') continue;
            int id = ni * c + nj;
            if (dist[id] >= 0) continue;
            dist[id] = dist[cur] + 1;
            q.push_back(id);
        }
    }
    printf("-1\n");
    return 0;
}
