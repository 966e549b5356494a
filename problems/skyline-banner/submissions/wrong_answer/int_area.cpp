// Wrong: the right algorithm, but areas are ints. 10^5 buildings of height 10^6
// give 10^11, which overflows.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    scanf("%d", &n);
    vector<int> h(n + 1, 0);
    for (int i = 0; i < n; i++) scanf("%d", &h[i]);
    vector<int> st = {-1};
    int best = 0;
    for (int i = 0; i <= n; i++) {
        while (st.size() > 1 && h[st.back()] >= h[i]) {
            int top = st.back();
            st.pop_back();
            best = max(best, h[top] * (i - st.back() - 1));
        }
        st.push_back(i);
    }
    printf("%d\n", best);
    return 0;
}
