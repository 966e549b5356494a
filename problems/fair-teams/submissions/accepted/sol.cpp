#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (scanf("%d", &n) != 1) return 0;
    vector<int> s(n);
    int total = 0;
    for (int& x : s) {
        scanf("%d", &x);
        total += x;
    }
    // Bit r is set when some group of players has total skill r.
    bitset<100001> sums;
    sums[0] = 1;
    for (int x : s) sums |= sums << x;
    int best = total / 2;
    while (!sums[best]) best--;
    printf("%d\n", total - 2 * best);
    return 0;
}
