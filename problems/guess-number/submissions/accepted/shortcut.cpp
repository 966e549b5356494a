// Binary search that answers without a query once only one candidate is left.
#include <iostream>
#include <string>

int main() {
    long long n, k;
    std::cin >> n >> k;
    long long lo = 1, hi = n;
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        std::cout << "? " << mid << std::endl;
        std::string r;
        if (!(std::cin >> r)) return 0;
        if (r == "=") {
            lo = hi = mid;
        } else if (r == "<") {
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    std::cout << "! " << lo << std::endl;
    return 0;
}
