// Wrong: in F(2k) = F(k) * (2 F(k+1) - F(k)) the difference can be negative once
// the values are reduced modulo 10^9 + 7, and C++'s % keeps the sign. Small n
// are fine; large n give negative or wrong numbers.
#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int t;
    scanf("%d", &t);
    while (t--) {
        unsigned long long n;
        scanf("%llu", &n);
        long long a = 0, b = 1;
        for (int bit = 63; bit >= 0; bit--) {
            long long c = a * ((2 * b - a) % MOD) % MOD;
            long long d = (a * a + b * b) % MOD;
            if ((n >> bit) & 1) {
                a = d;
                b = (c + d) % MOD;
            } else {
                a = c;
                b = d;
            }
        }
        printf("%lld\n", b);
    }
    return 0;
}
