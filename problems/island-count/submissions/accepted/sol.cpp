#include <bits/stdc++.h>
using namespace std;

int main() {
    int r, c;
    if (scanf("%d %d", &r, &c) != 2) return 0;
    vector<string> g(r);
    char buf[512];
    for (int i = 0; i < r; i++) {
        scanf("%511s", buf);
        g[i] = buf;
    }
    const int dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
    vector<pair<int, int>> queue;
    queue.reserve((size_t)r * c);
    int islands = 0, largest = 0;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++) {
            if (g[i][j] != '#') continue;
            // Breadth-first search; visited land is turned into water.
            islands++;
            g[i][j] = '.';
            queue.clear();
            queue.push_back({i, j});
            for (size_t h = 0; h < queue.size(); h++) {
                auto [y, x] = queue[h];
                for (int d = 0; d < 4; d++) {
                    int ny = y + dy[d], nx = x + dx[d];
                    if (ny >= 0 && ny < r && nx >= 0 && nx < c && g[ny][nx] == '#') {
                        g[ny][nx] = '.';
                        queue.push_back({ny, nx});
                    }
                }
            }
            largest = max(largest, (int)queue.size());
        }
    printf("%d %d\n", islands, largest);
    return 0;
}
