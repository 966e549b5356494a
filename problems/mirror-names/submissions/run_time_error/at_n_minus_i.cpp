// Crashes: the mirror of position i is taken as n - i instead of n - 1 - i, and
// string::at() throws std::out_of_range for i = 0.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int t;
    cin >> t;
    while (t--) {
        string w;
        cin >> w;
        size_t n = w.size(), changes = 0;
        for (size_t i = 0; i < n / 2; i++)
            if (w.at(i) != w.at(n - i)) changes++;
        cout << changes << '\n';
    }
    return 0;
}
