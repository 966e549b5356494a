// Crashes: reads the top of the stack with .at(size() - 1) without checking that
// the stack is non-empty; on an empty stack size() - 1 wraps around and at()
// throws std::out_of_range, which terminates the program.
#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    string s;
    cin >> s;
    int n = s.size();
    map<char, char> partner = {{')', '('}, {']', '['}, {'}', '{'}, {'>', '<'}};
    vector<char> st;
    size_t depth = 0;
    for (int i = 0; i < n; i++) {
        char c = s[i];
        if (!partner.count(c)) {
            st.push_back(c);
            depth = max(depth, st.size());
        } else {
            char top = st.at(st.size() - 1);
            if (top != partner[c]) {
                cout << "NO " << i + 1 << "\n";
                return 0;
            }
            st.pop_back();
        }
    }
    if (!st.empty()) cout << "NO " << n + 1 << "\n";
    else cout << "YES " << depth << "\n";
    return 0;
}
