// Too slow: recomputes the sum of the last k values for every step, O(n * k).
#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int n, k, m;
    scanf("%d %d %d", &n, &k, &m);
    vector<char> blocked(n + 1, 0);
    for (int i = 0; i < m; i++) {
        int p;
        scanf("%d", &p);
        blocked[p] = 1;
    }
    vector<long long> ways(n + 1, 0);
    ways[0] = 1;
    for (int i = 1; i <= n; i++) {
        if (blocked[i]) continue;
        long long s = 0;
        for (int j = max(0, i - k); j < i; j++) {
            s += ways[j];
            if (s >= MOD) s -= MOD;
        }
        ways[i] = s;
    }
    printf("%lld\n", ways[n]);
    return 0;
}
