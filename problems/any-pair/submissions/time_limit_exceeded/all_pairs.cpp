// Tries every pair: O(n^2), about 4.5 * 10^10 checks when no pair exists and n = 3 * 10^5.
#include <cstdio>
#include <vector>

int main() {
    int n;
    long long t;
    if (std::scanf("%d %lld", &n, &t) != 2) return 1;
    std::vector<long long> a(n);
    for (auto& x : a) std::scanf("%lld", &x);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (a[i] + a[j] == t) {
                std::printf("%d %d\n", i + 1, j + 1);
                return 0;
            }
    std::printf("-1\n");
    return 0;
}
