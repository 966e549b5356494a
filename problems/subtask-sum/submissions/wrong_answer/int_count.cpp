// Wrong: the number of stretches is kept in an int, which overflows once it
// exceeds 2^31 - 1 (possible only in group 2, so this scores 30 points).
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    long long k;
    scanf("%d %lld", &n, &k);
    map<long long, int> cnt;
    cnt[0] = 1;
    long long s = 0;
    int ans = 0;
    for (int i = 0; i < n; i++) {
        long long x;
        scanf("%lld", &x);
        s = ((s + x) % k + k) % k;
        ans += cnt[s];
        cnt[s]++;
    }
    printf("%d\n", ans);
    return 0;
}
