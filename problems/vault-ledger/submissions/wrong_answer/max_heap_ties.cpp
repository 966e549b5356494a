// Wrong: a max-heap of (balance, account) with lazy deletion finds the largest
// balance, but among equal balances it picks the LARGEST account number.
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n, q;
    scanf("%d %d", &n, &q);
    vector<long long> bal(n + 1, 0);
    priority_queue<pair<long long, int>> heap;
    for (int a = 1; a <= n; a++) heap.push({0, a});
    char op[16];
    for (int i = 0; i < q; i++) {
        scanf("%15s", op);
        string s = op;
        int a, b;
        long long x;
        if (s == "deposit") {
            scanf("%d %lld", &a, &x);
            bal[a] += x;
            heap.push({bal[a], a});
            printf("%lld\n", bal[a]);
        } else if (s == "withdraw") {
            scanf("%d %lld", &a, &x);
            if (bal[a] >= x) {
                bal[a] -= x;
                heap.push({bal[a], a});
                printf("%lld\n", bal[a]);
            } else {
                printf("DECLINED\n");
            }
        } else if (s == "transfer") {
            scanf("%d %d %lld", &a, &b, &x);
            if (bal[a] >= x) {
                bal[a] -= x;
                bal[b] += x;
                heap.push({bal[a], a});
                heap.push({bal[b], b});
                printf("OK\n");
            } else {
                printf("DECLINED\n");
            }
        } else {
            while (heap.top().first != bal[heap.top().second]) heap.pop();
            printf("%d %lld\n", heap.top().second, heap.top().first);
        }
    }
    return 0;
}
