#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, q;
    if (scanf("%d %d", &n, &q) != 2) return 0;
    vector<long long> p(n + 1, 0);  // p[i] = a_1 + ... + a_i
    for (int i = 1; i <= n; i++) {
        int a;
        scanf("%d", &a);
        p[i] = p[i - 1] + a;
    }
    string out;
    for (int i = 0; i < q; i++) {
        int l, r;
        scanf("%d %d", &l, &r);
        out += to_string(p[r] - p[l - 1]);
        out += '\n';
    }
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
