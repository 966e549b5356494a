#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, q;
    if (scanf("%d %d", &n, &q) != 2) return 0;
    vector<long long> bal(n + 1, 0);
    // Ordered by (-balance, account): begin() is the richest, smallest number first.
    set<pair<long long, int>> order;
    for (int a = 1; a <= n; a++) order.insert({0, a});
    auto update = [&](int a, long long delta) {
        order.erase({-bal[a], a});
        bal[a] += delta;
        order.insert({-bal[a], a});
    };
    string out;
    char op[16];
    for (int i = 0; i < q; i++) {
        scanf("%15s", op);
        string s = op;
        if (s == "deposit") {
            int a;
            long long x;
            scanf("%d %lld", &a, &x);
            update(a, x);
            out += to_string(bal[a]) + "\n";
        } else if (s == "withdraw") {
            int a;
            long long x;
            scanf("%d %lld", &a, &x);
            if (bal[a] >= x) {
                update(a, -x);
                out += to_string(bal[a]) + "\n";
            } else {
                out += "DECLINED\n";
            }
        } else if (s == "transfer") {
            int a, b;
            long long x;
            scanf("%d %d %lld", &a, &b, &x);
            if (bal[a] >= x) {
                update(a, -x);
                update(b, x);
                out += "OK\n";
            } else {
                out += "DECLINED\n";
            }
        } else {
            auto [nb, a] = *order.begin();
            out += to_string(a) + " " + to_string(-nb) + "\n";
        }
    }
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
