#include <bits/stdc++.h>
using namespace std;

int n, k;
vector<long long> seg;

bool fits(long long limit) {
    int used = 0;
    long long today = limit + 1;
    for (long long s : seg) {
        if (s > limit) return false;
        if (today + s > limit) {
            used++;
            today = 0;
        }
        today += s;
    }
    return used <= k;
}

int main() {
    cin >> n >> k;
    seg.resize(n);
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        cin >> seg[i];
        sum += seg[i];
    }
    long long lo = 1, hi = sum, ans = sum;
    while (lo <= hi) {
        long long mid = (lo + hi) / 2;
        if (fits(mid)) {
            ans = mid;
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    cout << ans << endl;
    return 0;
}
