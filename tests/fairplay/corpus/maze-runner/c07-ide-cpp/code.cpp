#include <bits/stdc++.h>
using namespace std;

int main() {
    int rows, cols;
    cin >> rows >> cols;
    vector<string> g(rows + 2, string(cols + 2, '#'));
    int start = -1;
    for (int i = 1; i <= rows; i++) {
        string line;
        cin >> line;
        for (int j = 1; j <= cols; j++) {
            g[i][j] = line[j - 1];
            if (line[j - 1] == 'S') start = i * (cols + 2) + j;
        }
    }
    int W = cols + 2;
    vector<int> steps(W * (rows + 2), -1);
    deque<int> frontier{start};
    steps[start] = 0;
    while (!frontier.empty()) {
        int at = frontier.front();
        frontier.pop_front();
        if (g[at / W][at % W] == 'E') {
            cout << steps[at] << endl;
            return 0;
        }
        for (int delta : {1, -1, W, -W}) {
            int to = at + delta;
            if (steps[to] == -1 && g[to / W][to % W] != '#') {
                steps[to] = steps[at] + 1;
                frontier.push_back(to);
            }
        }
    }
    cout << -1 << endl;
}
