#include <cstdio>
#include <vector>

int main() {
    int n, k;
    if (std::scanf("%d %d", &n, &k) != 2) return 1;
    std::vector<long long> d(n), t(n);
    for (int i = 0; i < n; i++) std::scanf("%lld %lld", &d[i], &t[i]);
    long long ds = 0, ts = 0;
    for (int i = 0; i < k; i++) ds += d[i], ts += t[i];
    double best = (double)ds / ts;
    for (int i = k; i < n; i++) {
        ds += d[i] - d[i - k];
        ts += t[i] - t[i - k];
        double cur = (double)ds / ts;
        if (cur > best) best = cur;
    }
    std::printf("%.9f\n", best);
    return 0;
}
