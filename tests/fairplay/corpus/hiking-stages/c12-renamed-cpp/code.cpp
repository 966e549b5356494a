#include <bits/stdc++.h>
using namespace std;

int N, K;
vector<long long> a;

bool check(long long cap) {
    int parts = 0;
    long long cur = cap + 1;
    for (int i = 0; i < N; i++) {
        long long x = a[i];
        if (x > cap) return false;
        if (cur + x <= cap) {
            cur += x;
            continue;
        }
        parts++;
        cur = x;
    }
    return parts <= K;
}

int main() {
    cin >> N >> K;
    a.assign(N, 0);
    long long total = 0;
    for (auto &x : a) cin >> x, total += x;
    long long L = 1, R = total, best = total;
    while (L <= R) {
        long long M = (L + R) / 2;
        if (!check(M)) {
            L = M + 1;
        } else {
            best = M;
            R = M - 1;
        }
    }
    cout << best << endl;
    return 0;
}
