#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int R, C;
    cin >> R >> C;
    vector<string> g(R);
    for (auto &s : g) cin >> s;
    vector<int> d(R * C, -1);
    vector<int> q;
    int target = -1;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            if (g[i][j] == 'E') {
                d[i * C + j] = 0;
                q.push_back(i * C + j);
            } else if (g[i][j] == 'S') {
                target = i * C + j;
            }
        }
    for (size_t h = 0; h < q.size() && d[target] < 0; h++) {
        int v = q[h], y = v / C, x = v % C;
        const int off[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        for (auto &o : off) {
            int ny = y + o[0], nx = x + o[1];
            if (ny < 0 || nx < 0 || ny >= R || nx >= C) continue;
            int u = ny * C + nx;
            if (g[ny][nx] == '#' || d[u] >= 0) continue;
            d[u] = d[v] + 1;
            q.push_back(u);
        }
    }
    cout << d[target] << '\n';
}
