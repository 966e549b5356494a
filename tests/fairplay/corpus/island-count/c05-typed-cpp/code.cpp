#include <bits/stdc++.h>
using namespace std;

int main() {
    int h, w;
    cin >> h >> w;
    vector<string> a(h);
    for (int i = 0; i < h; i++) cin >> a[i];
    vector<vector<char>> vis(h, vector<char>(w, 0));
    int total = 0, maxArea = 0;
    stack<pair<int, int>> st;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            if (a[y][x] == '.' || vis[y][x]) continue;
            total++;
            int area = 0;
            vis[y][x] = 1;
            st.push({y, x});
            while (!st.empty()) {
                pair<int, int> cur = st.top();
                st.pop();
                area++;
                int cy = cur.first, cx = cur.second;
                int ys[4] = {cy - 1, cy + 1, cy, cy};
                int xs[4] = {cx, cx, cx - 1, cx + 1};
                for (int k = 0; k < 4; k++) {
                    int ny = ys[k], nx = xs[k];
                    if (ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
                    if (a[ny][nx] == '#' && !vis[ny][nx]) {
                        vis[ny][nx] = 1;
                        st.push({ny, nx});
                    }
                }
            }
            if (area > maxArea) maxArea = area;
        }
    }
    cout << total << " " << maxArea << endl;
    return 0;
}
