// Prefix sums stored in an array one element too short; .at() throws std::out_of_range.
#include <cstdio>
#include <vector>

int main() {
    int n, k;
    if (std::scanf("%d %d", &n, &k) != 2) return 1;
    std::vector<long long> pd(n), pt(n);  // should be n + 1
    long long sd = 0, st = 0;
    for (int i = 0; i < n; i++) {
        long long d, t;
        std::scanf("%lld %lld", &d, &t);
        sd += d;
        st += t;
        pd.at(i) = sd;
        pt.at(i) = st;
    }
    double best = 0;
    for (int i = 0; i + k <= n; i++) {
        long long wd = pd.at(i + k - 1) - (i > 0 ? pd.at(i - 1) : 0);
        long long wt = pt.at(i + k) - (i > 0 ? pt.at(i - 1) : 0);
        double cur = (double)wd / wt;
        if (cur > best) best = cur;
    }
    std::printf("%.9f\n", best);
    return 0;
}
