// Wrong formula: averages the segment speeds d/t instead of total distance / total time.
#include <cstdio>
#include <vector>

int main() {
    int n, k;
    if (std::scanf("%d %d", &n, &k) != 2) return 1;
    std::vector<double> speed(n);
    for (int i = 0; i < n; i++) {
        int d, t;
        std::scanf("%d %d", &d, &t);
        speed[i] = (double)d / t;
    }
    double sum = 0;
    for (int i = 0; i < k; i++) sum += speed[i];
    double best = sum / k;
    for (int i = k; i < n; i++) {
        sum += speed[i] - speed[i - k];
        if (sum / k > best) best = sum / k;
    }
    std::printf("%.9f\n", best);
    return 0;
}
