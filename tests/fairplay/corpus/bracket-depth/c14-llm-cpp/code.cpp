#include <bits/stdc++.h>
using namespace std;

// Returns the opening bracket that matches `c`, or '\0' if `c` is an opening bracket.
char matchingOpen(char c) {
    switch (c) {
        case ')': return '(';
        case ']': return '[';
        case '}': return '{';
        case '>': return '<';
        default: return '\0';
    }
}

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);

    string s;
    cin >> s;

    vector<char> stack;          // Currently open brackets.
    stack.reserve(s.size());
    size_t maxDepth = 0;         // Largest number of simultaneously open brackets.

    for (size_t i = 0; i < s.size(); ++i) {
        char expected = matchingOpen(s[i]);
        if (expected == '\0') {
            stack.push_back(s[i]);
            maxDepth = max(maxDepth, stack.size());
        } else if (stack.empty() || stack.back() != expected) {
            // First error: report its 1-based position.
            cout << "NO " << i + 1 << '\n';
            return 0;
        } else {
            stack.pop_back();
        }
    }

    if (!stack.empty()) {
        // Some brackets were never closed: the error is just past the end.
        cout << "NO " << s.size() + 1 << '\n';
    } else {
        cout << "YES " << maxDepth << '\n';
    }
    return 0;
}
