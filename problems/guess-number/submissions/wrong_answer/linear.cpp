// Tries 1, 2, 3, ... in order: far more than K queries. Stops quietly once the
// interactor hangs up (end of input), so the verdict is the interactor's.
#include <iostream>
#include <string>

int main() {
    long long n, k;
    std::cin >> n >> k;
    for (long long x = 1; x <= n; x++) {
        std::cout << "? " << x << std::endl;
        std::string r;
        if (!(std::cin >> r)) return 0;
        if (r == "=") {
            std::cout << "! " << x << std::endl;
            return 0;
        }
    }
    return 0;
}
