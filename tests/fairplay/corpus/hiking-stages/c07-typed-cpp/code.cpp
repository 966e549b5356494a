#include <bits/stdc++.h>
using namespace std;
typedef long long ll;

int main() {
    int n, k;
    scanf("%d %d", &n, &k);
    vector<ll> d(n);
    ll mx = 0, tot = 0;
    for (int i = 0; i < n; i++) {
        scanf("%lld", &d[i]);
        mx = max(mx, d[i]);
        tot += d[i];
    }
    auto need = [&](ll cap) {
        int cnt = 0;
        ll acc = 0;
        for (int i = 0; i < n; i++) {
            if (acc == 0 || acc + d[i] > cap) {
                cnt++;
                acc = 0;
            }
            acc += d[i];
        }
        return cnt;
    };
    ll L = mx, H = tot;
    for (ll step = 1LL << 45; step > 0; step >>= 1)
        if (L + step <= H && need(L + step - 1) > k) L += step;
    while (need(L) > k) L++;
    printf("%lld\n", L);
}
