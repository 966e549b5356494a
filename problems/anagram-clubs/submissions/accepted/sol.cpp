#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    if (!(cin >> n)) return 0;
    unordered_map<string, int> clubs;
    clubs.reserve(2 * n);
    int largest = 0;
    string w;
    for (int i = 0; i < n; i++) {
        cin >> w;
        sort(w.begin(), w.end());  // anagrams share their sorted form
        largest = max(largest, ++clubs[w]);
    }
    cout << clubs.size() << ' ' << largest << '\n';
    return 0;
}
