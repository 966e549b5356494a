#include <bits/stdc++.h>
using namespace std;

int main()
{
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    string t;
    cin >> t;
    const string L = "([{<", R = ")]}>";
    stack<int> stk;
    size_t best = 0;
    for (size_t p = 0; p < t.size(); ++p)
    {
        size_t a = L.find(t[p]);
        if (a != string::npos)
        {
            stk.push((int)a);
            best = max(best, stk.size());
        }
        else
        {
            int b = (int)R.find(t[p]);
            if (stk.empty() || stk.top() != b) { cout << "NO " << p + 1 << "\n"; return 0; }
            stk.pop();
        }
    }
    if (stk.empty()) cout << "YES " << best << "\n";
    else cout << "NO " << t.size() + 1 << "\n";
    return 0;
}
