// Forgets to flush: the query stays in stdout's buffer while the program waits for a
// reply that never comes. Both sides block until the judge stops them.
#include <cstdio>

int main() {
    long long n, k;
    if (std::scanf("%lld %lld", &n, &k) != 2) return 0;
    long long lo = 1, hi = n;
    while (true) {
        long long mid = (lo + hi) / 2;
        std::printf("? %lld\n", mid);
        char r[4];
        if (std::scanf("%3s", r) != 1) return 0;
        if (r[0] == '=') {
            std::printf("! %lld\n", mid);
            return 0;
        }
        if (r[0] == '<') hi = mid - 1;
        else lo = mid + 1;
    }
}
