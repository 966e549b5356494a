#include <bits/stdc++.h>
using namespace std;

int main() {
    int cnt;
    if (scanf("%d", &cnt) != 1) return 0;
    vector<int> best;
    for (int k = 0; k < cnt; k++) {
        int v;
        scanf("%d", &v);
        auto p = lower_bound(best.begin(), best.end(), v);
        if (p == best.end())
            best.push_back(v);
        else
            *p = v;
    }
    printf("%zu\n", best.size());
    return 0;
}
