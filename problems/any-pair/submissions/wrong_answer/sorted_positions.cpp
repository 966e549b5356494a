// Sorts the values and finds a pair with two pointers, but prints the positions in the
// sorted order instead of the original indices.
#include <algorithm>
#include <cstdio>
#include <vector>

int main() {
    int n;
    long long t;
    if (std::scanf("%d %lld", &n, &t) != 2) return 1;
    std::vector<long long> a(n);
    for (auto& x : a) std::scanf("%lld", &x);
    std::sort(a.begin(), a.end());
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        long long s = a[lo] + a[hi];
        if (s == t) {
            std::printf("%d %d\n", lo + 1, hi + 1);
            return 0;
        }
        if (s < t) lo++;
        else hi--;
    }
    std::printf("-1\n");
    return 0;
}
