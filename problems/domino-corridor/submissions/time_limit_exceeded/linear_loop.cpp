// Too slow: runs the recurrence n times for every query; n can be 10^18.
#include <bits/stdc++.h>
using namespace std;

const long long MOD = 1000000007LL;

int main() {
    int t;
    scanf("%d", &t);
    while (t--) {
        unsigned long long n;
        scanf("%llu", &n);
        long long prev = 1, cur = 1;  // ways(0), ways(1)
        for (unsigned long long i = 2; i <= n; i++) {
            long long next = (prev + cur) % MOD;
            prev = cur;
            cur = next;
        }
        printf("%lld\n", cur);
    }
    return 0;
}
