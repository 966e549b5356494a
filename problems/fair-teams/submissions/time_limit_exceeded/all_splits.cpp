// Too slow: tries every way to split the players, 2^(n-1) of them.
#include <bits/stdc++.h>
using namespace std;

int n, total, best;
vector<int> s;

void go(int i, int team) {
    if (i == n) {
        best = min(best, abs(total - 2 * team));
        return;
    }
    go(i + 1, team + s[i]);
    go(i + 1, team);
}

int main() {
    scanf("%d", &n);
    s.resize(n);
    for (int& x : s) {
        scanf("%d", &x);
        total += x;
    }
    best = INT_MAX;
    // Player 0 always goes to the first team: swapping the teams changes nothing.
    go(1, s[0]);
    printf("%d\n", best);
    return 0;
}
