#include <bits/stdc++.h>
using namespace std;

int n, m;
char a[1005][1005];
int dis[1005][1005];

int main() {
    scanf("%d %d", &n, &m);
    int sx = 0, sy = 0;
    for (int i = 0; i < n; i++) {
        scanf("%s", a[i]);
        for (int j = 0; j < m; j++) {
            dis[i][j] = -1;
            if (a[i][j] == 'S') sx = i, sy = j;
        }
    }
    queue<pair<int, int>> q;
    q.push(make_pair(sx, sy));
    dis[sx][sy] = 0;
    int dx[] = {0, 0, 1, -1}, dy[] = {1, -1, 0, 0};
    while (!q.empty()) {
        int x = q.front().first, y = q.front().second;
        q.pop();
        for (int t = 0; t < 4; t++) {
            int px = x + dx[t], py = y + dy[t];
            if (px < 0 || py < 0 || px >= n || py >= m) continue;
            if (a[px][py] == '#' || dis[px][py] != -1) continue;
            dis[px][py] = dis[x][y] + 1;
            if (a[px][py] == 'E') {
                printf("%d\n", dis[px][py]);
                return 0;
            }
            q.push(make_pair(px, py));
        }
    }
    printf("-1\n");
    return 0;
}
