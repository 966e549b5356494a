#include <bits/stdc++.h>
using namespace std;

const int MAXH = 1000001;
int fen[MAXH + 1];

int query(int i) {
    int r = 0;
    for (; i > 0; i -= i & -i) r = max(r, fen[i]);
    return r;
}

void update(int i, int v) {
    for (; i <= MAXH; i += i & -i) fen[i] = max(fen[i], v);
}

int main() {
    int n;
    cin >> n;
    int answer = 0;
    for (int i = 0; i < n; i++) {
        int h;
        cin >> h;
        int len = query(h - 1) + 1;
        update(h, len);
        answer = max(answer, len);
    }
    cout << answer << endl;
}
