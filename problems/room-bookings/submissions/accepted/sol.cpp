#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (scanf("%d", &n) != 1) return 0;
    vector<pair<int, int>> b(n);
    for (auto& [s, e] : b) scanf("%d %d", &s, &e);
    sort(b.begin(), b.end());
    vector<pair<int, int>> periods;
    for (auto [s, e] : b) {
        if (!periods.empty() && s <= periods.back().second)
            periods.back().second = max(periods.back().second, e);
        else
            periods.push_back({s, e});
    }
    string out = to_string(periods.size()) + "\n";
    for (auto [s, e] : periods) out += to_string(s) + " " + to_string(e) + "\n";
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
