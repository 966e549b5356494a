#include <bits/stdc++.h>
using namespace std;

int main() {
    int rows, cols;
    if (scanf("%d %d", &rows, &cols) != 2) return 0;
    vector<string> grid(rows);
    char line[512];
    for (int r = 0; r < rows; r++) {
        scanf("%511s", line);
        grid[r] = line;
    }
    const int DY[4] = {-1, 1, 0, 0}, DX[4] = {0, 0, -1, 1};
    vector<pair<int, int>> q;
    q.reserve((size_t)rows * cols);
    int cnt = 0, best = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            if (grid[r][c] != '#') continue;
            cnt++;
            grid[r][c] = '.';
            q.clear();
            q.push_back({r, c});
            for (size_t head = 0; head < q.size(); head++) {
                auto [cy, cx] = q[head];
                for (int k = 0; k < 4; k++) {
                    int yy = cy + DY[k], xx = cx + DX[k];
                    if (yy >= 0 && yy < rows && xx >= 0 && xx < cols && grid[yy][xx] == '#') {
                        grid[yy][xx] = '.';
                        q.push_back({yy, xx});
                    }
                }
            }
            best = max(best, (int)q.size());
        }
    printf("%d %d\n", cnt, best);
    return 0;
}
