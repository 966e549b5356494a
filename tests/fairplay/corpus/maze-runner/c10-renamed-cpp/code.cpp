#include <bits/stdc++.h>
using namespace std;

int main()
{
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int H, W;
    cin >> H >> W;
    vector<string> maze(H);
    for (auto &row : maze) cin >> row;
    vector<int> dist(H * W, -1);
    vector<int> bfs;
    int goal = -1;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
        {
            if (maze[r][c] == 'E') { dist[r * W + c] = 0; bfs.push_back(r * W + c); }
            else if (maze[r][c] == 'S') { goal = r * W + c; }
        }
    for (size_t i = 0; i < bfs.size() && dist[goal] < 0; i++)
    {
        int cell = bfs[i], r = cell / W, c = cell % W;
        const int dirs[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        for (auto &dd : dirs)
        {
            int rr = r + dd[0], cc = c + dd[1];
            if (rr < 0 || cc < 0 || rr >= H || cc >= W) continue;
            int nxt = rr * W + cc;
            if (maze[rr][cc] == '#' || dist[nxt] >= 0) continue;
            dist[nxt] = dist[cell] + 1;
            bfs.push_back(nxt);
        }
    }
    cout << dist[goal] << '\n';
}
