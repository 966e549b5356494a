// Too slow: floods the island of every land cell from scratch and counts the
// island only when the cell is its first cell in reading order. Each island of
// area A costs A^2, so one big island is hopeless.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int r, c;
    scanf("%d %d", &r, &c);
    vector<string> g(r);
    char buf[512];
    for (int i = 0; i < r; i++) {
        scanf("%511s", buf);
        g[i] = buf;
    }
    int islands = 0, largest = 0;
    vector<int> seen(r * c, -1);
    for (int s = 0; s < r * c; s++) {
        if (g[s / c][s % c] != '#') continue;
        vector<int> queue = {s};
        seen[s] = s;
        int first = s;
        for (size_t h = 0; h < queue.size(); h++) {
            int v = queue[h], y = v / c, x = v % c;
            first = min(first, v);
            int next[4][2] = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
            for (auto& nb : next) {
                int ny = nb[0], nx = nb[1];
                if (ny < 0 || ny >= r || nx < 0 || nx >= c || g[ny][nx] != '#') continue;
                int u = ny * c + nx;
                if (seen[u] != s) {
                    seen[u] = s;
                    queue.push_back(u);
                }
            }
        }
        if (first == s) {
            islands++;
            largest = max(largest, (int)queue.size());
        }
    }
    printf("%d %d\n", islands, largest);
    return 0;
}
