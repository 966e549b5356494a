#include <cstdio>

int main() {
    long long x, y;
    scanf("%lld%lld", &x, &y);
    printf("%lld\n", x + y);
}
