#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int n, k, m;
    if (scanf("%d %d %d", &n, &k, &m) != 3) return 0;
    vector<char> blocked(n + 1, 0);
    for (int i = 0; i < m; i++) {
        int p;
        scanf("%d", &p);
        blocked[p] = 1;
    }
    vector<long long> ways(n + 1, 0);
    ways[0] = 1;
    long long window = 1;
    for (int i = 1; i <= n; i++) {
        ways[i] = blocked[i] ? 0 : window;
        window = (window + ways[i]) % MOD;
        if (i >= k) window = (window - ways[i - k] + MOD) % MOD;
    }
    printf("%lld\n", ways[n]);
    return 0;
}
