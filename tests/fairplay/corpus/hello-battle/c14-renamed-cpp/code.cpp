#include <cstdio>

int main() {
    long long p, q;
    if (std::scanf("%lld %lld", &p, &q) != 2) return 1;
    std::printf("%lld\n", p + q);   // sum
    return 0;
}
