#include <bits/stdc++.h>
using namespace std;

int kindOf(char c) {
    static const char* all = "([{<)]}>";
    return int(strchr(all, c) - all);
}

int main() {
    string line;
    getline(cin, line);
    while (!line.empty() && isspace((unsigned char)line.back())) line.pop_back();
    vector<int> open;
    int deepest = 0;
    for (int i = 0; i < (int)line.size(); i++) {
        int t = kindOf(line[i]);
        if (t < 4) {
            open.push_back(t);
            deepest = max(deepest, (int)open.size());
        } else if (!open.empty() && open.back() == t - 4) {
            open.pop_back();
        } else {
            cout << "NO " << i + 1 << endl;
            return 0;
        }
    }
    if (open.empty()) cout << "YES " << deepest << endl;
    else cout << "NO " << line.size() + 1 << endl;
}
