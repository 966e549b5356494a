// Uses 32-bit int: overflows (and fails to read) once the values leave the int range.
#include <iostream>

int main() {
    int a = 0, b = 0;
    std::cin >> a >> b;
    std::cout << a + b << "\n";
    return 0;
}
