import sys
from bisect import bisect_right
from itertools import accumulate


def main() -> None:
    nums = sys.stdin.read().split()
    n, k = int(nums[0]), int(nums[1])
    pre = [0] + list(accumulate(int(t) for t in nums[2:2 + n]))

    def days_for(cap):
        pos, used = 0, 0
        while pos < n:
            # jump to the last camp reachable within cap
            pos = bisect_right(pre, pre[pos] + cap) - 1
            used += 1
            if used > k:
                break
        return used

    longest = max(pre[i + 1] - pre[i] for i in range(n))
    a, b = longest, pre[n]
    while a < b:
        c = (a + b) // 2
        if days_for(c) <= k:
            b = c
        else:
            a = c + 1
    print(a)


main()
