#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    long long k;
    if (scanf("%d %lld", &n, &k) != 2) return 0;
    vector<long long> rem(n + 1);
    long long s = 0;
    rem[0] = 0;
    for (int i = 1; i <= n; i++) {
        long long x;
        scanf("%lld", &x);
        s = ((s + x) % k + k) % k;
        rem[i] = s;
    }
    sort(rem.begin(), rem.end());
    long long ans = 0;
    for (int i = 0, j; i <= n; i = j) {
        j = i;
        while (j <= n && rem[j] == rem[i]) j++;
        long long c = j - i;
        ans += c * (c - 1) / 2;
    }
    printf("%lld\n", ans);
    return 0;
}
