#include <iostream>
using namespace std;

int main() {
    long long power_a = 0, power_b = 0;
    cin >> power_a >> power_b;
    long long combined = power_a + power_b;
    cout << combined << endl;
    return 0;
}
