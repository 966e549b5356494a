// Brute force over all stretches: O(n^2) = 5*10^9 steps for n = 10^5.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    long long k;
    scanf("%d %lld", &n, &k);
    vector<long long> a(n);
    for (auto &x : a) scanf("%lld", &x);
    long long ans = 0;
    for (int l = 0; l < n; l++) {
        long long s = 0;
        for (int r = l; r < n; r++) {
            s += a[r];
            if (s % k == 0) ans++;
        }
    }
    printf("%lld\n", ans);
    return 0;
}
