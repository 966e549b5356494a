#include <bits/stdc++.h>
using namespace std;
int n, m;
char grid[505][505];
bool used[505][505];
int bfs(int sx, int sy) {
    queue<pair<int,int>> q;
    q.push({sx, sy}); used[sx][sy] = true;
    int cnt = 0;
    int dx[] = {1, -1, 0, 0}, dy[] = {0, 0, 1, -1};
    while (!q.empty()) {
        auto [x, y] = q.front(); q.pop();
        cnt++;
        for (int d = 0; d < 4; d++) {
            int nx = x + dx[d], ny = y + dy[d];
            if (nx >= 0 && nx < n && ny >= 0 && ny < m && grid[nx][ny] == '#' && !used[nx][ny]) {
                used[nx][ny] = true;
                q.push({nx, ny});
            }
        }
    }
    return cnt;
}
int main() {
    scanf("%d %d", &n, &m);
    for (int i = 0; i < n; i++) scanf("%s", grid[i]);
    int ans = 0, best = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            if (grid[i][j] == '#' && !used[i][j]) { ans++; best = max(best, bfs(i, j)); }
    printf("%d %d\n", ans, best);
}
