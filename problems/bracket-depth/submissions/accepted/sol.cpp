#include <bits/stdc++.h>
using namespace std;

int main() {
    static char buf[1000010];
    if (scanf("%1000005s", buf) != 1) return 0;
    int n = strlen(buf);
    char partner[128] = {0};
    partner[(int)')'] = '(';
    partner[(int)']'] = '[';
    partner[(int)'}'] = '{';
    partner[(int)'>'] = '<';
    vector<char> st;
    st.reserve(n);
    size_t depth = 0;
    for (int i = 0; i < n; i++) {
        char c = buf[i];
        char p = partner[(int)c];
        if (!p) {
            st.push_back(c);
            depth = max(depth, st.size());
        } else {
            if (st.empty() || st.back() != p) {
                printf("NO %d\n", i + 1);
                return 0;
            }
            st.pop_back();
        }
    }
    if (!st.empty()) printf("NO %d\n", n + 1);
    else printf("YES %zu\n", depth);
    return 0;
}
