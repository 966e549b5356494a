#include <bits/stdc++.h>
using namespace std;

vector<int> parent, sz;

int root(int v) {
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    return v;
}

void unite(int a, int b) {
    a = root(a);
    b = root(b);
    if (a == b) return;
    if (sz[a] < sz[b]) swap(a, b);
    parent[b] = a;
    sz[a] += sz[b];
}

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int R, C;
    cin >> R >> C;
    vector<string> grid(R);
    for (auto &row : grid) cin >> row;
    parent.resize(R * C);
    sz.assign(R * C, 1);
    iota(parent.begin(), parent.end(), 0);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            if (grid[i][j] != '#') continue;
            if (i + 1 < R && grid[i + 1][j] == '#') unite(i * C + j, (i + 1) * C + j);
            if (j + 1 < C && grid[i][j + 1] == '#') unite(i * C + j, i * C + j + 1);
        }
    int count = 0, biggest = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            if (grid[i][j] == '#' && root(i * C + j) == i * C + j) {
                count++;
                biggest = max(biggest, sz[i * C + j]);
            }
    cout << count << ' ' << biggest << '\n';
}
