#include <bits/stdc++.h>
using namespace std;

// Maze Runner: breadth-first search from the start cell to the nearest exit.
int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);

    int rows, cols;
    cin >> rows >> cols;
    vector<string> maze(rows);
    for (auto& row : maze) {
        cin >> row;
    }

    // Locate the unique starting cell.
    int startRow = -1, startCol = -1;
    for (int r = 0; r < rows && startRow < 0; ++r) {
        size_t pos = maze[r].find('S');
        if (pos != string::npos) {
            startRow = r;
            startCol = static_cast<int>(pos);
        }
    }

    // Standard BFS; distance[r][c] == -1 marks an unvisited cell.
    vector<vector<int>> distance(rows, vector<int>(cols, -1));
    queue<pair<int, int>> frontier;
    distance[startRow][startCol] = 0;
    frontier.emplace(startRow, startCol);

    const array<pair<int, int>, 4> directions = {{{-1, 0}, {1, 0}, {0, -1}, {0, 1}}};
    while (!frontier.empty()) {
        auto [r, c] = frontier.front();
        frontier.pop();
        if (maze[r][c] == 'E') {
            cout << distance[r][c] << '\n';
            return 0;
        }
        for (const auto& [dr, dc] : directions) {
            int nr = r + dr, nc = c + dc;
            if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;  // Outside the grid.
            if (maze[nr][nc] == '#' || distance[nr][nc] != -1) continue;  // Wall or visited.
            distance[nr][nc] = distance[r][c] + 1;
            frontier.emplace(nr, nc);
        }
    }

    // No exit is reachable.
    cout << -1 << '\n';
    return 0;
}
