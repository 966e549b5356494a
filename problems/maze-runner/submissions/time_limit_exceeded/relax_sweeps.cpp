// Too slow: instead of a BFS queue it sweeps the whole grid again and again,
// relaxing every cell from its neighbours, until nothing changes. The number of
// sweeps grows with the length of the path (up to ~5*10^5 here).
#include <bits/stdc++.h>
using namespace std;

int main() {
    int r, c;
    scanf("%d %d", &r, &c);
    vector<string> g(r);
    static char buf[1024];
    for (int i = 0; i < r; i++) {
        scanf("%1000s", buf);
        g[i] = buf;
    }
    const int INF = INT_MAX / 2;
    vector<vector<int>> d(r, vector<int>(c, INF));
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            if (g[i][j] == 'S') d[i][j] = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                if (g[i][j] == '#') continue;
                int best = d[i][j];
                if (i > 0) best = min(best, d[i - 1][j] + 1);
                if (i + 1 < r) best = min(best, d[i + 1][j] + 1);
                if (j > 0) best = min(best, d[i][j - 1] + 1);
                if (j + 1 < c) best = min(best, d[i][j + 1] + 1);
                if (best < d[i][j]) {
                    d[i][j] = best;
                    changed = true;
                }
            }
    }
    int ans = INF;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++)
            if (g[i][j] == 'E') ans = min(ans, d[i][j]);
    printf("%d\n", ans >= INF ? -1 : ans);
    return 0;
}
