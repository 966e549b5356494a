import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    h = list(map(int, data[1:1 + n]))
    h.append(0)  # a final zero-height building empties the stack
    # The stack holds indices of buildings with increasing heights. When building
    # i is lower than the top, the top cannot extend further right: its widest
    # banner spans from just after the next stack entry up to i - 1.
    stack = [-1]
    best = 0
    for i, x in enumerate(h):
        while len(stack) > 1 and h[stack[-1]] >= x:
            top = stack.pop()
            area = h[top] * (i - stack[-1] - 1)
            if area > best:
                best = area
        stack.append(i)
    print(best)


main()
