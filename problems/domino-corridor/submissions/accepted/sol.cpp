#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

// Returns (F(n), F(n + 1)) modulo MOD by fast doubling.
pair<long long, long long> fib(unsigned long long n) {
    long long a = 0, b = 1;  // F(0), F(1)
    for (int bit = 63; bit >= 0; bit--) {
        long long c = a * ((2 * b - a + MOD) % MOD) % MOD;  // F(2k)
        long long d = (a * a + b * b) % MOD;                // F(2k + 1)
        if ((n >> bit) & 1) {
            a = d;
            b = (c + d) % MOD;
        } else {
            a = c;
            b = d;
        }
    }
    return {a, b};
}

int main() {
    int t;
    if (scanf("%d", &t) != 1) return 0;
    while (t--) {
        unsigned long long n;
        scanf("%llu", &n);
        printf("%lld\n", fib(n).second);  // tilings of 2 x n = F(n + 1)
    }
    return 0;
}
