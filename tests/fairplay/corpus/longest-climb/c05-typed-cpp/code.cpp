#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    set<int> best;
    while (n--) {
        int h;
        cin >> h;
        auto ins = best.insert(h);
        if (!ins.second) continue;
        auto nxt = next(ins.first);
        if (nxt != best.end()) best.erase(nxt);
    }
    cout << best.size() << "\n";
    return 0;
}
