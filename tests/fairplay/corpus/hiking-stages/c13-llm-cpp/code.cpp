#include <bits/stdc++.h>
using namespace std;

/**
 * Returns true if the trail can be completed in at most `k` days
 * without any single day exceeding `limit` meters.
 */
static bool canFinish(const vector<long long>& segments, int k, long long limit) {
    int daysUsed = 1;
    long long currentDay = 0;
    for (long long length : segments) {
        // A single segment longer than the limit can never fit.
        if (length > limit) {
            return false;
        }
        if (currentDay + length > limit) {
            ++daysUsed;          // Start a new day at the next camp site.
            currentDay = length;
        } else {
            currentDay += length;
        }
    }
    return daysUsed <= k;
}

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);

    int n, k;
    cin >> n >> k;
    vector<long long> segments(n);
    for (auto& length : segments) {
        cin >> length;
    }

    // Binary search on the answer: the minimal feasible maximum daily distance.
    long long low = *max_element(segments.begin(), segments.end());
    long long high = accumulate(segments.begin(), segments.end(), 0LL);
    while (low < high) {
        long long mid = low + (high - low) / 2;
        if (canFinish(segments, k, mid)) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }

    cout << low << '\n';
    return 0;
}
