#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, k;
    if (scanf("%d %d", &n, &k) != 2) return 0;
    vector<long long> d(n);
    for (auto& v : d) scanf("%lld", &v);
    // Greedy: the number of days needed if no day may exceed x (x >= max d).
    auto days_needed = [&](long long x) {
        int days = 1;
        long long cur = 0;
        for (long long v : d) {
            if (cur + v > x) {
                days++;
                cur = v;
            } else {
                cur += v;
            }
        }
        return days;
    };
    long long lo = *max_element(d.begin(), d.end());
    long long hi = accumulate(d.begin(), d.end(), 0LL);
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        if (days_needed(mid) <= k)
            hi = mid;
        else
            lo = mid + 1;
    }
    printf("%lld\n", lo);
    return 0;
}
