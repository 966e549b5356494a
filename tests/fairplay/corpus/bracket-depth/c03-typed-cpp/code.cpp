#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    string s;
    cin >> s;
    const string opens = "([{<", closes = ")]}>";
    stack<int> kinds;
    size_t depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        size_t o = opens.find(s[i]);
        if (o != string::npos) {
            kinds.push((int)o);
            depth = max(depth, kinds.size());
        } else {
            int c = (int)closes.find(s[i]);
            if (kinds.empty() || kinds.top() != c) {
                cout << "NO " << i + 1 << "\n";
                return 0;
            }
            kinds.pop();
        }
    }
    if (kinds.empty())
        cout << "YES " << depth << "\n";
    else
        cout << "NO " << s.size() + 1 << "\n";
    return 0;
}
