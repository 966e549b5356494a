#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int t;
    if (!(cin >> t)) return 0;
    string w, out;
    while (t--) {
        cin >> w;
        size_t n = w.size(), changes = 0;
        for (size_t i = 0; i < n / 2; i++)
            if (w[i] != w[n - 1 - i]) changes++;
        out += to_string(changes);
        out += '\n';
    }
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
