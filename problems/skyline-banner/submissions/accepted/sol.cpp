#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    if (scanf("%d", &n) != 1) return 0;
    vector<long long> h(n + 1, 0);  // h[n] = 0 flushes the stack at the end
    for (int i = 0; i < n; i++) scanf("%lld", &h[i]);
    // Indices of buildings with increasing heights; -1 is a sentinel.
    vector<int> st = {-1};
    long long best = 0;
    for (int i = 0; i <= n; i++) {
        while (st.size() > 1 && h[st.back()] >= h[i]) {
            int top = st.back();
            st.pop_back();
            best = max(best, h[top] * (i - st.back() - 1));
        }
        st.push_back(i);
    }
    printf("%lld\n", best);
    return 0;
}
